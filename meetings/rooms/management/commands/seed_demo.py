import json
import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from meetings.questions.minutes.export import FORMATS
from meetings.questions.services.topics import topics_ensure_defaults
from meetings.rooms.actors import Actor
from meetings.rooms.models import JoinLinkKind, Meeting, MeetingStatus, Role, Round, RoundLevel
from meetings.rooms.services import agenda, candidates, halls, meetings, roles, rounds
from meetings.rooms.services.join_links import join_link_active, join_link_token

DEMO_SLUG = "demo"
DEMO_ROUND_SLUG = "demo-round"
HALLS = [  # name, address, commune, district
    (
        "Nhà văn hóa tổ dân phố 5, phường Hòa Bình",
        "Số 12 đường Lê Lợi, phường Hòa Bình",
        "Phường Hòa Bình",
        "Thành phố Yên Bái",
    ),
    (
        "Hội trường UBND xã Tà Xùa",
        "Trung tâm xã Tà Xùa, huyện Bắc Yên",
        "Xã Tà Xùa",
        "Huyện Bắc Yên",
    ),
    ("Nhà văn hóa thôn Bản Công", "Thôn Bản Công, xã Trạm Tấu", "Xã Trạm Tấu", "Huyện Trạm Tấu"),
]
CANDIDATES = [
    (
        "candidate1",
        "Nguyễn Thị Hồng Nhung",
        "Phó Giám đốc Sở Y tế",
        "Bác sĩ chuyên khoa II, 18 năm công tác ở tuyến huyện.",
    ),
    (
        "candidate2",
        "Trần Văn Minh",
        "Bí thư Đảng ủy xã Tà Xùa",
        "Kỹ sư nông nghiệp, người dân tộc Mông, sinh ra và lớn lên ở Tà Xùa.",
    ),
]


class Command(BaseCommand):
    help = (
        "Build a demo conference (studio, three halls, two candidates, a chair) "
        "and print every screen's URL."
    )

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")
        parser.add_argument("--password", help="the chair's password (default: a new random one)")
        parser.add_argument("--json", action="store_true", help="print the URLs as JSON")

    def handle(self, *args, base_url: str, password: str | None, json: bool, **options):
        password = password or secrets.token_urlsafe(9)
        with transaction.atomic():
            # The demo chair also administers the platform, to try the set-up pages.
            chair = _account("chair", "Lê Văn An", password, administrator=True)
            accounts = [_account(username, name, password) for username, name, *_ in CANDIDATES]
            round = Round.objects.filter(slug=DEMO_ROUND_SLUG).first() or _round()
            meeting = Meeting.objects.filter(slug=DEMO_SLUG).first() or _build(
                chair, accounts, round
            )
            topics_ensure_defaults(meeting=meeting, actor=Actor.for_user(chair))
        urls = _urls(meeting, round, base_url.rstrip("/"))
        if json:
            self.stdout.write(_json({"username": "chair", "password": password, **urls}))
            return
        out = self.stdout.write
        out(f"Demo conference: {meeting.title}")
        out(f"  chair account (also administrator): chair / {password}")
        out(f"  candidate accounts: candidate1, candidate2 / {password}")
        out("")
        screens = _screens(urls)
        width = max(len(label) for label, _url in screens) + 2  # the URLs in one column
        for label, url in screens:
            out(f"  {label + ':':<{width}}{url}")
        for hall in urls["halls"]:
            out(f"  {hall['name']}:")
            for label, key in (("kiosk (operator)", "kiosk"), ("voter phone page", "phone")):
                out(f"    {label + ':':<{width - 2}}{hall[key]}")
            out(f"    {'A4 poster:':<{width - 2}}{hall['poster']}")


def _screens(urls: dict) -> list[tuple[str, str]]:
    """Every screen but a hall's, in the order of the README's table."""
    return [
        ("sign in", urls["login"]),
        ("conferences", urls["meetings"]),
        ("dashboard", urls["dashboard"]),
        ("question queue", urls["queue"]),
        ("candidate console", urls["candidate"]),
        ("follow-ups", urls["follow_ups"]),
        ("halls and floor", urls["halls_console"]),
        ("archive", urls["archive"]),
        ("public page (staff until published)", urls["public"]),
        *((f"minutes ({fmt.upper()})", url) for fmt, url in urls["minutes"].items()),
        ("record", urls["record"]),
        ("administration", urls["admin"]),
        ("API", urls["api"]),
        ("API reference", urls["api_docs"]),
        ("API schema (OpenAPI)", urls["openapi"]),
        ("health", urls["healthz"]),
        ("round: live overview", urls["round_overview"]),
        ("round: synthesis", urls["round_synthesis"]),
        ("round: follow-through", urls["round_follow_through"]),
    ]


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)


def _account(username: str, full_name: str, password: str, *, administrator: bool = False):
    user, _created = get_user_model().objects.get_or_create(username=username)
    user.first_name, _space, user.last_name = full_name.rpartition(" ")
    user.is_staff = user.is_superuser = administrator
    user.set_password(password)
    user.save()
    return user


def _round() -> Round:
    """A round of one conference, so that the organiser's screens have something to show (the
    chair, an administrator, sees them as an organiser does)."""
    today = timezone.localdate()
    return rounds.round_create(
        slug=DEMO_ROUND_SLUG,
        title="Tiếp xúc cử tri trước bầu cử (thử nghiệm)",
        election="Bầu cử đại biểu HĐND tỉnh",
        level=RoundLevel.PROVINCE,
        starts_on=today,
        ends_on=today + timedelta(days=7),
    )


def _build(chair, candidate_accounts, round: Round) -> Meeting:
    actor = Actor.for_user(chair)
    start = timezone.localtime().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    meeting = meetings.meeting_create(
        round=round,
        slug=DEMO_SLUG,
        title="Hội nghị tiếp xúc cử tri – Đơn vị bầu cử số 3",
        electoral_unit="Đơn vị bầu cử số 3: phường Hòa Bình, xã Tà Xùa, xã Trạm Tấu",
        scheduled_start=start,
        studio_name="Điểm cầu trung tâm – Hội trường UBND tỉnh",
        actor=actor,
    )
    roles.role_grant(meeting=meeting, user=chair, role=Role.CHAIR, actor=actor)
    for name, address, commune, district in HALLS:
        halls.hall_add(
            meeting=meeting,
            name=name,
            address=address,
            commune=commune,
            district=district,
            actor=actor,
        )
    for user, (_username, name, position, bio) in zip(candidate_accounts, CANDIDATES, strict=True):
        candidate = candidates.candidate_add(
            meeting=meeting, name=name, current_position=position, bio=bio, actor=actor
        )
        roles.role_grant(
            meeting=meeting, user=user, role=Role.CANDIDATE, candidate=candidate, actor=actor
        )
    agenda.agenda_build_default(meeting=meeting, actor=actor)
    meetings.meeting_transition(meeting=meeting, to_status=MeetingStatus.SCHEDULED, actor=actor)
    # Voters may send questions as soon as they arrive at the hall.
    meetings.meeting_set_questions_open(meeting=meeting, open=True, actor=actor)
    return meeting


def _urls(meeting: Meeting, round: Round, base: str) -> dict:
    def link(hall, kind, view):
        return base + reverse(view, args=[join_link_token(join_link_active(hall=hall, kind=kind))])

    slug = [meeting.slug]
    return {
        "login": base + reverse("login"),
        "meetings": base + reverse("meeting-list"),
        "dashboard": base + reverse("dashboard", args=slug),
        "queue": base + reverse("queue", args=slug),
        "candidate": base + reverse("candidate-console", args=slug),
        "follow_ups": base + reverse("follow-ups", args=slug),
        "halls_console": base + reverse("halls", args=slug),
        "archive": base + reverse("archive"),
        "public": base + reverse("public-meeting", args=slug),
        "minutes": {
            fmt: base + reverse("minutes-file", args=[meeting.slug, fmt]) for fmt in sorted(FORMATS)
        },
        "record": base + reverse("public-record", args=slug),
        "admin": base + reverse("admin:index"),
        "api": base + reverse("api:index"),
        "api_docs": base + reverse("api:openapi-view"),
        "openapi": base + reverse("api:openapi-json"),
        "healthz": base + reverse("healthz"),
        "round_overview": base + reverse("round-overview", args=[round.slug]),
        "round_synthesis": base + reverse("round-synthesis", args=[round.slug]),
        "round_follow_through": base + reverse("round-follow-through", args=[round.slug]),
        "halls": [
            {
                "id": hall.pk,
                "name": hall.name,
                "kiosk": link(hall, JoinLinkKind.OPERATOR, "kiosk"),
                "phone": link(hall, JoinLinkKind.VOTER, "phone"),
                "poster": base + reverse("poster", args=[meeting.slug, hall.pk]),
            }
            for hall in meeting.bridge_points.all()
        ],
    }
