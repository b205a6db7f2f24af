"""A question with nothing visible in it (zero-width characters, spaces of every kind, accents
without their letters) is refused at every intake with the code ``empty_text``, in the
caller's language; real text in the scripts voters write keeps its joiners and is accepted."""

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meetings.questions.models import Question
from meetings.questions.services import moderation
from meetings.questions.text import clean_line, clean_text, question_text
from meetings.rooms.errors import EmptyText
from meetings.rooms.models import Event, JoinLinkKind
from tests.questions.helpers import ask, open_conference, signed_in
from tests.questions.test_api import act, link_client, send

pytestmark = pytest.mark.django_db

INVISIBLE = [
    "\u200b",  # zero-width space
    "\u200c",  # zero-width non-joiner
    "\u200d",  # zero-width joiner
    "\u2060",  # word joiner
    "\ufeff",  # byte order mark
    "\u200e\u200f",  # direction marks
    "\u180e",  # Mongolian vowel separator
    "\U000e0041",  # a tag character
    "\u00a0\u2007\u202f\u3000",  # no-break, figure, narrow and ideographic spaces
    "\u2028\u2029",  # line and paragraph separators
    "\u0301\u0300\u0323",  # accents with no letter
    "\u034f\ufe0f",  # combining grapheme joiner, variation selector
    "\u3164\u115f\uffa0",  # Hangul fillers
    "\u2800",  # blank Braille pattern
]
BLANK_TEXTS = [
    "\u200b\u200c\u200d\u2060\ufeff",
    " \u200b \n\u200b\t\u2060 ",
    "".join(INVISIBLE),
    "\u200b" * 1000,
]
REAL_TEXTS = [
    "Khi nào sửa đường liên thôn Tà Xùa?",
    "Đề nghị hỗ trợ giống lúa cho bà con",
    "ស្រុក\u200bរបស់យើងត្រូវការផ្លូវ",  # Khmer, with the zero-width space it writes between words
    "ขอถนนใหม่ให้หมู่บ้าน",  # Thai
    "ຂໍໃຫ້ສ້າງທາງ",  # Lao
    "我们村需要一条路",  # Chinese
    "क्\u200dष",  # Devanagari shaped by a zero-width joiner
    "می\u200cخواهم",  # Persian with a zero-width non-joiner
    "👨\u200d👩\u200d👧",  # a family, joined
    "?",
]


@pytest.mark.parametrize("text", BLANK_TEXTS)
def test_a_question_of_invisible_characters_is_refused_and_nothing_is_kept(text):
    conference = open_conference()
    before = (Question.objects.count(), Event.objects.count())
    with pytest.raises(EmptyText, match="no visible text") as refused:
        ask(conference, text)
    assert refused.value.code == "empty_text" and refused.value.status == 400
    assert (Question.objects.count(), Event.objects.count()) == before


@pytest.mark.parametrize("text", REAL_TEXTS)
def test_real_text_in_the_voters_scripts_is_accepted_with_its_joiners(text):
    conference = open_conference()
    question = ask(conference, f"\u200b {text} \ufeff")
    assert question.text == unicodedata.normalize("NFC", text)


def test_every_intake_refuses_it_with_the_same_code_in_the_callers_language():
    conference = open_conference()
    blank = "\u200b\u200c\u200d\u2060\ufeff"
    # A voter's phone, in Vietnamese and in English.
    vi = send(link_client(conference, language="vi"), {"text": blank})
    en = send(link_client(conference, language="en"), {"text": blank})
    assert vi.status_code == en.status_code == 400
    assert vi.json()["code"] == en.json()["code"] == "empty_text"
    assert en.json()["message"].startswith("Your question has no visible text")
    assert vi.json()["message"] != en.json()["message"]
    # The clerk's paper entry at the hall's kiosk.
    kiosk = send(link_client(conference, JoinLinkKind.OPERATOR, device=None), {"text": blank})
    assert (kiosk.status_code, kiosk.json()["code"]) == (400, "empty_text")
    # A moderator's question from the floor, and a moderator's edit of a real question.
    chair = signed_in(conference.chair)
    floor = send(
        chair, {"text": "\u3000\u0301", "source": "floor", "hall_id": conference.halls[0].pk}
    )
    assert (floor.status_code, floor.json()["code"]) == (400, "empty_text")
    question = ask(conference, "Trạm y tế thiếu thuốc")
    edit = act(chair, question, "edit", {"text": "\u2060\u200b"})
    assert (edit.status_code, edit.json()["code"]) == (400, "empty_text")
    assert Question.objects.get(pk=question.pk).text == "Trạm y tế thiếu thuốc"
    assert Question.objects.count() == 1


def test_a_moderators_edit_to_nothing_visible_is_refused_by_the_service():
    conference = open_conference()
    question = ask(conference, "Câu hỏi thật")
    with pytest.raises(EmptyText):
        moderation.question_edit(question=question, text="\u200d\u0300", actor=conference.actor)


def test_a_name_of_invisible_characters_is_no_name():
    conference = open_conference()
    question = ask(conference, "Câu hỏi", asker_name="\u200b\u200c", asker_named_publicly=True)
    assert question.asker_name == "" and not question.asker_named_publicly
    assert clean_line(" \u2060 ") == ""


invisible_characters = st.sampled_from(
    [ch for chunk in INVISIBLE for ch in chunk] + [" ", "\t", "\n", "\r", "\x00", "\x7f"]
)
letters = st.characters(categories=("Lu", "Ll", "Lo", "Nd"))


@given(st.text(invisible_characters, max_size=60))
def test_any_mix_of_invisible_characters_is_refused(raw):
    assert clean_text(raw) == ""
    with pytest.raises(EmptyText):
        question_text(raw)


@given(
    st.text(invisible_characters, max_size=20), letters, st.text(invisible_characters, max_size=20)
)
def test_a_visible_character_among_invisible_ones_is_kept(before, letter, after):
    cleaned = question_text(before + letter + after)
    # Accents after it may compose with it, or be put in their canonical order among its own:
    # its base letter stays.
    assert unicodedata.normalize("NFD", letter)[0] in unicodedata.normalize("NFD", cleaned)
    assert clean_text(cleaned) == cleaned


@given(st.text(max_size=200))
def test_cleaning_any_text_is_stable_and_leaves_visible_text_or_nothing(raw):
    cleaned = clean_text(raw)
    assert clean_text(cleaned) == cleaned
    assert cleaned == "" or any(unicodedata.category(ch)[0] in "LNPS" for ch in cleaned)
