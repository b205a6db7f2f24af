"""Request and response bodies of the questions API."""

import datetime
import uuid
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from meetings.rooms.ids import Id, Version


class QuestionIn(Schema):
    client_id: uuid.UUID = Field(
        description="Made by the sending device; sending again with it returns the same question."
    )
    text: str = Field(max_length=4000, description="1 to 1,000 characters once tidied.")
    topic: str | None = Field(None, max_length=40)
    candidate_id: Id | None = None
    asker_name: str = Field("", max_length=200)
    asker_group: str = Field("", max_length=200)
    named_publicly: bool = False
    source: Literal["phone", "paper", "floor"] | None = Field(
        None,
        description="Phones send phone; a hall's kiosk sends paper (the default); moderators "
        "send floor or paper with hall_id.",
    )
    hall_id: Id | None = Field(None, description="Moderators only: the hall it came from.")


class MyQuestionOut(Schema):
    """A question as the phone that sent it sees it."""

    id: int
    client_id: uuid.UUID
    text: str
    status: str
    topic: str | None
    candidate_id: int | None
    reject_reason: str | None
    reject_note: str
    merged_into: int | None = Field(
        description="Merged: the question it joined, or the one that question joined in turn "
        "(the end of the chain of merges, whose answer is this one's)."
    )
    merged_into_status: str | None = Field(
        description="Merged: the status of the question named by merged_into."
    )
    created_at: str


class SubmissionOut(Schema):
    created: bool
    question: MyQuestionOut | None = Field(
        description="Null when the client id was used by another device."
    )


class VersionIn(Schema):
    expected_version: Version | None = Field(
        None, description="The version the moderator saw; 409 if it changed meanwhile."
    )


class RejectIn(VersionIn):
    reason: Literal[
        "off_topic", "inappropriate", "personal_data", "unclear", "already_answered", "other"
    ]
    note: str = Field("", max_length=1000)


class MergeIn(VersionIn):
    into: Id


class EditIn(VersionIn):
    text: str = Field(max_length=4000)


class TopicIn(VersionIn):
    topic: str | None = Field(None, max_length=40)


class AddressIn(VersionIn):
    candidate_id: Id | None = None


class AnswerIn(VersionIn):
    kind: Literal["live", "written", "referred"]
    summary: str = Field("", max_length=4000)
    due_date: datetime.date | None = None
    agency: str = Field("", max_length=400)
    candidate_id: Id | None = None


class WrittenAnswerIn(Schema):
    text: str = Field(max_length=20_000)
    answered_by: str = Field("", max_length=400)
    received_on: datetime.date | None = None


class DueDateIn(Schema):
    due_date: datetime.date
    reason: str = Field(max_length=1000)


class MoveIn(Schema):
    index: int = Field(ge=0, le=100_000)


class OrderIn(Schema):
    order: list[Id] = Field(max_length=10_000)


class OrderOut(Schema):
    order: list[int]


class IntakeIn(Schema):
    open: bool


class DeviceOut(Schema):
    device: str = Field(description="The phone's device id: keep it, send it as X-Device-Id.")
    hall: int = Field(description="The hall it was issued for; it counts only there.")


class VoteOut(Schema):
    question: int
    voted: bool = Field(description="False if this phone had already supported it.")


class SimilarOut(Schema):
    id: int
    score: int
    text: str
    hall_id: int
    status: str


class QuestionListOut(Schema):
    questions: list[dict[str, Any]]
