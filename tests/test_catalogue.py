"""The translations for scripts as a hashed file kept a year, and compressed text answers
(meetings/catalogue.py, meetings/compression.py)."""

import gzip
import json
import re

import pytest
from django.conf import settings

from meetings import catalogue
from meetings.rooms.models import JoinLinkKind
from tests.questions.helpers import open_conference

pytestmark = pytest.mark.django_db

A_YEAR = "public, max-age=31536000, immutable"


def test_the_pages_link_the_hashed_catalogue_which_is_kept_a_year(client):
    page = client.get("/accounts/login/")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "vi"
    url = catalogue.catalogue_url("vi")
    assert re.fullmatch(r"/jsi18n/vi\.[0-9a-f]{12}\.js", url)

    response = client.get(url)

    assert page.status_code == 200
    assert response.status_code == 200
    assert response["Cache-Control"] == A_YEAR
    assert response["Content-Type"].startswith("text/javascript")
    text = response.content.decode()
    # Written as UTF-8, not as \u escapes.
    assert json.dumps("Khai mạc hội nghị", ensure_ascii=False) in text


def test_a_signed_in_visitors_is_not_kept_as_every_answer_to_staff(client, django_user_model):
    user = django_user_model.objects.create_user("reader", password="x-" + "y" * 12)
    client.force_login(user)

    response = client.get(catalogue.catalogue_url("en"))

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_an_old_hash_is_sent_to_the_current_file_which_is_not_kept(client):
    response = client.get("/jsi18n/vi.000000000000.js")

    assert response.status_code == 302
    assert response["Location"] == catalogue.catalogue_url("vi")
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("name", ["xx", "vi-nothing"])
def test_an_unknown_language_or_bundle_is_not_found(client, name):
    assert client.get(f"/jsi18n/{name}.000000000000.js").status_code == 404


def test_the_phones_bundle_holds_its_strings_and_not_the_consoles():
    whole = catalogue.catalogue("vi").content.decode()
    phone = catalogue.catalogue("vi", "phone").content.decode()
    url = catalogue.catalogue_url("vi", "phone")

    assert re.fullmatch(r"/jsi18n/vi-phone\.[0-9a-f]{12}\.js", url)
    assert len(phone) < len(whole) / 2
    # From modules the phone imports (status.js, outbox.js through phone.js) and phone.js.
    for text in ("offline – reconnecting…", "Sending…"):
        assert json.dumps(text, ensure_ascii=False) in whole
        assert json.dumps(text, ensure_ascii=False) in phone, text
    # Only the moderators' queue console's.
    console_only = "No question here matches the filters."
    assert console_only in catalogue.bundle_source("js/queue.js")
    assert json.dumps(console_only) in whole
    assert json.dumps(console_only) not in phone


def test_the_phone_page_links_its_bundle(client, meeting_with_phone_link):
    response = client.get(meeting_with_phone_link)

    assert catalogue.catalogue_url("vi", "phone") in response.content.decode()


@pytest.fixture
def meeting_with_phone_link():
    conference = open_conference("hn-catalogue")
    return f"/v/{conference.token(conference.halls[0], JoinLinkKind.VOTER)}/"


@pytest.mark.parametrize("path", ["/accounts/login/", "/api/openapi.json", "/v/sw.js"])
def test_text_answers_are_compressed(client, path):
    response = client.get(path, HTTP_ACCEPT_ENCODING="gzip, deflate")

    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    assert gzip.decompress(response.content)


def test_not_without_accept_encoding(client):
    response = client.get("/accounts/login/")

    assert not response.has_header("Content-Encoding")
