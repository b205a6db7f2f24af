from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Concern(models.Model):
    """The same concern raised in several conferences of a round (cùng một ý kiến, kiến nghị
    của cử tri ở nhiều hội nghị): its questions, linked by an organiser of the round, usually
    on the platform's suggestion (questions/synthesis/similar.py). The synthesis reports it
    once, with every conference and hall that raised it (docs/rounds.md, "The synthesis")."""

    round = models.ForeignKey(
        "rooms.Round", on_delete=models.PROTECT, related_name="concerns", verbose_name=_("round")
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("confirmed by"),
    )
    confirmed_at = models.DateTimeField(_("confirmed"))

    class Meta:
        ordering = ["round", "pk"]
        verbose_name = _("concern raised in several conferences")
        verbose_name_plural = _("concerns raised in several conferences")

    def __str__(self) -> str:
        return f"concern {self.pk} of {self.round_id}"


class ConcernMember(models.Model):
    """A question of one of the round's conferences, in a concern: a question is in one
    concern at most."""

    concern = models.ForeignKey(
        Concern, on_delete=models.CASCADE, related_name="members", verbose_name=_("concern")
    )
    question = models.OneToOneField(
        "questions.Question",
        on_delete=models.PROTECT,
        related_name="concern_member",
        verbose_name=_("question"),
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    added_at = models.DateTimeField(_("linked"))

    class Meta:
        ordering = ["concern", "question"]
        verbose_name = _("question of a concern")
        verbose_name_plural = _("questions of a concern")

    def __str__(self) -> str:
        return f"#{self.question_id} in concern {self.concern_id}"


class DismissedSuggestion(models.Model):
    """Two questions an organiser said are not the same concern: not suggested again. The
    pair is kept in order (``low`` < ``high``); it changes nothing in either conference, so it
    is on no record."""

    round = models.ForeignKey(
        "rooms.Round", on_delete=models.CASCADE, related_name="+", verbose_name=_("round")
    )
    low = models.ForeignKey("questions.Question", on_delete=models.CASCADE, related_name="+")
    high = models.ForeignKey("questions.Question", on_delete=models.CASCADE, related_name="+")
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    dismissed_at = models.DateTimeField(_("dismissed"))

    class Meta:
        verbose_name = _("dismissed suggestion")
        verbose_name_plural = _("dismissed suggestions")
        constraints = [
            models.UniqueConstraint(fields=["low", "high"], name="one_dismissal_per_pair"),
            models.CheckConstraint(
                condition=models.Q(low__lt=models.F("high")), name="dismissed_pair_in_order"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.low_id} ≠ #{self.high_id}"
