"""Builders for tests. They go through the services, as the product does, so every object a
test makes is on the record like a real one."""

from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from meetings.rooms.actors import Actor
from meetings.rooms.models import (
    BridgePoint,
    Candidate,
    JoinLinkKind,
    Meeting,
    MeetingStatus,
    Role,
    Round,
)
from meetings.rooms.services import candidates, halls, kiosk_sessions, meetings, roles
from meetings.rooms.services.join_links import join_link_active, join_link_token

# Tokens of the kiosk sessions tests made, by their digest (the server keeps only the digest):
# the same hall's screen is then the same screen across a test's sockets and requests.
_SCREEN_TOKENS: dict[str, str] = {}


KIOSK_USER_AGENT = "pytest kiosk"  # the browser of the tests' kiosk screens


def hold_hall(hall: BridgePoint) -> str:
    """The token of the screen that holds ``hall``, as the kiosk page gets it when it opens the
    operator link (services/kiosk_sessions.py): the screen a test made before, or a new one
    that takes the hall if it is free."""
    holder = hall.kiosk_sessions.filter(state="holding").first()
    if holder is not None:
        if holder.token_hash not in _SCREEN_TOKENS:
            raise AssertionError(f"hall {hall.pk} is held by a screen this test did not make")
        return _SCREEN_TOKENS[holder.token_hash]
    claim = kiosk_sessions.kiosk_session_claim(
        hall=hall, token=None, user_agent=KIOSK_USER_AGENT, address="127.0.0.1"
    )
    assert claim.session.state == "holding", "the hall was not free"
    _SCREEN_TOKENS[kiosk_sessions.token_digest(claim.token)] = claim.token
    return claim.token


def screen_token_for_link(link_token: str) -> str | None:
    """For a hall's operator link, the token of the screen holding its hall (made if none);
    None for any other link."""
    from meetings.rooms.services.join_links import JoinLinkRefused, join_link_resolve

    try:
        link = join_link_resolve(link_token)
    except JoinLinkRefused:
        return None
    if link.kind != JoinLinkKind.OPERATOR:
        return None
    return hold_hall(BridgePoint.objects.select_related("meeting").get(pk=link.hall_id))


def make_user(username: str, **extra):
    return get_user_model().objects.create_user(
        username=username, password="pw-" + username, **extra
    )


@dataclass
class Conference:
    meeting: Meeting
    chair: object
    secretary: object
    observer: object
    candidate_user: object
    operator_user: object
    studio: BridgePoint
    halls: list[BridgePoint]
    candidates: list[Candidate]
    users: dict = field(default_factory=dict)

    @property
    def actor(self) -> Actor:
        return Actor.for_user(self.chair)

    def token(self, hall: BridgePoint, kind: JoinLinkKind) -> str:
        return join_link_token(join_link_active(hall=hall, kind=kind))

    def kiosk_headers(self, hall: BridgePoint) -> dict[str, str]:
        """What the hall's kiosk sends with each API call: its operator link and the session
        with which it holds the hall."""
        return {
            "X-Join-Link": self.token(hall, JoinLinkKind.OPERATOR),
            "X-Kiosk-Session": hold_hall(hall),
        }

    def refresh(self) -> None:
        self.meeting.refresh_from_db()


def make_conference(
    slug: str = "hn-test",
    *,
    hall_count: int = 3,
    status: str = MeetingStatus.LIVE,
    round: Round | None = None,
) -> Conference:
    """A conference with a studio, ``hall_count`` halls, two candidates and one account per role;
    in ``round`` if given."""
    prefix = slug.replace("-", "_")
    chair = make_user(f"{prefix}_chair", first_name="Lê Văn", last_name="An")
    actor = Actor.for_user(chair)
    meeting = meetings.meeting_create(
        slug=slug,
        title="Hội nghị tiếp xúc cử tri",
        electoral_unit="Đơn vị bầu cử số 1",
        scheduled_start=timezone.now() + timedelta(hours=1),
        studio_name="Điểm cầu trung tâm",
        round=round,
        actor=actor,
    )
    made_halls = [
        halls.hall_add(meeting=meeting, name=f"Nhà văn hóa số {n}", actor=actor)
        for n in range(1, hall_count + 1)
    ]
    made_candidates = [
        candidates.candidate_add(meeting=meeting, name=name, actor=actor)
        for name in ("Nguyễn Thị Hồng", "Trần Văn Minh")
    ]
    secretary = make_user(f"{prefix}_secretary")
    observer = make_user(f"{prefix}_observer")
    candidate_user = make_user(f"{prefix}_candidate")
    operator_user = make_user(f"{prefix}_operator")
    roles.role_grant(meeting=meeting, user=chair, role=Role.CHAIR, actor=actor)
    roles.role_grant(meeting=meeting, user=secretary, role=Role.SECRETARY, actor=actor)
    roles.role_grant(meeting=meeting, user=observer, role=Role.OBSERVER, actor=actor)
    roles.role_grant(
        meeting=meeting,
        user=candidate_user,
        role=Role.CANDIDATE,
        candidate=made_candidates[0],
        actor=actor,
    )
    roles.role_grant(
        meeting=meeting,
        user=operator_user,
        role=Role.BRIDGE_OPERATOR,
        hall=made_halls[0],
        actor=actor,
    )
    for target in _path_to(status):
        meetings.meeting_transition(meeting=meeting, to_status=target, actor=actor)
    meeting.refresh_from_db()
    return Conference(
        meeting=meeting,
        chair=chair,
        secretary=secretary,
        observer=observer,
        candidate_user=candidate_user,
        operator_user=operator_user,
        studio=meeting.bridge_points.get(is_studio=True),
        halls=made_halls,
        candidates=made_candidates,
    )


def _path_to(status: str) -> list[str]:
    order = [s.value for s in MeetingStatus]
    return order[1 : order.index(status) + 1]


def make_round(slug: str = "dot-1", **fields) -> Round:
    from datetime import date

    from meetings.rooms.services.rounds import round_create

    values = {
        "title": "Tiếp xúc cử tri trước bầu cử",
        "election": "Bầu cử đại biểu HĐND tỉnh",
        "level": "province",
        "starts_on": date(2020, 1, 1),
        "ends_on": date(2040, 12, 31),
        **fields,
    }
    return round_create(slug=slug, **values)
