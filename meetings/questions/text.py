"""Cleaning what people type, and the form of a text used to find duplicates."""

import re
import unicodedata

from django.utils.translation import gettext as _

from meetings.rooms.errors import EmptyText

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SPACES = re.compile(r"[ \t]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_NOT_WORD = re.compile(r"[^\w\s]")
# Letters that fonts draw as nothing: the Hangul fillers, the blank Braille pattern. Pasted
# alone they make a card that looks empty, as zero-width characters do.
_INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def visible(ch: str) -> bool:
    """A character that shows something by itself: a letter, digit, punctuation mark or symbol.
    Not spaces of any kind, not format characters (zero-width space, joiners, word joiner,
    byte order mark, direction marks, tags), not a combining mark without its letter."""
    return unicodedata.category(ch)[0] in "LNPS" and ch not in _INVISIBLE_LETTERS


def has_visible(value: str) -> bool:
    return any(visible(ch) for ch in value)


def _strip_invisible(line: str) -> str:
    """The line without spaces and format characters at its ends. Inside the text they stay:
    a zero-width joiner or non-joiner between letters shapes some scripts (and emoji)."""
    start, end = 0, len(line)
    while start < end and _edge_invisible(line[start]):
        start += 1
    while end > start and _edge_invisible(line[end - 1]):
        end -= 1
    return line[start:end]


def _edge_invisible(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) == "Cf"


def clean_text(value: str) -> str:
    """NFC (phones send Vietnamese decomposed or composed), no control characters, tidy
    spaces and blank lines, trimmed of spaces and invisible characters. What is left is stored
    and shown, always as text. A text with nothing visible in it is cleaned to "" (a
    question of zero-width spaces would show as a blank card)."""
    value = _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
    # After the control characters are gone: a base letter and its accent that were apart
    # are composed now, so cleaning again changes nothing.
    value = unicodedata.normalize("NFC", value)
    lines = [_strip_invisible(_SPACES.sub(" ", line)) for line in value.split("\n")]
    value = _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
    return value if has_visible(value) else ""


def question_text(value: str) -> str:
    """A question's text as stored, or EmptyText (code ``empty_text``) when nothing of it
    would show: every intake (phone, kiosk, moderators' questions and edits) goes through it."""
    text = clean_text(value)
    if text:
        return text
    if value.strip():
        raise EmptyText(
            _(
                "Your question has no visible text, only spaces or invisible characters. "
                "Please write it in words."
            )
        )
    raise EmptyText(_("Please write your question."))


def clean_line(value: str) -> str:
    return " ".join(clean_text(value).split())


def match_form(value: str) -> str:
    """Lower case, without diacritics (đ becomes d), without punctuation: "Đường sá xuống cấp!"
    and "duong sa xuong cap" match."""
    decomposed = unicodedata.normalize("NFD", value.lower().replace("đ", "d"))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_NOT_WORD.sub(" ", bare).split())
