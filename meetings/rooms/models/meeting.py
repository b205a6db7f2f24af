from django.db import models
from django.utils.translation import gettext_lazy as _


class MeetingStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    LIVE = "live", _("Live")
    ENDED = "ended", _("Ended")
    ARCHIVED = "archived", _("Archived")


# The one table of allowed status moves; services.meetings applies it with a conditional update.
MEETING_TRANSITIONS: dict[str, frozenset[str]] = {
    MeetingStatus.DRAFT: frozenset({MeetingStatus.SCHEDULED}),
    MeetingStatus.SCHEDULED: frozenset({MeetingStatus.LIVE}),
    MeetingStatus.LIVE: frozenset({MeetingStatus.ENDED}),
    MeetingStatus.ENDED: frozenset({MeetingStatus.ARCHIVED}),
    MeetingStatus.ARCHIVED: frozenset(),
}


class Meeting(models.Model):
    """A voter contact conference (hội nghị tiếp xúc cử tri).

    The slug is public and part of every record hash, so it never changes once created.
    """

    slug = models.SlugField(_("public identifier"), max_length=64, unique=True)
    title = models.CharField(_("title"), max_length=200)
    electoral_unit = models.CharField(_("electoral unit"), max_length=200)
    scheduled_start = models.DateTimeField(_("scheduled start"))
    status = models.CharField(
        _("status"), max_length=16, choices=MeetingStatus.choices, default=MeetingStatus.DRAFT
    )
    presentation_minutes = models.PositiveSmallIntegerField(
        _("presentation time per candidate (minutes)"),
        default=10,
        help_text=_(
            "Every candidate gets the same allowance unless an agenda item says otherwise."
        ),
    )
    questions_open = models.BooleanField(
        _("accepting questions"),
        default=False,
        help_text=_(
            "Whether voters' questions are accepted now; the moderators open and close it."
        ),
    )
    published_at = models.DateTimeField(
        _("published"),
        null=True,
        blank=True,
        help_text=_("Once published by the chair, the meeting's page and archive are public."),
    )
    round = models.ForeignKey(
        "rooms.Round",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="meetings",
        verbose_name=_("round"),
        help_text=_("Set when the conference is created; its organisers see it."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-scheduled_start", "title"]
        verbose_name = _("conference")
        verbose_name_plural = _("conferences")

    def __str__(self) -> str:
        return self.title

    @property
    def studio(self):
        return self.bridge_points.get(is_studio=True)
