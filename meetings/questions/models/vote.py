from django.db import models
from django.utils.translation import gettext_lazy as _


class Vote(models.Model):
    """One device's support for an approved question; a device votes once per question."""

    question = models.ForeignKey(
        "questions.Question",
        on_delete=models.PROTECT,
        related_name="votes",
        verbose_name=_("question"),
    )
    device_hash = models.CharField(max_length=64)
    # The hall whose phone voted, from its signed device id: moderators see supports by hall.
    # Empty for votes stored before device ids named their hall.
    hall = models.ForeignKey(
        "rooms.BridgePoint",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        db_index=False,  # read only grouped by question, whose index the unique constraint has
        related_name="+",
        verbose_name=_("bridge point"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("vote")
        verbose_name_plural = _("votes")
        constraints = [
            models.UniqueConstraint(fields=["question", "device_hash"], name="one_vote_per_device")
        ]

    def __str__(self) -> str:
        return f"vote for #{self.question_id}"
