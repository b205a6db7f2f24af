"""Cleaning what people type, and the form of a text used to find duplicates."""

import re
import unicodedata

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SPACES = re.compile(r"[ \t]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_NOT_WORD = re.compile(r"[^\w\s]")


def clean_text(value: str) -> str:
    """NFC (phones send Vietnamese decomposed or composed), no control characters, tidy
    spaces and blank lines, trimmed. What is left is stored and shown, always as text."""
    value = unicodedata.normalize("NFC", value).replace("\r\n", "\n").replace("\r", "\n")
    value = _CONTROL.sub("", value)
    lines = [_SPACES.sub(" ", line).strip() for line in value.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def clean_line(value: str) -> str:
    return " ".join(clean_text(value).split())


def match_form(value: str) -> str:
    """Lower case, without diacritics (đ becomes d), without punctuation: "Đường sá xuống cấp!"
    and "duong sa xuong cap" match."""
    decomposed = unicodedata.normalize("NFD", value.lower().replace("đ", "d"))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_NOT_WORD.sub(" ", bare).split())
