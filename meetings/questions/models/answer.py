from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AnswerKind(models.TextChoices):
    LIVE = "live", _("Answered at the conference")
    WRITTEN = "written", _("Written answer to follow")
    REFERRED = "referred", _("Referred to an agency")


class Answer(models.Model):
    """How a candidate answered a question that was on air (trả lời của ứng cử viên)."""

    question = models.OneToOneField(
        "questions.Question",
        on_delete=models.PROTECT,
        related_name="answer",
        verbose_name=_("question"),
    )
    candidate = models.ForeignKey(
        "rooms.Candidate",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="answers",
        verbose_name=_("answered by"),
    )
    kind = models.CharField(_("how it was answered"), max_length=10, choices=AnswerKind.choices)
    summary = models.TextField(_("summary"), max_length=2000, blank=True)
    due_date = models.DateField(_("written answer due by"), null=True, blank=True)
    agency = models.CharField(_("referred to"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    # The follow-up: the written answer (or the agency's reply), attached later by a secretary.
    written_answer = models.TextField(_("written answer"), max_length=10_000, blank=True)
    written_answer_at = models.DateTimeField(_("written answer attached"), null=True, blank=True)
    written_answer_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Who answered for the agency (a person or an office), and the day the answer was received;
    # the day defaults to the day it was recorded (docs/rounds.md, "Follow-through in public").
    written_answer_from = models.CharField(
        _("answered for the agency by"), max_length=200, blank=True
    )
    written_answer_received = models.DateField(
        _("written answer received on"), null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind="written") | models.Q(due_date__isnull=False),
                name="written_answer_has_due_date",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="referred") | ~models.Q(agency=""),
                name="referral_names_agency",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="referred") | models.Q(due_date__isnull=False),
                name="referral_has_due_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.question_id}"
