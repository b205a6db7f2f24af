from django.db import models
from django.utils.translation import gettext_lazy as _


class BridgePoint(models.Model):
    """A hall linked into the conference (điểm cầu); exactly one per meeting is the studio
    (điểm cầu trung tâm), where the chair and the candidates sit."""

    meeting = models.ForeignKey(
        "rooms.Meeting",
        on_delete=models.PROTECT,
        related_name="bridge_points",
        verbose_name=_("conference"),
    )
    name = models.CharField(_("name"), max_length=200)
    is_studio = models.BooleanField(_("central studio"), default=False)
    address = models.CharField(_("address"), max_length=300, blank=True)
    commune = models.CharField(_("commune"), max_length=200, blank=True)
    district = models.CharField(_("district"), max_length=200, blank=True)
    operator_name = models.CharField(_("operator's name"), max_length=200, blank=True)
    operator_phone = models.CharField(_("operator's phone"), max_length=40, blank=True)
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    pinned_tier = models.CharField(
        _("pinned quality tier"),
        max_length=8,
        blank=True,
        help_text=_("Empty: the hub chooses by the link's quality."),
    )
    attendance = models.PositiveIntegerField(
        _("attendance"), null=True, blank=True, help_text=_("Voters present, entered on the day.")
    )

    class Meta:
        ordering = ["meeting", "-is_studio", "position", "id"]
        verbose_name = _("bridge point")
        verbose_name_plural = _("bridge points")
        constraints = [
            models.UniqueConstraint(
                fields=["meeting"],
                condition=models.Q(is_studio=True),
                name="one_studio_per_meeting",
                violation_error_message=_("A conference has exactly one central studio."),
            ),
            models.UniqueConstraint(fields=["meeting", "name"], name="unique_hall_name"),
        ]

    def __str__(self) -> str:
        return self.name


class KioskConnection(models.Model):
    """One open websocket of a hall's kiosk, so the dashboard can show which halls are linked.
    Only the screen that holds its hall (``KioskSession``) connects.

    Rows of a web node that died are reaped once their heartbeat is stale.
    """

    hall = models.ForeignKey(
        BridgePoint,
        on_delete=models.CASCADE,
        related_name="kiosk_connections",
        verbose_name=_("bridge point"),
    )
    channel_name = models.CharField(max_length=200, unique=True)
    opened_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()

    class Meta:
        verbose_name = _("kiosk connection")
        verbose_name_plural = _("kiosk connections")

    def __str__(self) -> str:
        return f"{self.hall_id}: {self.channel_name}"
