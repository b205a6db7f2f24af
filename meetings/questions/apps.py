from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QuestionsConfig(AppConfig):
    name = "meetings.questions"
    label = "questions"
    verbose_name = _("Voters' questions")

    def ready(self) -> None:
        # Adds the questions' sections to every snapshot, and default topics to new meetings.
        from meetings.questions import state  # noqa: F401
        from meetings.questions.services import topics  # noqa: F401
