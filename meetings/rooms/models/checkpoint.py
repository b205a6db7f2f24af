from django.db import models
from django.utils.translation import gettext_lazy as _


class CheckpointReason(models.TextChoices):
    """Why the platform signed a conference's head."""

    LIVE = "live", _("While live")
    ENDED = "ended", _("At the end")
    PUBLISHED = "published", _("At publication")
    AFTER_END = "after_end", _("After the end")


class RecordCheckpoint(models.Model):
    """A signed statement of a conference's record head: "the record of <slug> had <seq> entries
    and ended with <hash>", signed with the platform's Ed25519 key (meetings.rooms.checkpoints).

    Published so that observers can keep them: whoever holds one can later prove that the
    record still extends it (every entry after it links back to its hash), so truncating or
    rewriting the record, even by the database's owner, is caught. Append-only, like the
    record (database triggers, and the model)."""

    meeting = models.ForeignKey(
        "rooms.Meeting",
        on_delete=models.PROTECT,
        related_name="checkpoints",
        verbose_name=_("conference"),
    )
    seq = models.PositiveBigIntegerField(_("sequence number"))
    hash = models.CharField(_("hash"), max_length=64)
    reason = models.CharField(_("reason"), max_length=16, choices=CheckpointReason.choices)
    signed_at = models.DateTimeField(_("signed"))
    key_id = models.CharField(_("key id"), max_length=64)
    signature = models.CharField(_("signature"), max_length=128)

    class Meta:
        ordering = ["meeting", "seq", "pk"]
        verbose_name = _("signed checkpoint")
        verbose_name_plural = _("signed checkpoints")
        indexes = [models.Index(fields=["meeting", "seq"], name="checkpoint_meeting_seq")]

    def __str__(self) -> str:
        return f"{self.meeting_id}: #{self.seq} ({self.reason})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("Signed checkpoints are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Signed checkpoints are never deleted.")
