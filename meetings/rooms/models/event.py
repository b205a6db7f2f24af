from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from meetings.rooms.actors import LABEL_MAX_LENGTH

GENESIS_HASH = "0" * 64


class Audience(models.TextChoices):
    """Who may see an event. Audiences nest: staff see everything, candidates see what halls
    see, halls see what the public sees."""

    PUBLIC = "public", _("Public")
    HALLS = "halls", _("Halls")
    CANDIDATES = "candidates", _("Candidates")
    STAFF = "staff", _("Staff")

    @property
    def rank(self) -> int:
        return _AUDIENCE_RANK[self]

    def sees(self, event_audience: str) -> bool:
        """Whether a viewer of this audience may see an event addressed to ``event_audience``."""
        return _AUDIENCE_RANK[Audience(event_audience)] <= self.rank

    def visible_audiences(self) -> list["Audience"]:
        return [audience for audience in Audience if self.sees(audience)]


_AUDIENCE_RANK = {
    Audience.PUBLIC: 0,
    Audience.HALLS: 1,
    Audience.CANDIDATES: 2,
    Audience.STAFF: 3,
}


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("The event log is append-only: rows are never updated.")

    def delete(self):
        raise TypeError("The event log is append-only: rows are never deleted.")


class Event(models.Model):
    """One row of a meeting's append-only, hash-chained record.

    Appended only by ``services.events.event_append`` inside the transaction of the change it
    records. ``hash`` is SHA-256 over a canonical encoding of the row and ``prev_hash``
    (``meetings.rooms.record``); a database trigger also refuses updates.
    """

    meeting = models.ForeignKey(
        "rooms.Meeting",
        on_delete=models.PROTECT,
        related_name="events",
        verbose_name=_("conference"),
    )
    seq = models.PositiveBigIntegerField(_("sequence number"))
    type = models.CharField(_("type"), max_length=64)
    audience = models.CharField(_("audience"), max_length=16, choices=Audience.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor account"),
    )
    actor_kind = models.CharField(_("actor kind"), max_length=16)
    actor_label = models.CharField(_("actor"), max_length=LABEL_MAX_LENGTH)
    payload = models.JSONField(_("payload"))
    # The secret that the entry's hash commits to its payload with (32 hex digits, 128 bits;
    # meetings.rooms.record): published only to those who may read the payload. Null for the
    # entries of format 1, which committed to the bare SHA-256 of their payload. Nullable, so
    # that SQLite adds the column in place and keeps the table's triggers.
    payload_salt = models.CharField(  # noqa: DJ001 (null means format 1, not "no salt")
        _("payload salt"), max_length=32, null=True, blank=True
    )
    created_at = models.DateTimeField(_("time"))
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["meeting", "seq"]
        verbose_name = _("record entry")
        verbose_name_plural = _("record entries")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "seq"], name="one_event_per_seq"),
        ]
        indexes = [models.Index(fields=["meeting", "audience", "seq"], name="event_audience_seq")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.type}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("The event log is append-only: rows are never updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("The event log is append-only: rows are never deleted.")


class EventLogHead(models.Model):
    """The head of a meeting's log: the lock every append takes, the last seq and hash, and the
    last seq per audience (so each stream can tell its clients which event came before)."""

    meeting = models.OneToOneField(
        "rooms.Meeting", on_delete=models.PROTECT, primary_key=True, related_name="log_head"
    )
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH)
    last_public = models.PositiveBigIntegerField(default=0)
    last_halls = models.PositiveBigIntegerField(default=0)
    last_candidates = models.PositiveBigIntegerField(default=0)
    last_staff = models.PositiveBigIntegerField(default=0)
    # When the head was last signed (meetings.rooms.checkpoints): read under the head's lock,
    # so a live conference decides whether to sign again without another query.
    checkpointed_at = models.DateTimeField(null=True, blank=True)
    # The conference has ended: from here on, only the types allowed after the end are
    # appended (rooms/event_types.py). Set by the entry that ends it, in the same update that
    # moves the head, and read with the head's lock, so a write never needs the meeting row
    # to know, and cannot miss an end that committed while it waited for the lock.
    closed = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("record head")
        verbose_name_plural = _("record heads")

    def __str__(self) -> str:
        return f"{self.meeting_id}: #{self.seq}"

    def last_visible_to(self, viewer_audience: Audience) -> int:
        """The seq of the newest event a viewer of this audience may see."""
        return max(
            getattr(self, f"last_{audience.value}")
            for audience in viewer_audience.visible_audiences()
        )
