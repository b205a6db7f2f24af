from django.db import models
from django.utils.translation import gettext_lazy as _


class IssuedDevice(models.Model):
    """A device id the server issued to a voter's phone (mã thiết bị của điện thoại cử tri):
    for which hall, and when. Kept to bound how many ids a hall is issued
    (services/devices.py); like the phone's questions and votes, it keeps only a keyed hash of
    the id, nothing that identifies the person."""

    hall = models.ForeignKey(
        "rooms.BridgePoint",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("bridge point"),
    )
    device_hash = models.CharField(max_length=64, unique=True)
    issued_at = models.DateTimeField(_("issued"))

    class Meta:
        verbose_name = _("phone's device id")
        verbose_name_plural = _("phones' device ids")
        indexes = [models.Index(fields=["hall", "issued_at"], name="issued_device_hall_time")]

    def __str__(self) -> str:
        return f"device of hall {self.hall_id} issued {self.issued_at:%Y-%m-%d %H:%M}"
