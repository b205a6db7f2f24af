"""A round like Lào Cai's imported from its spreadsheet and run through the services, with
several conferences live at once: the tests of the synthesis (test_synthesis*.py) and its
benchmark (bench/synthesis) use it.

Every conference opens, takes questions from phones and from paper, approves, merges a
duplicate, rejects one, has one withdrawn and one left unmoderated, puts questions on air and
answers them live, in writing (with a due date) or by referral to an agency, files them under
topics, and ends. Two concerns are planted across conferences: the same suspension bridge in
conferences 1, 5 and 8, referred to the transport department under three spellings; the same
shortage at the commune health stations in conferences 2, 3, 10 and 13."""

import datetime
import time
import uuid
from dataclasses import dataclass, field

from meetings.questions.devices import device_read, device_sign
from meetings.questions.models import Question, QuestionSource
from meetings.questions.services import air, followups, merge, moderation
from meetings.questions.services.submit import question_submit
from meetings.rooms.actors import Actor
from meetings.rooms.models import MeetingStatus, Round
from meetings.rooms.round_import import round_import
from meetings.rooms.services import halls as hall_services
from meetings.rooms.services.meetings import meeting_set_questions_open, meeting_transition
from tests.factories import make_user
from tests.rounds.spreadsheets import lao_cai, workbook

BRIDGE = [
    "Cầu treo bản Nậm Cang bị hư hỏng nặng, đề nghị sửa chữa sớm để người dân đi lại an toàn.",
    "Đề nghị sửa chữa sớm cầu treo bản Nậm Cang bị hư hỏng nặng, người dân đi lại không an toàn.",
    "Cầu treo bản Nậm Cang hư hỏng nặng, đề nghị sớm sửa chữa cho người dân đi lại an toàn!",
]
BRIDGE_AGENCIES = ["Sở Giao thông vận tải", "sở giao thông vận tải.", "SỞ GIAO THÔNG VẬN TẢI"]
HEALTH = [
    "Trạm y tế xã thiếu thuốc và thiếu bác sĩ, đề nghị tỉnh bổ sung cho trạm y tế.",
    "Đề nghị tỉnh bổ sung bác sĩ và thuốc cho trạm y tế xã, hiện trạm y tế thiếu.",
    "Trạm y tế xã đang thiếu bác sĩ, thiếu thuốc, đề nghị tỉnh bổ sung trạm y tế.",
    "Trạm y tế xã thiếu bác sĩ và thuốc, đề nghị tỉnh sớm bổ sung cho trạm y tế xã.",
]
# Conference index (0-based) -> the planted question's text.
PLANTED = {
    "bridge": {0: BRIDGE[0], 4: BRIDGE[1], 7: BRIDGE[2]},
    "health": {1: HEALTH[0], 2: HEALTH[1], 9: HEALTH[2], 12: HEALTH[3]},
}
# Questions of one conference, each about something else (distinct words across the list).
FILLERS = [
    ("land", "Việc cấp giấy chứng nhận quyền sử dụng đất ở thôn {n} còn chậm, kéo dài nhiều năm."),
    ("education", "Phòng học của điểm trường mầm non số {n} xuống cấp, mái dột khi trời mưa."),
    ("environment", "Bãi rác tự phát cạnh suối gây ô nhiễm nguồn nước sinh hoạt ở khu {n}."),
    ("social_welfare", "Chế độ trợ cấp cho người cao tuổi neo đơn ở tổ {n} chi trả không đều."),
    ("economy", "Thanh niên xóm {n} thiếu việc làm, mong có lớp dạy nghề và vay vốn ưu đãi."),
    ("security", "Tình trạng trộm cắp gia súc ban đêm tại bản {n} tăng, cần tuần tra nhiều hơn."),
    ("infrastructure", "Lưới điện hạ thế thôn {n} chập chờn, điện yếu vào giờ cao điểm buổi tối."),
    ("other", "Sóng điện thoại và internet ở vùng cao khu {n} rất yếu, khó học trực tuyến."),
    ("land", "Bồi thường giải phóng mặt bằng dự án đường tránh qua xóm {n} chưa thỏa đáng."),
    ("health", "Bảo hiểm y tế cho hộ cận nghèo ở thôn {n} hết hạn nhưng chưa được cấp lại."),
]
AGENCIES = ["Sở Tài nguyên và Môi trường", "UBND huyện", "Sở Lao động - Thương binh và Xã hội"]


@dataclass
class Conf:
    meeting: object
    halls: list
    questions: list[Question] = field(default_factory=list)


@dataclass
class RunRound:
    round: Round
    organiser: object
    conferences: list[Conf]
    planted: dict[str, list[int]]  # concern -> the planted questions' ids
    merged: dict[int, int]  # a merged duplicate's id -> the id it was merged into
    expected: dict[str, int] = field(default_factory=dict)


_devices = iter(range(10**9))


def submit(meeting, hall, text, *, topic=None, paper=False) -> Question:
    device = None
    if not paper:
        token = device_sign(
            meeting_id=meeting.pk,
            hall_id=hall.pk,
            nonce=f"syn{next(_devices)}",
            issued_at=int(time.time()) - 86400,
        )
        device = device_read(token, meeting_id=meeting.pk, hall_id=hall.pk)
    return question_submit(
        meeting=meeting,
        hall=hall,
        source=QuestionSource.PAPER if paper else QuestionSource.PHONE,
        client_id=uuid.uuid4(),
        text=text,
        topic_code=topic,
        device=device,
        actor=Actor.for_operator_link(hall) if paper else Actor.for_voter(hall),
    ).question


def import_round(conferences: int = 14, halls: int = 150, candidates: int = 92) -> Round:
    admin = make_user("round_admin", is_staff=True, is_superuser=True)
    summary = round_import(
        name="round.xlsx",
        data=workbook(lao_cai(conferences, halls, candidates)),
        actor=Actor.for_user(admin),
    )
    return summary.round


def run_round(fillers: int = 4, *, conferences: int = 14) -> RunRound:
    """``fillers``: the questions of each conference besides the planted ones and the few that
    are merged, rejected, withdrawn or left unmoderated."""
    from meetings.rooms.services.rounds import round_organiser_grant

    round = import_round(conferences)
    chair = make_user("round_chair", first_name="Lê Văn", last_name="An")
    actor = Actor.for_user(chair)
    organiser = make_user("round_organiser", first_name="Hoàng Thị", last_name="Mai")
    round_organiser_grant(round=round, user=organiser, actor=actor)
    confs = [
        Conf(meeting, list(meeting.bridge_points.all()))
        for meeting in round.meetings.order_by("slug")
    ]
    confs.sort(key=lambda c: int(c.meeting.slug.rsplit("-", 1)[1]))
    # Every conference live at once.
    for conf in confs:
        for status in (MeetingStatus.SCHEDULED, MeetingStatus.LIVE):
            meeting_transition(meeting=conf.meeting, to_status=status, actor=actor)
        meeting_set_questions_open(meeting=conf.meeting, open=True, actor=actor)
        conf.meeting.refresh_from_db()
        for n, hall in enumerate(conf.halls):
            hall_services.hall_set_attendance(hall=hall, count=30 + n, actor=actor)
    planted: dict[str, list[int]] = {"bridge": [], "health": []}
    merged: dict[int, int] = {}
    # Round-robin: each step in every conference before the next step anywhere.
    taken: dict[int, list[tuple[Question, str, str]]] = {i: [] for i in range(len(confs))}
    for i, conf in enumerate(confs):
        hall_at = lambda k, conf=conf: conf.halls[k % len(conf.halls)]  # noqa: E731
        for concern, texts in PLANTED.items():
            if i in texts:
                topic = "infrastructure" if concern == "bridge" else "health"
                q = submit(conf.meeting, hall_at(1), texts[i], topic=topic)
                planted[concern].append(q.pk)
                taken[i].append((q, concern, topic))
        for k in range(fillers):
            topic, text = FILLERS[(i + k) % len(FILLERS)]
            q = submit(
                conf.meeting,
                hall_at(k + 2),
                text.format(n=f"{i + 1}.{k + 1}"),
                topic=topic,
                paper=k == 1,
            )
            taken[i].append((q, "", topic))
    for i, conf in enumerate(confs):
        for q, _concern, _topic in taken[i]:
            conf.questions.append(moderation.question_approve(question=q, actor=actor))
        # A duplicate from another hall, merged into the conference's first question.
        first = conf.questions[0]
        dup = submit(conf.meeting, conf.halls[-1], first.text + " Rất mong được quan tâm.")
        merge.question_merge(question=dup, into=first, actor=actor)
        merged[dup.pk] = first.pk
        off = submit(conf.meeting, conf.halls[0], "Xin hỏi kết quả xổ số hôm qua?")
        moderation.question_reject(question=off, reason="off_topic", actor=actor)
        gone_hall = conf.halls[2 % len(conf.halls)]
        gone = submit(conf.meeting, gone_hall, "Tôi hỏi nhầm, xin rút lại câu hỏi này.")
        moderation.question_withdraw(question=gone, device_hash=gone.device_hash, actor=actor)
        submit(conf.meeting, conf.halls[0], f"Câu hỏi gửi muộn của hội nghị {i + 1}, chưa kịp xét.")
    due = datetime.date(2026, 6, 30)
    for i, conf in enumerate(confs):
        candidates = list(conf.meeting.candidates.all())
        # The last question approved is not reached: it stays in the queue.
        for k, q in enumerate(conf.questions[:-1]):
            air.question_put_on_air(question=q, actor=actor)
            concern = next((c for c, ids in planted.items() if q.pk in ids), "")
            if concern == "bridge":
                kind, extra = (
                    "referred",
                    {"agency": BRIDGE_AGENCIES[planted["bridge"].index(q.pk)], "due_date": due},
                )
            elif concern == "health":
                kind, extra = "written", {"due_date": due}
            else:
                kind, extra = [
                    ("live", {}),
                    ("written", {"due_date": due}),
                    ("referred", {"agency": AGENCIES[(i + k) % len(AGENCIES)], "due_date": due}),
                ][(i + k) % 3]
            air.question_answer(
                question=q,
                kind=kind,
                summary=f"Trả lời câu {q.pk}",
                candidate_id=candidates[k % len(candidates)].pk if candidates else None,
                actor=actor,
                **extra,
            )
    for conf in confs:
        meeting_transition(meeting=conf.meeting, to_status=MeetingStatus.ENDED, actor=actor)
        conf.meeting.refresh_from_db()
    # A written answer arrives after the end.
    first_health = Question.objects.get(pk=planted["health"][0])
    followups.answer_attach_written(
        question=first_health, text="Sở Y tế đã điều động 2 bác sĩ về trạm.", actor=actor
    )
    return RunRound(round, organiser, confs, planted, merged)
