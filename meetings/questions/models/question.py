from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

MAX_TEXT = 1000
MAX_NAME = 100


class QuestionSource(models.TextChoices):
    PHONE = "phone", _("Phone")
    PAPER = "paper", _("Paper, entered by the hall's clerk")
    FLOOR = "floor", _("Spoken from the floor")


class QuestionStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Awaiting moderation")
    APPROVED = "approved", _("Approved, in the queue")
    REJECTED = "rejected", _("Not accepted")
    MERGED = "merged", _("Merged with a similar question")
    WITHDRAWN = "withdrawn", _("Withdrawn by the voter")
    ON_AIR = "on_air", _("On air")
    ANSWERED = "answered", _("Answered")


# The statuses in which a question is shown to everyone (voters, halls, the public).
PUBLIC_STATUSES = frozenset(
    {QuestionStatus.APPROVED, QuestionStatus.ON_AIR, QuestionStatus.ANSWERED}
)


class RejectReason(models.TextChoices):
    OFF_TOPIC = "off_topic", _("Outside the conference's business")
    INAPPROPRIATE = "inappropriate", _("Offensive or inappropriate language")
    PERSONAL_DATA = "personal_data", _("Names or private details of other people")
    UNCLEAR = "unclear", _("Not clear enough to answer")
    ALREADY_ANSWERED = "already_answered", _("Already answered at this conference")
    OTHER = "other", _("Other reason")


class Question(models.Model):
    """A voter's question (câu hỏi, ý kiến của cử tri), from a phone, from paper handed in at a
    hall and typed by its clerk, or spoken from the floor.

    ``status`` changes only through the transition table (questions/transitions.py), by a
    conditional update, so two moderators acting at once cannot both win.
    """

    meeting = models.ForeignKey(
        "rooms.Meeting",
        on_delete=models.PROTECT,
        related_name="questions",
        verbose_name=_("conference"),
    )
    hall = models.ForeignKey(
        "rooms.BridgePoint",
        on_delete=models.PROTECT,
        related_name="questions",
        verbose_name=_("bridge point"),
    )
    source = models.CharField(_("came in by"), max_length=8, choices=QuestionSource.choices)
    client_id = models.UUIDField(
        _("client id"),
        help_text=_("Chosen by the sending device; a retry with it is the same question."),
    )
    text = models.TextField(_("text"), max_length=MAX_TEXT)
    original_text = models.TextField(_("text as submitted"), max_length=MAX_TEXT)
    # Kept for finding duplicates: lower case, no diacritics (questions/text.py).
    match_text = models.TextField(editable=False, default="")
    asker_name = models.CharField(_("asker's name"), max_length=MAX_NAME, blank=True)
    asker_group = models.CharField(
        _("residential group"),
        max_length=MAX_NAME,
        blank=True,
        help_text=_("The residential group (tổ dân phố) or village (thôn)."),
    )
    asker_named_publicly = models.BooleanField(
        _("asker agreed to be named publicly"), default=False
    )
    device_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("entered by"),
    )
    topic = models.ForeignKey(
        "questions.Topic",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="questions",
        verbose_name=_("topic"),
    )
    candidate = models.ForeignKey(
        "rooms.Candidate",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="questions",
        verbose_name=_("addressed to"),
    )
    status = models.CharField(
        _("status"), max_length=12, choices=QuestionStatus.choices, default=QuestionStatus.SUBMITTED
    )
    position = models.PositiveIntegerField(_("place in the queue"), null=True, blank=True)
    vote_count = models.PositiveIntegerField(_("votes"), default=0)
    # What the record has announced; votes are announced in batches (services/votes.py).
    votes_published = models.PositiveIntegerField(default=0, editable=False)
    # Its own votes by hall ({"<hall id>": count}) as last announced to staff, with the votes.
    supports_published = models.JSONField(default=dict, editable=False)
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_questions",
        verbose_name=_("merged into"),
    )
    status_before_merge = models.CharField(max_length=12, blank=True, editable=False)
    reject_reason = models.CharField(
        _("reason"), max_length=20, choices=RejectReason.choices, blank=True
    )
    reject_note = models.CharField(_("note to the voter"), max_length=500, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(_("received"), auto_now_add=True)
    on_air_at = models.DateTimeField(_("on air from"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        ordering = ["meeting", "created_at", "id"]
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "client_id"], name="one_question_per_client_id"
            ),
            models.UniqueConstraint(
                fields=["meeting"],
                condition=models.Q(status="on_air"),
                name="one_question_on_air",
                violation_error_message=_("Only one question can be on air at a time."),
            ),
        ]
        indexes = [models.Index(fields=["meeting", "status"], name="question_meeting_status")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.text[:60]}"

    @property
    def is_public(self) -> bool:
        return self.status in PUBLIC_STATUSES
