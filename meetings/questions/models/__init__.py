"""Voters' questions: their topics, the questions themselves, votes and answers."""

from meetings.questions.models.answer import Answer, AnswerKind
from meetings.questions.models.concern import Concern, ConcernMember, DismissedSuggestion
from meetings.questions.models.device import IssuedDevice
from meetings.questions.models.question import (
    PUBLIC_STATUSES,
    Question,
    QuestionSource,
    QuestionStatus,
    RejectReason,
)
from meetings.questions.models.tally import AnnouncedTally
from meetings.questions.models.topic import Topic
from meetings.questions.models.vote import Vote

__all__ = [
    "PUBLIC_STATUSES",
    "AnnouncedTally",
    "Answer",
    "AnswerKind",
    "Concern",
    "ConcernMember",
    "DismissedSuggestion",
    "IssuedDevice",
    "Question",
    "QuestionSource",
    "QuestionStatus",
    "RejectReason",
    "Topic",
    "Vote",
]
