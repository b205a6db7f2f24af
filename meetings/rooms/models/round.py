from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class RoundLevel(models.TextChoices):
    PROVINCE = "province", _("Province")
    DISTRICT = "district", _("District")
    COMMUNE = "commune", _("Commune")


class Round(models.Model):
    """A round of voter contact conferences (đợt tiếp xúc cử tri): one election, one level of
    people's council or the National Assembly, a range of dates, and its conferences."""

    slug = models.SlugField(_("identifier"), max_length=64, unique=True)
    title = models.CharField(_("title"), max_length=200)
    election = models.CharField(_("election"), max_length=200)
    level = models.CharField(_("level"), max_length=16, choices=RoundLevel.choices)
    starts_on = models.DateField(_("first day"))
    ends_on = models.DateField(_("last day"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-starts_on", "title"]
        verbose_name = _("round of conferences")
        verbose_name_plural = _("rounds of conferences")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="round_ends_after_it_starts",
                violation_error_message=_("A round cannot end before it starts."),
            )
        ]

    def __str__(self) -> str:
        return self.title


class RoundGrant(models.Model):
    """An organiser of a round (người tổ chức): sees every conference of the round as an
    observer does, and acts in none of them."""

    round = models.ForeignKey(
        Round, on_delete=models.CASCADE, related_name="grants", verbose_name=_("round")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="round_grants",
        verbose_name=_("account"),
    )
    granted_at = models.DateTimeField(_("granted"), auto_now_add=True)

    class Meta:
        verbose_name = _("organiser")
        verbose_name_plural = _("organisers")
        constraints = [
            models.UniqueConstraint(fields=["round", "user"], name="one_grant_per_round")
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.round}"
