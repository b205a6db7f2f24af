from django.db import models
from django.utils.translation import gettext_lazy as _


class Topic(models.Model):
    """A topic (lĩnh vực) a question can be filed under; each conference has its own list."""

    meeting = models.ForeignKey(
        "rooms.Meeting",
        on_delete=models.PROTECT,
        related_name="topics",
        verbose_name=_("conference"),
    )
    code = models.SlugField(_("code"), max_length=40)
    label = models.CharField(_("name (Vietnamese)"), max_length=100)
    label_en = models.CharField(_("name (English)"), max_length=100, blank=True)
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["meeting", "position", "id"]
        verbose_name = _("topic")
        verbose_name_plural = _("topics")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "code"], name="unique_topic_code")
        ]

    def __str__(self) -> str:
        return self.label
