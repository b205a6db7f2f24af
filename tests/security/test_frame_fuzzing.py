"""Whatever a client sends on the meeting websocket, the server answers with an error frame or
a documented close code; it never crashes or leaves the connection hanging."""

import itertools
import json

import pytest
from channels.db import database_sync_to_async
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meetings.rooms.models import JoinLinkKind
from tests.factories import make_conference
from tests.realtime import open_live

pytestmark = pytest.mark.django_db(transaction=True)

DOCUMENTED_CLOSE = {4401, 4403, 4404, 4429}
_numbers = itertools.count()
FRAME_TYPES = [
    "hello",
    "ping",
    "media.offer",
    "media.candidate",
    "media.leave",
    "thumbnail",
    "vote",
    "",
]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True)
    | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
frames = st.one_of(
    st.text(max_size=300),
    json_values.map(json.dumps),
    st.fixed_dictionaries(
        {"type": st.sampled_from(FRAME_TYPES)},
        optional={
            "since": json_values,
            "id": json_values,
            "sdp": st.text(max_size=200),
            "send": json_values,
            "candidate": json_values,
            "image": st.text(max_size=200),
        },
    ).map(json.dumps),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=st.lists(frames, min_size=1, max_size=8))
async def test_any_frame_gets_an_answer_and_the_connection_survives_or_closes_as_documented(batch):
    # Examples share the test's database: each gets a conference of its own.
    conference = await database_sync_to_async(make_conference)(f"fuzz-{next(_numbers)}")
    link = await database_sync_to_async(conference.token)(conference.halls[0], JoinLinkKind.VOTER)
    socket, _snapshot = await open_live(conference.meeting.slug, link=link)
    for text in batch:
        # As the browser's frame arrives, empty ones included.
        await socket.communicator.send_input({"type": "websocket.receive", "text": text})
    await socket.send({"type": "ping", "id": "still-there"})
    while True:
        output = await socket.communicator.receive_output(timeout=5)
        if output["type"] == "websocket.close":
            assert output.get("code") in DOCUMENTED_CLOSE
            break
        frame = json.loads(output["text"])
        assert frame["type"] in {"error", "pong", "snapshot", "synced", "event", "welcome"}
        if frame["type"] == "error":
            assert frame["code"] and frame["message"]
        if frame.get("id") == "still-there":
            break
    await socket.close()
