from django.db import models
from django.utils.translation import gettext_lazy as _


class AnnouncedTally(models.Model):
    """One hall's question counts as the record last announced them (``public.tally``).

    Counts are announced in batches (services/counts.py), so snapshots show these, exactly as
    they show the announced votes (``Question.votes_published``). The truth is always counted
    from the questions themselves (``state.meeting_tally``): the public page, the API and the
    minutes read that.
    """

    hall = models.OneToOneField(
        "rooms.BridgePoint",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="announced_tally",
        verbose_name=_("bridge point"),
    )
    meeting = models.ForeignKey(
        "rooms.Meeting", on_delete=models.CASCADE, related_name="+", verbose_name=_("conference")
    )
    counts = models.JSONField(_("counts"))

    class Meta:
        verbose_name = _("announced tally")
        verbose_name_plural = _("announced tallies")

    def __str__(self) -> str:
        return f"{self.hall_id}: {self.counts.get('received', 0)} received"
