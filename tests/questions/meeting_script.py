"""A small conference run to its end through the services, for the minutes and the public
page: attendance, presentations, questions approved, merged, rejected, answered three ways,
a written answer attached."""

import datetime

from meetings.questions.services import air, followups, merge, moderation
from meetings.rooms.services import agenda, halls
from tests.questions.helpers import ask, open_conference

QUESTIONS = [
    (0, "Đường liên thôn bản Công xuống cấp, khi nào sửa?", "infrastructure", "Lò Văn Sáng", True),
    (1, "Trạm y tế xã thiếu bác sĩ, đề nghị bổ sung.", "health", "Giàng A Páo", False),
    (2, "Đề nghị tăng hỗ trợ tiền ăn cho học sinh bán trú.", "education", "", False),
]


def run_meeting(slug: str = "hn-minutes"):
    conference = open_conference(slug)
    actor = conference.actor
    for hall, count in zip([conference.studio, *conference.halls], (40, 120, 85, 64), strict=True):
        halls.hall_set_attendance(hall=hall, count=count, actor=actor)
    items = agenda.agenda_build_default(meeting=conference.meeting, actor=actor)
    agenda.agenda_item_start(item=items[1], actor=actor)
    agenda.agenda_item_end(item=items[1], actor=actor)
    asked = []
    for index, (hall, text, topic, name, public) in enumerate(QUESTIONS):
        question = ask(
            conference,
            text,
            hall=conference.halls[hall],
            device=index + 1,
            topic_code=topic,
            asker_name=name,
            asker_named_publicly=public,
        )
        asked.append(moderation.question_approve(question=question, actor=actor))
    duplicate = ask(conference, "Bao giờ sửa đường bản Công?", hall=conference.halls[2], device=9)
    merge.question_merge(question=duplicate, into=asked[0], actor=actor)
    off_topic = ask(conference, "Không liên quan", hall=conference.halls[1], device=10)
    moderation.question_reject(question=off_topic, reason="off_topic", actor=actor)
    kinds = [
        ("written", {"due_date": datetime.date(2026, 12, 31)}),
        ("live", {}),
        ("referred", {"agency": "Sở Giáo dục và Đào tạo", "due_date": datetime.date(2027, 1, 31)}),
    ]
    for question, (kind, extra), candidate in zip(asked, kinds, [1, 0, 0], strict=True):
        moderation.question_address(
            question=question, candidate_id=conference.candidates[candidate].pk, actor=actor
        )
        air.question_put_on_air(question=question, actor=actor)
        air.question_answer(
            question=question,
            kind=kind,
            summary=f"Tóm tắt trả lời {question.pk}",
            actor=actor,
            **extra,
        )
    followups.answer_attach_written(
        question=asked[0],
        text="UBND huyện đã bố trí vốn sửa đường trong quý I năm 2027.",
        actor=actor,
    )
    return conference, asked
