"""The public page of a round's follow-through, for an anonymous visitor: exactly the public
referrals and written answers promised of the round's published conferences, nothing hidden
and no private name, filters that narrow, counts, pagination, cacheable headers."""

import datetime
import re

import pytest
from django.test import Client

from meetings.questions.public_round import PER_PAGE
from meetings.questions.services import followups
from tests.questions.follow_through_world import build_world

pytestmark = pytest.mark.django_db

PAGE = "/archive/rounds/lao-cai-theo-doi/"


def listed(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-question="(\d+)"', response.content.decode())]


def count(response, name: str) -> int:
    match = re.search(rf'data-testid="count-{name}">(\d+)<', response.content.decode())
    return int(match.group(1))


@pytest.fixture
def world():
    return build_world()


def test_the_visitor_sees_exactly_the_public_follow_ups_and_nothing_hidden(world):
    response = Client().get(PAGE)
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")
    assert sorted(listed(response)) == sorted(q.pk for q in world.public.values())
    page = response.content.decode()
    for text in world.hidden_texts:
        assert text not in page, text
    for name in world.hidden_names:
        assert name not in page, name
    assert "Lò Văn Sáng" in page  # agreed to be named
    # Each links to the question on its conference's page.
    road = world.public["road"]
    assert f'href="/archive/ln-north/#question-{road.pk}"' in page
    assert [count(response, state) for state in ("total", "awaiting", "overdue")] == [4, 3, 1]
    assert 'data-testid="agency-counts"' in page and "Sở Giao thông vận tải" in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"district": "Huyện Bát Xát"}, {"road", "clinic"}),
        ({"district": "Thành phố Lào Cai"}, {"water"}),
        ({"commune": "Xã Bản Qua"}, {"clinic"}),
        ({"commune": "Xã Phong Niên"}, {"school"}),
        ({"topic": "infrastructure"}, {"road", "water"}),
        ({"topic": "health"}, {"clinic"}),
        ({"q": "bác sĩ"}, {"clinic"}),
        ({"q": "Sở Giao thông"}, {"road"}),  # the agency
        ({"q": "Cốc San"}, {"water"}),  # the commune, by free text
        ({"agency": "Sở Y tế"}, {"clinic"}),
        ({"district": "Huyện Bát Xát", "topic": "health"}, {"clinic"}),
        ({"district": "Huyện Bảo Thắng", "topic": "health"}, set()),
        ({"q": "Kiến nghị của hội nghị chưa công bố"}, set()),  # hidden, even by its text
    ],
)
def test_the_filters_narrow(world, query, expected):
    response = Client().get(PAGE, query)
    assert response.status_code == 200
    assert set(listed(response)) == {world.public[name].pk for name in expected}
    assert count(response, "total") == len(expected)


def test_states_answers_and_overdue_first(world):
    road, clinic = world.public["road"], world.public["clinic"]
    followups.answer_attach_written(
        question=road,
        text="Sở đã đưa tuyến đường vào kế hoạch năm 2027.",
        answered_by="Phòng Kế hoạch, Sở Giao thông vận tải",
        received_on=datetime.date(2026, 12, 1),
        actor=world.conferences["north"].actor,
    )
    water = followups.answer_move_due_date(
        question=world.public["water"],
        due_date=datetime.date(2027, 6, 30),
        reason="Chờ bố trí vốn",
        actor=world.conferences["south"].actor,
    )
    response = Client().get(PAGE)
    page = response.content.decode()
    assert listed(response)[0] == clinic.pk  # overdue first
    assert listed(response)[-1] == road.pk  # answered last
    assert listed(response)[-2] == water.pk  # awaiting, due last
    assert "Sở đã đưa tuyến đường vào kế hoạch năm 2027." in page
    assert "Phòng Kế hoạch, Sở Giao thông vận tải" in page
    assert re.search(r"Quá hạn \d+ ngày", page)
    assert (count(response, "overdue"), count(response, "answered")) == (1, 1)
    only = Client().get(PAGE, {"state": "overdue"})
    assert listed(only) == [clinic.pk]
    assert count(only, "total") == 4  # the counts are the search's, every state
    english = Client(headers={"Cookie": "django_language=en"}).get(PAGE)
    text = english.content.decode()
    assert re.search(r"Overdue by \d+ days?", text) and "Answer from" in text


def test_pagination_keeps_the_search():
    world = build_world(extra_referrals=PER_PAGE)
    total = len(world.public)
    first = Client().get(PAGE, {"topic": "infrastructure"})
    shown = listed(first)
    assert len(shown) == PER_PAGE
    page = first.content.decode()
    assert 'href="?topic=infrastructure&amp;page=2"' in page
    second = Client().get(PAGE, {"topic": "infrastructure", "page": 2})
    rest = listed(second)
    assert set(shown).isdisjoint(rest)
    infrastructure = {"road", "water"} | {n for n in world.public if n.startswith("extra")}
    assert set(shown) | set(rest) == {world.public[n].pk for n in infrastructure}
    assert total == PER_PAGE + 4
    assert listed(Client().get(PAGE, {"topic": "infrastructure", "page": "999"})) == rest


def test_links_to_the_page_and_what_is_not_shown(world):
    archive = Client().get("/archive/").content.decode()
    assert f'href="{PAGE}"' in archive
    conference = Client().get("/archive/ln-north/").content.decode()
    assert f'href="{PAGE}"' in conference
    assert Client().get("/archive/rounds/no-such-round/").status_code == 404
    # A round none of whose conferences is published is not shown.
    from tests.factories import make_round

    make_round("dot-chua-cong-bo")
    assert Client().get("/archive/rounds/dot-chua-cong-bo/").status_code == 404
    assert Client().post(PAGE).status_code == 405
