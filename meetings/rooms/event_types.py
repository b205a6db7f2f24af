"""Every type of entry the record holds, in one place: who may see it, whether it may be appended
after the conference ended, and what it means, in words for the public page.

``event_append`` (services/events.py) refuses a type that is not here, or an audience the type
does not have; and, once the conference has ended, a type whose ``after_end`` is False
(docs/record.md, "After the end: a closed record"). docs/protocol.md ("Event types") lists the
same types; tests/rooms/test_event_types.py keeps code, registry and docs in step.

A new type: add it here (for a question action, to ``QUESTION_ACTIONS``), with its Vietnamese
description in django.po, and a row in docs/protocol.md.
"""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from meetings.rooms.models import Audience

PUBLIC, STAFF = Audience.PUBLIC, Audience.STAFF


@dataclass(frozen=True)
class EventType:
    type: str
    audiences: frozenset[Audience]
    # Whether it may be appended once the conference has ended (or is archived).
    after_end: bool
    # What an entry of this type means, for a person reading the record.
    description: Promise


@dataclass(frozen=True)
class QuestionAction:
    """A question action appends ``question.<action>`` for staff and, when something public
    changed, ``public.<action>`` for everyone (questions/services/record.py ``announce``)."""

    staff: Promise
    # None: the action never changes anything public, so it has no public entry.
    public: Promise | None
    after_end: bool = False


QUESTION_ACTIONS: dict[str, QuestionAction] = {
    "submitted": QuestionAction(_("A question was received"), None),
    "approved": QuestionAction(
        _("A question was accepted into the queue"),
        _("A question was accepted into the queue"),
    ),
    "rejected": QuestionAction(
        _("A question was not accepted, with its reason"),
        _("A question was not accepted, with its reason"),
    ),
    "merged": QuestionAction(
        _("A question was merged into a similar one"),
        _("A question was merged into a similar one"),
    ),
    "unmerged": QuestionAction(
        _("A merged question was separated again"),
        _("A merged question was separated again"),
    ),
    "withdrawn": QuestionAction(
        _("A voter withdrew their question"), _("A voter withdrew their question")
    ),
    "edited": QuestionAction(
        _("A moderator corrected a question's wording"),
        _("A moderator corrected a question's wording"),
    ),
    "topic_set": QuestionAction(_("A question's topic was set"), _("A question's topic was set")),
    "addressed": QuestionAction(
        _("A question was addressed to a candidate"),
        _("A question was addressed to a candidate"),
    ),
    "on_air": QuestionAction(_("A question was put on air"), _("A question was put on air")),
    "returned": QuestionAction(
        _("A question went back to the queue"), _("A question went back to the queue")
    ),
    "answered": QuestionAction(_("A question was answered"), _("A question was answered")),
    "followed_up": QuestionAction(
        _("A written answer to a question was sent"),
        _("A written answer to a question was sent"),
        after_end=True,
    ),
    "due_date_moved": QuestionAction(
        _("The date a written answer is due was moved, with the reason"),
        _("The date a written answer is due was moved, with the reason"),
        after_end=True,
    ),
}


def _types() -> dict[str, EventType]:
    types: list[EventType] = []

    def add(type: str, audience: Audience, description: Promise, *, after_end: bool = False):
        types.append(EventType(type, frozenset({audience}), after_end, description))

    # The conference.
    add("meeting.created", PUBLIC, _("The conference was created"))
    add("meeting.updated", PUBLIC, _("The conference's details were changed"))
    add(
        "meeting.status_changed",
        PUBLIC,
        _("The conference moved to another status (for example, it ended or was archived)"),
        after_end=True,
    )
    add("meeting.questions_opened", PUBLIC, _("Voters' questions were opened"))
    add("meeting.questions_closed", PUBLIC, _("Voters' questions were closed"))
    add(
        "meeting.published",
        PUBLIC,
        _("The conference's page, record and minutes were made public"),
        after_end=True,
    )
    add(
        "meeting.unpublished",
        PUBLIC,
        _("The conference's page, record and minutes were made private again"),
        after_end=True,
    )
    # Halls.
    add("hall.added", PUBLIC, _("A hall was added"))
    add("hall.updated", PUBLIC, _("A hall's name or address was changed"))
    add("hall.contact_set", STAFF, _("A hall's operator contact was set"))
    add("hall.attendance_set", PUBLIC, _("A hall's attendance was entered"))
    add("hall.link_rotated", STAFF, _("A hall's link was replaced"))
    add("hall.connected", STAFF, _("A hall's kiosk connected"))
    add("hall.disconnected", STAFF, _("A hall's kiosk disconnected"))
    add("hall.tier_pinned", STAFF, _("A hall's video quality was fixed by the studio"))
    # Kiosk sessions.
    add("kiosk.session_started", STAFF, _("A screen opened a hall's operator link"))
    add("kiosk.session_resumed", STAFF, _("A hall's screen came back from another address"))
    add("kiosk.takeover_allowed", STAFF, _("A moderator let a screen take over a hall"))
    add("kiosk.session_ended", STAFF, _("A hall's screen session ended"))
    # Candidates and roles.
    add("candidate.added", PUBLIC, _("A candidate was added"))
    add("candidate.updated", PUBLIC, _("A candidate's details were changed"))
    add("role.granted", STAFF, _("An account was given a role"), after_end=True)
    add("role.revoked", STAFF, _("An account's role was taken away"), after_end=True)
    # The agenda.
    add("agenda.item_added", PUBLIC, _("An agenda item was added"))
    add("agenda.item_updated", PUBLIC, _("An agenda item was changed"))
    add("agenda.item_started", PUBLIC, _("An agenda item started"))
    add("agenda.item_ended", PUBLIC, _("An agenda item ended"))
    # Questions.
    add("topics.created", PUBLIC, _("Question topics were created"))
    for action, kind in QUESTION_ACTIONS.items():
        add(f"question.{action}", STAFF, kind.staff, after_end=kind.after_end)
        if kind.public is not None:
            add(f"public.{action}", PUBLIC, kind.public, after_end=kind.after_end)
    add("public.votes", PUBLIC, _("Vote counts of the questions were announced"))
    add("moderation.supports", STAFF, _("The questions' votes by hall were announced"))
    add("public.tally", PUBLIC, _("The halls' question counts were announced"))
    # The round's synthesis: an organiser links the same concern raised in several conferences.
    add(
        "concern.linked",
        STAFF,
        _("Questions were linked with the same concern raised in other conferences of the round"),
        after_end=True,
    )
    add(
        "concern.unlinked",
        STAFF,
        _("A question was unlinked from a concern raised in other conferences of the round"),
        after_end=True,
    )
    add("public.queue_reordered", PUBLIC, _("The order of the question queue was changed"))
    # The floor and the programme.
    add("floor.requested", PUBLIC, _("A hall asked for the floor"))
    add("floor.request_withdrawn", PUBLIC, _("A hall withdrew its request for the floor"))
    add("floor.granted", PUBLIC, _("A hall was given the floor"))
    add("floor.revoked", PUBLIC, _("A hall's floor ended"))
    add("programme.layout_set", PUBLIC, _("The broadcast's layout was changed"))
    # The recording: a part closes, and clips are cut, after the end of what they record.
    add("recording.part_started", STAFF, _("A part of the recording started"))
    add(
        "recording.part_closed",
        PUBLIC,
        _("A part of the recording was closed, with its checksum"),
        after_end=True,
    )
    add(
        "clip.ready",
        PUBLIC,
        _("The video clip of an answer was cut, with its checksum"),
        after_end=True,
    )
    registry = {}
    for kind in types:
        if kind.type in registry:
            raise RuntimeError(f"event type {kind.type} is listed twice")
        registry[kind.type] = kind
    return registry


EVENT_TYPES: dict[str, EventType] = _types()


def event_type(type: str) -> EventType:
    """The registered type; RuntimeError for one that is not registered (a bug in the caller)."""
    try:
        return EVENT_TYPES[type]
    except KeyError:
        raise RuntimeError(
            f"unknown event type {type!r}: add it to meetings/rooms/event_types.py"
        ) from None


def describe(type: str) -> str:
    """What an entry of this type means, in the active language. A type this version does not
    know (a record written by a newer one) is named as it is."""
    kind = EVENT_TYPES.get(type)
    if kind is None:
        return gettext("An entry of type %(type)s") % {"type": type}
    return str(kind.description)


def allowed_after_end() -> list[str]:
    """The types that may still be appended once the conference has ended, sorted."""
    return sorted(name for name, kind in EVENT_TYPES.items() if kind.after_end)
