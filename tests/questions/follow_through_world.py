"""A round of conferences with recommendations referred to agencies and written answers
promised, for the follow-through tests; with what must never reach the public planted beside
them: an unpublished conference's referral, another round's, questions nobody approved or that
were rejected, askers who did not agree to be named."""

import datetime
from dataclasses import dataclass, field

from meetings.questions.models import Question
from meetings.questions.services import air, moderation
from meetings.rooms.services import halls
from meetings.rooms.services.meetings import meeting_publish
from tests.factories import Conference, make_round
from tests.questions.helpers import ask, open_conference

# (conference, hall, commune, district)
PLACES = {
    ("north", 0): ("Xã Bản Vược", "Huyện Bát Xát"),
    ("north", 1): ("Xã Bản Qua", "Huyện Bát Xát"),
    ("north", 2): ("Xã Cốc San", "Thành phố Lào Cai"),
    ("south", 0): ("Xã Phong Niên", "Huyện Bảo Thắng"),
    ("south", 1): ("Xã Xuân Quang", "Huyện Bảo Thắng"),
    ("south", 2): ("Xã Cốc San", "Thành phố Lào Cai"),
}
DUE = datetime.date(2027, 1, 31)
# Already past (this was written on 6 December 2026): the clinic's referral is overdue.
OVERDUE = datetime.date(2026, 12, 1)


@dataclass
class World:
    round: object
    conferences: dict[str, Conference]
    # Public referrals and written answers promised, by a short name.
    public: dict[str, Question] = field(default_factory=dict)
    # What must not be seen: texts and names.
    hidden_texts: list[str] = field(default_factory=list)
    hidden_names: list[str] = field(default_factory=list)


def answered(
    conference, text, *, hall, device, kind, topic, agency="", due=DUE, name="", named=False
):
    actor = conference.actor
    question = ask(
        conference,
        text,
        hall=conference.halls[hall],
        device=device,
        topic_code=topic,
        asker_name=name,
        asker_named_publicly=named,
    )
    question = moderation.question_approve(question=question, actor=actor)
    air.question_put_on_air(question=question, actor=actor)
    return air.question_answer(
        question=question,
        kind=kind,
        agency=agency,
        due_date=due,
        actor=actor,
        summary="Sẽ chuyển cơ quan có thẩm quyền",
    )


def build_world(*, extra_referrals: int = 0) -> World:
    round = make_round("lao-cai-theo-doi", title="Tiếp xúc cử tri tỉnh Lào Cai")
    conferences = {
        "north": open_conference("ln-north", round=round),
        "south": open_conference("ln-south", round=round),
        "draft": open_conference("ln-draft", round=round),
    }
    other = open_conference("other-round", round=make_round("yen-bai-2026"))
    for (name, index), (commune, district) in PLACES.items():
        conference = conferences[name]
        halls.hall_update(
            hall=conference.halls[index],
            commune=commune,
            district=district,
            actor=conference.actor,
        )
    world = World(round, conferences)
    north, south = conferences["north"], conferences["south"]
    world.public["road"] = answered(
        north,
        "Đường liên thôn Bản Vược xuống cấp",
        hall=0,
        device=1,
        kind="referred",
        topic="infrastructure",
        agency="Sở Giao thông vận tải",
        name="Lò Văn Sáng",
        named=True,
    )
    world.public["clinic"] = answered(
        north,
        "Trạm y tế Bản Qua thiếu bác sĩ",
        hall=1,
        device=2,
        kind="referred",
        topic="health",
        agency="Sở Y tế",
        due=OVERDUE,
        name="Giàng A Páo",
        named=False,
    )
    world.public["school"] = answered(
        south,
        "Trường bán trú Phong Niên thiếu phòng học",
        hall=0,
        device=3,
        kind="written",
        topic="education",
        name="Vàng Thị Mai",
        named=False,
    )
    world.public["water"] = answered(
        south,
        "Nước sạch cho Cốc San",
        hall=2,
        device=4,
        kind="referred",
        topic="infrastructure",
        agency="Sở Nông nghiệp và Môi trường",
    )
    for n in range(extra_referrals):
        world.public[f"extra{n}"] = answered(
            south,
            f"Kiến nghị bổ sung số {n}",
            hall=1,
            device=10 + n,
            kind="referred",
            topic="infrastructure",
            agency="UBND huyện Bảo Thắng",
        )
    world.hidden_names += ["Giàng A Páo", "Vàng Thị Mai"]
    # Answered live: no follow-up, but public (on the conference's page, not this one).
    live = answered(
        north,
        "Câu hỏi đã trả lời trực tiếp",
        hall=2,
        device=5,
        kind="live",
        topic="health",
        due=None,
    )
    world.hidden_texts.append(live.text)
    # Never approved, or rejected: never public.
    waiting = ask(north, "Câu hỏi chưa duyệt về Sở Y tế", device=6, hall=north.halls[0])
    rejected = ask(south, "Câu hỏi bị từ chối về đường", device=7, hall=south.halls[0])
    moderation.question_reject(question=rejected, reason="off_topic", actor=south.actor)
    world.hidden_texts += [waiting.text, rejected.text]
    # Referred, but its conference is not published; and another round's.
    for conference, text in (
        (conferences["draft"], "Kiến nghị của hội nghị chưa công bố"),
        (other, "Kiến nghị của đợt khác"),
    ):
        answered(
            conference, text, hall=0, device=8, kind="referred", topic="health", agency="Sở Y tế"
        )
        world.hidden_texts.append(text)
    for conference in (north, south, other):
        meeting_publish(meeting=conference.meeting, actor=conference.actor)
    return world
