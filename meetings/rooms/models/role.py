from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    CHAIR = "chair", _("Chair")
    SECRETARY = "secretary", _("Secretary")
    CANDIDATE = "candidate", _("Candidate")
    BRIDGE_OPERATOR = "bridge_operator", _("Bridge-point operator")
    OBSERVER = "observer", _("Observer")


MODERATOR_ROLES = frozenset({Role.CHAIR, Role.SECRETARY})


class RoleGrant(models.Model):
    """What a user may do in one conference. A user may hold several grants."""

    meeting = models.ForeignKey(
        "rooms.Meeting",
        on_delete=models.CASCADE,
        related_name="grants",
        verbose_name=_("conference"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="meeting_grants",
        verbose_name=_("account"),
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    hall = models.ForeignKey(
        "rooms.BridgePoint",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="grants",
        verbose_name=_("bridge point"),
        help_text=_("Only for bridge-point operators."),
    )
    candidate = models.ForeignKey(
        "rooms.Candidate",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="grants",
        verbose_name=_("candidate"),
        help_text=_("Only for the candidate role: which candidate this account is."),
    )
    granted_at = models.DateTimeField(_("granted"), auto_now_add=True)

    class Meta:
        verbose_name = _("role grant")
        verbose_name_plural = _("role grants")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "user", "role"], name="one_grant_per_role"),
            models.CheckConstraint(
                condition=models.Q(role="bridge_operator", hall__isnull=False)
                | (~models.Q(role="bridge_operator") & models.Q(hall__isnull=True)),
                name="operator_grant_names_its_hall",
                violation_error_message=_("A bridge-point operator grant names exactly one hall."),
            ),
            models.CheckConstraint(
                condition=models.Q(role="candidate", candidate__isnull=False)
                | (~models.Q(role="candidate") & models.Q(candidate__isnull=True)),
                name="candidate_grant_names_its_candidate",
                violation_error_message=_("A candidate grant names exactly one candidate."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()}"
