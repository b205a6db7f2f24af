from django.db import models
from django.utils.translation import gettext_lazy as _


class RecordingStatus(models.TextChoices):
    RECORDING = "recording", _("Recording")
    COMPLETE = "complete", _("Complete")
    INTERRUPTED = "interrupted", _("Interrupted (the hub stopped without closing it)")


class Recording(models.Model):
    """One part of a meeting's programme recording: a WebM file remuxed from the encoded
    high-tier packets. A hub that restarts starts a new part; parts are numbered in order."""

    meeting = models.ForeignKey(
        "rooms.Meeting",
        on_delete=models.PROTECT,
        related_name="recordings",
        verbose_name=_("conference"),
    )
    part = models.PositiveIntegerField(_("part"))
    file = models.CharField(_("file"), max_length=300, help_text=_("Relative to MEDIA_ROOT."))
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=RecordingStatus.choices,
        default=RecordingStatus.RECORDING,
    )
    started_at = models.DateTimeField(_("started"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    seconds = models.FloatField(_("length (s)"), null=True, blank=True)
    size = models.PositiveBigIntegerField(_("size (bytes)"), null=True, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)

    class Meta:
        ordering = ["meeting", "part"]
        verbose_name = _("recording part")
        verbose_name_plural = _("recording parts")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "part"], name="one_recording_per_part")
        ]

    def __str__(self) -> str:
        return f"{self.meeting_id} part {self.part}"


class ClipStatus(models.TextChoices):
    OPEN = "open", _("On air")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Could not be cut")


class Clip(models.Model):
    """An answer's clip: the programme from the moment its question went on air to the moment
    it was marked answered, cut from a recording part by stream copy."""

    meeting = models.ForeignKey("rooms.Meeting", on_delete=models.PROTECT, related_name="clips")
    question = models.ForeignKey(
        "questions.Question", on_delete=models.PROTECT, related_name="clips"
    )
    recording = models.ForeignKey(Recording, on_delete=models.PROTECT, related_name="clips")
    start_seconds = models.FloatField(_("from (s into the part)"))
    end_seconds = models.FloatField(_("to (s into the part)"), null=True, blank=True)
    status = models.CharField(max_length=8, choices=ClipStatus.choices, default=ClipStatus.OPEN)
    file = models.CharField(max_length=300, blank=True)
    seconds = models.FloatField(null=True, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["meeting", "created_at"]
        verbose_name = _("answer clip")
        verbose_name_plural = _("answer clips")

    def __str__(self) -> str:
        return f"clip of question {self.question_id}"
