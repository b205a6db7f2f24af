from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QuestionsConfig(AppConfig):
    name = "meetings.questions"
    label = "questions"
    verbose_name = _("Voters' questions")

    def ready(self) -> None:
        # Adds the questions' sections to every snapshot, default topics to new meetings, and
        # the announcement of counts left pending to each web process's periodic round.
        from meetings.questions import state  # noqa: F401
        from meetings.questions.realtime import on_vote
        from meetings.questions.services import counts, topics  # noqa: F401
        from meetings.rooms.realtime.handlers import register_frame_handler

        # Votes come over the phones' websocket too.
        register_frame_handler("vote", on_vote)
