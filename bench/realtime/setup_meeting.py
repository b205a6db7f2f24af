"""Run inside the server's Django (manage.py shell): a live conference with BENCH_HALLS halls
(150 by default) and two moderators, questions open, at the slug BENCH_SLUG ("load"). Prints
the links, BENCH_DEVICES_PER_HALL phones' device ids per hall (64 by default; signed here as
the server signs them, without going through its bounded issuance, which a benchmark's
thousands of phones from one address would meet) and the moderators' credentials as JSON."""

import json
import os
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.middleware.csrf import _get_new_csrf_string
from django.utils import timezone

from meetings.questions.devices import device_sign
from meetings.rooms.actors import Actor
from meetings.rooms.models import JoinLinkKind, Role
from meetings.rooms.services import halls, kiosk_sessions, meetings, roles
from meetings.rooms.services.join_links import join_link_active, join_link_token

HALLS = int(os.environ.get("BENCH_HALLS", "150"))
SLUG = os.environ.get("BENCH_SLUG", "load")
DEVICES_PER_HALL = int(os.environ.get("BENCH_DEVICES_PER_HALL", "64"))

User = get_user_model()
moderators = []
for name in ("bench-chair", "bench-secretary"):
    user, _created = User.objects.get_or_create(username=f"{name}-{SLUG}")
    moderators.append(user)
actor = Actor.for_user(moderators[0])
meeting = meetings.meeting_create(
    slug=SLUG,
    title="Hội nghị đo tải",
    electoral_unit="Đơn vị đo tải",
    scheduled_start=timezone.now() + timedelta(minutes=5),
    studio_name="Điểm cầu trung tâm",
    actor=actor,
)
roles.role_grant(meeting=meeting, user=moderators[0], role=Role.CHAIR, actor=actor)
roles.role_grant(meeting=meeting, user=moderators[1], role=Role.SECRETARY, actor=actor)
made = [
    halls.hall_add(meeting=meeting, name=f"Điểm cầu {n:03d}", actor=actor)
    for n in range(1, HALLS + 1)
]
meetings.meeting_transition(meeting=meeting, to_status="scheduled", actor=actor)
meetings.meeting_transition(meeting=meeting, to_status="live", actor=actor)
meetings.meeting_set_questions_open(meeting=meeting, open=True, actor=actor)


def devices(hall) -> list[str]:
    issued_at = int(timezone.now().timestamp())
    return [
        device_sign(meeting_id=meeting.pk, hall_id=hall.pk, nonce=f"bench{n}", issued_at=issued_at)
        for n in range(DEVICES_PER_HALL)
    ]


def credentials(user):
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    return {"session": session.session_key, "csrf": _get_new_csrf_string()}


print(
    "BENCH "
    + json.dumps(
        {
            "halls": [
                {
                    "id": hall.pk,
                    "voter": join_link_token(join_link_active(hall=hall, kind=JoinLinkKind.VOTER)),
                    "operator": join_link_token(
                        join_link_active(hall=hall, kind=JoinLinkKind.OPERATOR)
                    ),
                    "devices": devices(hall),
                    # The kiosk's screen holds its hall, as the kiosk page claims it; with no
                    # browser name, as the bench's websocket client sends none (so its stream is
                    # the same device, not a copy to put on the record).
                    "operator_session": kiosk_sessions.kiosk_session_claim(
                        hall=hall, token=None, user_agent="", address="127.0.0.1"
                    ).token,
                }
                for hall in made
            ],
            "moderators": [credentials(user) for user in moderators],
            "slug": SLUG,
            "session_cookie": settings.SESSION_COOKIE_NAME,
        }
    )
)
