from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class KioskSessionState(models.TextChoices):
    HOLDING = "holding", _("Holds the hall")
    ASKING = "asking", _("Asks to take over")
    ENDED = "ended", _("Ended")


class KioskEndReason(models.TextChoices):
    TAKEN_OVER = "taken_over", _("Another screen took over")
    ENDED_BY_STAFF = "ended_by_staff", _("Ended by the studio")
    REFUSED = "refused", _("Refused by the studio")
    LINK_ROTATED = "link_rotated", _("The operator link was replaced")
    GONE = "gone", _("Stopped asking")


# Ends decided by the studio: the same device asks (rather than takes a free hall) next time.
DECIDED_BY_STAFF = frozenset(
    {KioskEndReason.TAKEN_OVER, KioskEndReason.ENDED_BY_STAFF, KioskEndReason.REFUSED}
)


class KioskSession(models.Model):
    """One screen (màn hình điểm cầu: a browser on a hall's PC) that opened the hall's operator
    link. It holds the hall, asks to take it over from the screen that does, or has ended.

    At most one session holds a hall: the hall's kiosk actions, its camera on the programme and
    its picture on the moderators' grid come only from that screen. The device keeps the
    session's secret token (only its SHA-256 is stored) and presents it with every call.
    """

    hall = models.ForeignKey(
        "rooms.BridgePoint",
        on_delete=models.CASCADE,
        related_name="kiosk_sessions",
        verbose_name=_("bridge point"),
    )
    token_hash = models.CharField(max_length=64, unique=True)
    state = models.CharField(_("state"), max_length=8, choices=KioskSessionState.choices)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)
    address = models.CharField(_("network address"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("opened"))
    since = models.DateTimeField(_("in this state since"))
    last_seen_at = models.DateTimeField(_("last seen"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ended by"),
    )
    end_reason = models.CharField(
        _("why it ended"), max_length=16, choices=KioskEndReason.choices, blank=True
    )

    class Meta:
        ordering = ["hall", "created_at", "id"]
        verbose_name = _("kiosk session")
        verbose_name_plural = _("kiosk sessions")
        constraints = [
            models.UniqueConstraint(
                fields=["hall"],
                condition=models.Q(state="holding"),
                name="one_holding_screen_per_hall",
                violation_error_message=_("Only one screen holds a hall."),
            ),
            models.CheckConstraint(
                condition=models.Q(state="ended", ended_at__isnull=False)
                | (~models.Q(state="ended") & models.Q(ended_at__isnull=True, end_reason="")),
                name="ended_screen_says_when",
            ),
        ]
        indexes = [models.Index(fields=["hall", "state"], name="kiosk_session_hall_state")]

    def __str__(self) -> str:
        return f"{self.hall_id}: {self.state} #{self.pk}"
