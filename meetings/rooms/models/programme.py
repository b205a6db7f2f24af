from django.db import models
from django.utils.translation import gettext_lazy as _


class ProgrammeLayout(models.TextChoices):
    STUDIO = "studio", _("Studio only")
    INSET = "inset", _("Studio with the hall inset")
    HALL = "hall", _("The hall full screen")
    SIDE_BY_SIDE = "side_by_side", _("Side by side")


class Programme(models.Model):
    """What every hall sees and hears: the layout chosen by the moderators and the hall that
    holds the floor (quyền phát biểu), if any. The media hub reads it from here."""

    meeting = models.OneToOneField(
        "rooms.Meeting", on_delete=models.PROTECT, primary_key=True, related_name="programme"
    )
    layout = models.CharField(
        _("layout"), max_length=16, choices=ProgrammeLayout.choices, default=ProgrammeLayout.INSET
    )
    floor_hall = models.ForeignKey(
        "rooms.BridgePoint",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("hall holding the floor"),
    )
    floor_granted_at = models.DateTimeField(null=True, blank=True)
    floor_until = models.DateTimeField(_("floor time ends"), null=True, blank=True)

    class Meta:
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")

    def __str__(self) -> str:
        return f"{self.meeting_id}: {self.layout}"


class FloorRequest(models.Model):
    """A hall's raised hand, waiting for the moderators."""

    hall = models.OneToOneField(
        "rooms.BridgePoint", on_delete=models.CASCADE, related_name="floor_request"
    )
    requested_at = models.DateTimeField()

    class Meta:
        ordering = ["requested_at"]
        verbose_name = _("floor request")
        verbose_name_plural = _("floor requests")

    def __str__(self) -> str:
        return f"{self.hall_id} at {self.requested_at}"
