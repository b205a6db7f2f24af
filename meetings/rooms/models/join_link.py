from django.db import models
from django.utils.translation import gettext_lazy as _


class JoinLinkKind(models.TextChoices):
    OPERATOR = "operator", _("Operator (kiosk)")
    VOTER = "voter", _("Voter (phone)")


class JoinLink(models.Model):
    """A link that admits one hall of one meeting without an account.

    The URL carries a signed token naming this row and its nonce; the row decides whether the
    link still works, so rotating (revoking and issuing a new one) stops the old link at once.
    """

    hall = models.ForeignKey(
        "rooms.BridgePoint",
        on_delete=models.CASCADE,
        related_name="links",
        verbose_name=_("bridge point"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=JoinLinkKind.choices)
    nonce = models.CharField(max_length=32)
    created_at = models.DateTimeField(_("created"))
    expires_at = models.DateTimeField(_("expires"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("join link")
        verbose_name_plural = _("join links")
        constraints = [
            models.UniqueConstraint(
                fields=["hall", "kind"],
                condition=models.Q(revoked_at__isnull=True),
                name="one_active_link_per_hall_and_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.hall} – {self.get_kind_display()}"
