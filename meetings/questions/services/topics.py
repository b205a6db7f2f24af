"""The topics a conference files questions under."""

from django.dispatch import receiver

from meetings.questions.models import Topic
from meetings.questions.state import topic_view
from meetings.rooms import patch
from meetings.rooms.actors import Actor
from meetings.rooms.models import Audience, Meeting
from meetings.rooms.services.events import event_append, record_write
from meetings.rooms.signals import meeting_created

# Vietnamese first: the names voters read; English for the English screens.
DEFAULT_TOPICS = [
    ("land", "Đất đai, nhà ở", "Land and housing"),
    ("social_welfare", "An sinh xã hội, chính sách", "Social welfare"),
    ("infrastructure", "Hạ tầng, giao thông", "Infrastructure and roads"),
    ("health", "Y tế", "Health"),
    ("education", "Giáo dục", "Education"),
    ("environment", "Môi trường", "Environment"),
    ("security", "An ninh, trật tự", "Public order and safety"),
    ("economy", "Kinh tế, việc làm", "Economy and jobs"),
    ("other", "Khác", "Other"),
]


def topics_ensure_defaults(*, meeting: Meeting, actor: Actor) -> list[Topic]:
    """Give a conference the default topics, once."""
    with record_write(meeting=meeting):
        if meeting.topics.exists():
            return list(meeting.topics.all())
        topics = [
            Topic.objects.create(
                meeting=meeting, code=code, label=label, label_en=label_en, position=i
            )
            for i, (code, label, label_en) in enumerate(DEFAULT_TOPICS)
        ]
        event_append(
            meeting=meeting,
            type="topics.created",
            audience=Audience.PUBLIC,
            payload={
                "topics": [t.code for t in topics],
                "patch": [patch.merge("topics", t.code, value=topic_view(t)) for t in topics],
            },
            actor=actor,
        )
    return topics


@receiver(meeting_created)
def _give_new_meetings_default_topics(sender, *, meeting: Meeting, actor: Actor, **kwargs) -> None:
    topics_ensure_defaults(meeting=meeting, actor=actor)
