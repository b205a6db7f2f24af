"""What each websocket receives while a queue is run: staff everything, voters and halls only
what is public."""

import pytest
from channels.db import database_sync_to_async

from meetings.questions.services import air, moderation
from meetings.rooms.models import JoinLinkKind
from tests.questions.helpers import ask, open_conference
from tests.realtime import open_live

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def run_moderation(conference):
    actor = conference.actor
    secret = ask(conference, "Câu hỏi chưa duyệt của bà Mai", asker_name="Bà Lò Thị Mai", device=1)
    shown = ask(conference, "Đề nghị sửa cầu treo", asker_name="Ông Hạng A Lử", device=2)
    named = ask(
        conference,
        "Trường học thiếu phòng",
        asker_name="Chị Vàng Thị Dợ",
        asker_named_publicly=True,
        device=3,
    )
    rejected = ask(conference, "Lời lẽ không phù hợp xyz", device=4)
    moderation.question_approve(question=shown, actor=actor)
    moderation.question_approve(question=named, actor=actor)
    moderation.question_reject(
        question=rejected, reason="inappropriate", note="ghi chú riêng", actor=actor
    )
    air.question_put_on_air(question=shown, actor=actor)
    return secret, shown, named, rejected


async def test_voters_never_receive_unapproved_questions_or_askers_names_staff_do():
    conference = await database_sync_to_async(open_conference)()
    voter_link = await database_sync_to_async(conference.token)(
        conference.halls[1], JoinLinkKind.VOTER
    )
    kiosk_link = await database_sync_to_async(conference.token)(
        conference.halls[0], JoinLinkKind.OPERATOR
    )
    voter, _ = await open_live("hn-test", link=voter_link)
    kiosk, _ = await open_live("hn-test", link=kiosk_link)
    candidate, _ = await open_live("hn-test", user=conference.candidate_user)
    chair, _ = await open_live("hn-test", user=conference.chair)
    *_, rejected = await run_moderation(conference)

    def on_air(frame):
        return frame["type"] == "event" and frame["event"]["type"] == "public.on_air"

    for socket in (voter, kiosk, candidate, chair):
        await socket.receive_until(on_air)
        await socket.send({"type": "ping"})
        await socket.receive_type("pong")

    for socket in (voter, kiosk, candidate):
        seen = str(socket.frames)
        assert "Câu hỏi chưa duyệt" not in seen
        assert "Bà Lò Thị Mai" not in seen and "Ông Hạng A Lử" not in seen
        assert "Lời lẽ không phù hợp" not in seen and "ghi chú riêng" not in seen
        assert "Đề nghị sửa cầu treo" in seen  # approved: public
        assert "Chị Vàng Thị Dợ" in seen  # chose to be named
        assert not any(t.startswith("question.") for t in socket.event_types())
        # Voters still learn what became of every question, by id: their own page needs it.
        rejections = [f for f in socket.events() if f["event"]["type"] == "public.rejected"]
        assert rejections[0]["event"]["payload"]["question"] == rejected.pk
        assert rejections[0]["event"]["payload"]["reason"] == "inappropriate"

    staff_seen = str(chair.frames)
    for text in ("Câu hỏi chưa duyệt", "Bà Lò Thị Mai", "Ông Hạng A Lử", "ghi chú riêng"):
        assert text in staff_seen
    for socket in (voter, kiosk, candidate, chair):
        await socket.close()


async def test_counts_a_dead_node_left_unannounced_are_announced_by_a_web_process(settings):
    """A vote committed on a node that died before its announcement timer fired: a process
    serving the conference announces it in its next round."""
    from meetings.questions.models import Question

    settings.HEARTBEAT_SECONDS = 1
    conference = await database_sync_to_async(open_conference)()
    question = await database_sync_to_async(ask)(conference, "Đề nghị làm đường", device=1)
    await database_sync_to_async(moderation.question_approve)(
        question=question, actor=conference.actor
    )
    voter_link = await database_sync_to_async(conference.token)(
        conference.halls[1], JoinLinkKind.VOTER
    )
    voter, snapshot = await open_live(conference.meeting.slug, link=voter_link)
    assert snapshot["state"]["questions"][str(question.pk)]["votes"] == 0
    await database_sync_to_async(Question.objects.filter(pk=question.pk).update)(vote_count=3)
    announced = await voter.receive_until(
        lambda f: f["type"] == "event" and f["event"]["type"] == "public.votes", timeout=10
    )
    assert announced["event"]["payload"]["votes"] == {str(question.pk): 3}
    await voter.close()


async def test_a_phone_votes_over_its_websocket_once_per_question():
    from tests.questions.helpers import phone

    conference = await database_sync_to_async(open_conference)()
    queued = await database_sync_to_async(ask)(conference, "Đề nghị làm đường", device=1)
    await database_sync_to_async(moderation.question_approve)(
        question=queued, actor=conference.actor
    )
    pending = await database_sync_to_async(ask)(conference, "Câu hỏi chưa duyệt", device=2)
    voter_link = await database_sync_to_async(conference.token)(
        conference.halls[1], JoinLinkKind.VOTER
    )
    voter, _snapshot = await open_live(conference.meeting.slug, link=voter_link)
    mine = await database_sync_to_async(phone)(conference, 7, hall=conference.halls[1])
    another_halls = await database_sync_to_async(phone)(conference, 7, hall=conference.halls[0])

    await voter.send({"type": "vote", "question": queued.pk, "device": mine, "id": "v1"})
    assert await voter.receive_type("voted") == {
        "type": "voted",
        "id": "v1",
        "question": queued.pk,
        "voted": True,
    }
    await voter.send({"type": "vote", "question": queued.pk, "device": mine, "id": "v2"})
    assert (await voter.receive_type("voted"))["voted"] is False  # once per phone
    announced = await voter.receive_until(
        lambda f: f["type"] == "event" and f["event"]["type"] == "public.votes", timeout=10
    )
    assert announced["event"]["payload"]["votes"] == {str(queued.pk): 1}

    # Refusals name the frame they refuse, and change nothing.
    for frame, code in (
        ({"question": pending.pk, "device": mine}, "conflict"),
        ({"question": 10**9, "device": mine}, "not_found"),
        ({"question": queued.pk, "device": "not-a-phone"}, "unknown_device"),
        ({"question": queued.pk, "device": another_halls}, "unknown_device"),
        (
            {"question": queued.pk, "device": mine[:-1] + ("A" if mine[-1] != "A" else "B")},
            "unknown_device",
        ),
    ):
        await voter.send({"type": "vote", "id": "r", **frame})
        refusal = await voter.receive_type("error")
        assert (refusal["code"], refusal["id"]) == (code, "r"), refusal
    await voter.close()

    kiosk_link = await database_sync_to_async(conference.token)(
        conference.halls[1], JoinLinkKind.OPERATOR
    )
    kiosk, _snapshot = await open_live(conference.meeting.slug, link=kiosk_link)
    await kiosk.send({"type": "vote", "question": queued.pk, "device": mine, "id": "k"})
    refusal = await kiosk.receive_type("error")
    assert (refusal["code"], refusal["id"]) == ("forbidden", "k")
    await kiosk.close()
    from meetings.questions.models import Question

    count = await database_sync_to_async(lambda: Question.objects.get(pk=queued.pk).vote_count)()
    assert count == 1
