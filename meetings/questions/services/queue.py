"""The order of the approved questions, and a fair suggestion for it."""

from collections import OrderedDict

from django.utils.translation import gettext as _

from meetings.questions.models import Question, QuestionStatus
from meetings.questions.services.moves import conflict
from meetings.rooms import patch
from meetings.rooms.actors import Actor
from meetings.rooms.errors import Conflict, Invalid
from meetings.rooms.models import Audience, Meeting
from meetings.rooms.services.events import event_append, record_write, refuse_after_end


def queue_order(meeting_id: int) -> list[int]:
    """The approved questions' ids, in queue order."""
    return list(
        Question.objects.filter(meeting_id=meeting_id, status=QuestionStatus.APPROVED)
        .order_by("position", "id")
        .values_list("pk", flat=True)
    )


def renumber(meeting_id: int, order: list[int]) -> dict[int, int]:
    """Give the approved questions places 1..n in ``order``; returns the places that changed."""
    current = dict(Question.objects.filter(pk__in=order).values_list("pk", "position"))
    changed = {}
    for place, pk in enumerate(order, start=1):
        if current.get(pk) != place:
            Question.objects.filter(pk=pk).update(position=place)
            changed[pk] = place
    return changed


def queue_move(*, question: Question, index: int, actor: Actor) -> list[int]:
    """Move an approved question to ``index`` (0 = next to go on air); the others close up.

    Relative to the queue as it is now, so two moderators reordering at once both take
    effect, one after the other."""
    with record_write(meeting=question.meeting):
        refuse_after_end(question.meeting)
        order = queue_order(question.meeting_id)
        if question.pk not in order:
            raise conflict(question.pk, _("Only questions waiting in the queue can be moved."))
        if not 0 <= index < len(order):
            raise Invalid(_("There is no such place in the queue."))
        order.remove(question.pk)
        order.insert(index, question.pk)
        _record_order(question.meeting, order, actor)
    return order


def queue_set_order(*, meeting: Meeting, order: list[int], actor: Actor) -> list[int]:
    """Put the whole queue in the given order (e.g. the round-robin suggestion). The ids must
    be exactly the questions waiting now; otherwise Conflict with the current order."""
    with record_write(meeting=meeting):
        refuse_after_end(meeting)
        current = queue_order(meeting.pk)
        if sorted(current) != sorted(order) or len(set(order)) != len(order):
            raise Conflict(
                _("The queue changed meanwhile; here is how it stands now."),
                detail={"order": current},
            )
        _record_order(meeting, order, actor)
    return order


def _record_order(meeting: Meeting, order: list[int], actor: Actor) -> None:
    changed = renumber(meeting.pk, order)
    if not changed:
        return
    event_append(
        meeting=meeting,
        type="public.queue_reordered",
        audience=Audience.PUBLIC,
        payload={
            "order": order,
            "patch": [
                patch.merge("questions", pk, value={"position": p}) for pk, p in changed.items()
            ],
        },
        actor=actor,
    )


def round_robin_order(meeting: Meeting) -> list[int]:
    """The waiting questions taken one hall at a time, in the halls' order, each hall's own
    questions keeping their current order. A suggestion: nothing changes until applied."""
    by_hall: OrderedDict[int, list[int]] = OrderedDict(
        (hall_id, []) for hall_id in meeting.bridge_points.values_list("pk", flat=True)
    )
    for pk, hall_id in (
        Question.objects.filter(meeting=meeting, status=QuestionStatus.APPROVED)
        .order_by("position", "id")
        .values_list("pk", "hall_id")
    ):
        by_hall[hall_id].append(pk)
    order = []
    while any(by_hall.values()):
        for queue in by_hall.values():
            if queue:
                order.append(queue.pop(0))
    return order
