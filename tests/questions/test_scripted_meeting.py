"""A meeting of 100 questions across three halls, run to the end through the API as the
screens do it; then the record verifies and the public tally adds up."""

import random
import uuid
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from meetings.questions.models import Question
from meetings.rooms.models import Audience, JoinLinkKind
from meetings.rooms.state import meeting_snapshot
from tests.questions.helpers import open_conference, phone

pytestmark = pytest.mark.django_db

TOPICS = ["land", "health", "education", "infrastructure", "social_welfare", "other"]
PHRASES = [
    "Bao giờ sửa đường liên thôn {n}?",
    "Trạm y tế xã {n} thiếu bác sĩ",
    "Đề nghị xây thêm phòng học cho trường {n}",
    "Giá điện tăng ảnh hưởng hộ nghèo thôn {n}",
    "Cấp giấy chứng nhận quyền sử dụng đất chậm ở tổ {n}",
]


def test_a_hundred_questions_from_three_halls(settings):
    settings.QUESTION_LIMIT_PER_DEVICE = "100/600"
    settings.QUESTION_LIMIT_PER_HALL = "1000/60"
    rng = random.Random(20261125)
    conference = open_conference("hn-100")
    halls = conference.halls
    phones = {
        hall.pk: Client(headers={"X-Join-Link": conference.token(hall, JoinLinkKind.VOTER)})
        for hall in halls
    }
    chair = Client()
    chair.force_login(conference.chair)
    chair.get("/meetings/")
    chair.defaults["HTTP_X_CSRFTOKEN"] = chair.cookies["csrftoken"].value

    def post(client, path, body=None, **headers):
        response = client.post(
            f"/api/meetings/hn-100/{path}",
            body or {},
            content_type="application/json",
            headers=headers,
        )
        assert response.status_code < 300, (path, response.status_code, response.content[:300])
        return response.json()

    ids = []
    for n in range(100):
        hall = halls[n % 3]
        body = {
            "client_id": str(uuid.uuid4()),
            "text": rng.choice(PHRASES).format(n=n % 17),
            "topic": rng.choice(TOPICS),
            "asker_name": f"Cử tri {n}" if n % 4 == 0 else "",
        }
        device = phone(conference, n % 25, hall=hall)
        response = post(phones[hall.pk], "questions", body, **{"X-Device-Id": device})
        ids.append(response["question"]["id"])

    outcomes = {"approve": 0, "reject": 0, "merge": 0, "edit": 0, "answer": 0}
    approved: list[int] = []
    for qid in ids:
        roll = rng.random()
        if roll < 0.15:
            post(
                chair,
                f"questions/{qid}/reject",
                {"reason": rng.choice(["off_topic", "unclear", "inappropriate"])},
            )
            outcomes["reject"] += 1
        elif roll < 0.30 and approved:
            post(chair, f"questions/{qid}/merge", {"into": rng.choice(approved)})
            outcomes["merge"] += 1
        else:
            if roll < 0.40:
                post(chair, f"questions/{qid}/edit", {"text": f"(đã biên tập) câu hỏi {qid}"})
                outcomes["edit"] += 1
            post(chair, f"questions/{qid}/approve")
            approved.append(qid)
            outcomes["approve"] += 1
    for index, qid in enumerate(approved[:40]):
        post(chair, f"questions/{qid}/on-air")
        kind = ["live", "written", "referred"][index % 3]
        body = {"kind": kind, "summary": f"Trả lời {qid}"}
        if kind in ("written", "referred"):
            body["due_date"] = "2026-12-31"
        if kind == "referred":
            body["agency"] = "UBND huyện"
        post(chair, f"questions/{qid}/answer", body)
        outcomes["answer"] += 1
    assert all(outcomes.values())

    out = StringIO()
    call_command("verify_record", "hn-100", stdout=out)
    assert "intact" in out.getvalue()

    _seq, public = meeting_snapshot(conference.meeting, Audience.PUBLIC)
    tally = public["tally"]
    assert sum(t["received"] for t in tally.values()) == 100
    for counts in tally.values():
        assert counts["received"] == (
            counts["pending"]
            + counts["approved"]
            + counts["merged"]
            + counts["withdrawn"]
            + counts["rejected"]
        )
    assert sum(t["rejected"] for t in tally.values()) == outcomes["reject"]
    assert sum(t["merged"] for t in tally.values()) == outcomes["merge"]
    assert sum(t["answered"] for t in tally.values()) == outcomes["answer"]
    assert sum(t["approved"] for t in tally.values()) == outcomes["approve"]
    assert Question.objects.filter(meeting=conference.meeting).count() == 100
    public_ids = {int(k) for k in public["questions"]}
    assert public_ids == set(
        Question.objects.filter(
            meeting=conference.meeting, status__in=["approved", "on_air", "answered"]
        ).values_list("pk", flat=True)
    )
