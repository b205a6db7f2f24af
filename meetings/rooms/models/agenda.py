from django.db import models
from django.utils.translation import gettext_lazy as _


class AgendaItemKind(models.TextChoices):
    OPENING = "opening", _("Opening")
    PRESENTATION = "presentation", _("Candidate's presentation")
    QUESTIONS = "questions", _("Voters' questions")
    CLOSING = "closing", _("Closing")
    OTHER = "other", _("Other")


class AgendaItem(models.Model):
    """One item of the conference's running order (chương trình hội nghị)."""

    meeting = models.ForeignKey(
        "rooms.Meeting",
        on_delete=models.PROTECT,
        related_name="agenda",
        verbose_name=_("conference"),
    )
    position = models.PositiveSmallIntegerField(_("order"))
    kind = models.CharField(_("kind"), max_length=16, choices=AgendaItemKind.choices)
    title = models.CharField(_("title"), max_length=200)
    candidate = models.ForeignKey(
        "rooms.Candidate",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="agenda_items",
        verbose_name=_("candidate"),
    )
    allowance_seconds = models.PositiveIntegerField(_("time allowance (seconds)"), default=0)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)

    class Meta:
        ordering = ["meeting", "position", "id"]
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda items")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="presentation", candidate__isnull=False)
                | ~models.Q(kind="presentation"),
                name="presentation_names_its_candidate",
                violation_error_message=_("A presentation belongs to a candidate."),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_running(self) -> bool:
        return self.started_at is not None and self.ended_at is None
