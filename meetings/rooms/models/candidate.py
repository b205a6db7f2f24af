from django.db import models
from django.utils.translation import gettext_lazy as _


class Candidate(models.Model):
    """A candidate (ứng cử viên) standing at one conference."""

    meeting = models.ForeignKey(
        "rooms.Meeting",
        on_delete=models.PROTECT,
        related_name="candidates",
        verbose_name=_("conference"),
    )
    name = models.CharField(_("full name"), max_length=200)
    current_position = models.CharField(_("current position"), max_length=300, blank=True)
    bio = models.TextField(_("short biography"), max_length=2000, blank=True)
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["meeting", "position", "id"]
        verbose_name = _("candidate")
        verbose_name_plural = _("candidates")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "name"], name="unique_candidate_name")
        ]

    def __str__(self) -> str:
        return self.name
