"""Run inside the server's Django (``manage.py shell``): a live conference with its studio and
three halls: one the hub places by its link, one a moderator pinned to the low tier, one
pinned to audio only; and a signed-in chair, whose websocket receives the hub's own figures
for every hall (``media.halls``). Prints the kiosks' join tokens and the chair's session as
JSON."""

import json
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone

from meetings.rooms.actors import Actor
from meetings.rooms.models import JoinLinkKind, Role
from meetings.rooms.services import floor, halls, meetings, roles
from meetings.rooms.services.join_links import join_link_active, join_link_token

actor = Actor.system("bench")
meeting = meetings.meeting_create(
    slug="weaklink",
    title="Hội nghị đo đường truyền yếu",
    electoral_unit="Đơn vị đo đường truyền yếu",
    scheduled_start=timezone.now() + timedelta(minutes=5),
    studio_name="Điểm cầu trung tâm",
    actor=actor,
)
adaptive = halls.hall_add(meeting=meeting, name="Điểm cầu vùng cao (tự chọn mức)", actor=actor)
low = halls.hall_add(meeting=meeting, name="Điểm cầu vùng cao (mức thấp)", actor=actor)
audio = halls.hall_add(meeting=meeting, name="Điểm cầu vùng cao (chỉ tiếng)", actor=actor)
chair = get_user_model().objects.create(username="weaklink-chair")
roles.role_grant(meeting=meeting, user=chair, role=Role.CHAIR, actor=actor)
floor.hall_pin_tier(hall=low, tier="low", actor=actor)
floor.hall_pin_tier(hall=audio, tier="audio", actor=actor)
meetings.meeting_transition(meeting=meeting, to_status="scheduled", actor=actor)
meetings.meeting_transition(meeting=meeting, to_status="live", actor=actor)


def token(hall) -> str:
    return join_link_token(join_link_active(hall=hall, kind=JoinLinkKind.OPERATOR))


studio = meeting.bridge_points.get(is_studio=True)
session = SessionStore()
session["_auth_user_id"] = str(chair.pk)
session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
session["_auth_user_hash"] = chair.get_session_auth_hash()
session.create()
print(
    "WEAKLINK "
    + json.dumps(
        {
            "slug": meeting.slug,
            "studio": {"id": studio.pk, "token": token(studio)},
            "adaptive": {"id": adaptive.pk, "token": token(adaptive)},
            "low": {"id": low.pk, "token": token(low)},
            "audio": {"id": audio.pk, "token": token(audio)},
            "chair_session": {"name": settings.SESSION_COOKIE_NAME, "value": session.session_key},
        }
    )
)
