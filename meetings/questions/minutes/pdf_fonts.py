"""The PDF minutes' fonts, and text marked up so that every character is set in a font that has
it. reportlab sets a paragraph's text in one font and draws an empty box for each character
that font lacks; it has no fallback of its own. So the text is cut into runs, each wrapped in
the first font that covers it: DejaVu Serif (Vietnamese and other Latin, Greek, Cyrillic), then
Noto Serif Khmer, Thai, Lao and a subset of Noto Serif CJK (fonts/make_fonts.py says which
characters). The fallback fonts come in one weight: bold text in those scripts prints regular.

Khmer, Thai and Lao need shaping (stacked consonants, vowels placed around the consonant).
reportlab shapes a paragraph with HarfBuzz (uharfbuzz, a dependency) when its style has
``shaping`` on, word by word, a word being what lies between spaces, and with the font of the
word's first character only: a word that mixes two fonts comes out with the wrong glyphs. So a
paragraph that holds those scripts is shaped, and inside it each word is given one font where
one covers the whole word (a Khmer word with its brackets and full stop), else it is cut where
its font changes with a hair space, which reportlab takes as a word break (and prints as a
space: "ภาษาไทย ?", the Thai font having no question mark). The shaping is HarfBuzz's, as in a
browser, with one limit of reportlab's: a word too long for its line (Khmer, Thai, Lao and
Chinese put no spaces between words) is cut between two characters, which may fall inside a
cluster."""

import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONTS = Path(__file__).parent / "fonts"
BREAK = "\u200a"  # a hair space: a word break for reportlab, between a word's two fonts


@dataclass(frozen=True)
class Fallback:
    name: str
    file: str
    shaped: bool  # the script cannot be printed right without shaping


FALLBACKS = (
    Fallback("Noto-Khmer", "NotoSerifKhmer-Regular.ttf", shaped=True),
    Fallback("Noto-Thai", "NotoSerifThai-Regular.ttf", shaped=True),
    Fallback("Noto-Lao", "NotoSerifLao-Regular.ttf", shaped=True),
    Fallback("Noto-CJK", "NotoSerifCJKsc-Subset-Regular.ttf", shaped=False),
)
BASE = "Serif"


@cache
def register_fonts() -> None:
    pdfmetrics.registerFont(TTFont("Serif", FONTS / "DejaVuSerif.ttf"))
    pdfmetrics.registerFont(TTFont("Serif-Bold", FONTS / "DejaVuSerif-Bold.ttf"))
    pdfmetrics.registerFontFamily(
        "Serif", normal="Serif", bold="Serif-Bold", italic="Serif", boldItalic="Serif-Bold"
    )
    for fallback in FALLBACKS:
        pdfmetrics.registerFont(TTFont(fallback.name, FONTS / fallback.file))
        # One weight: <b> around a run in this font keeps it (reportlab asks the family).
        name = fallback.name
        pdfmetrics.registerFontFamily(name, normal=name, bold=name, italic=name, boldItalic=name)


@cache
def _coverage(name: str) -> frozenset[int]:
    return frozenset(pdfmetrics.getFont(name).face.charToGlyph)


@cache
def _base_coverage() -> frozenset[int]:
    # Text in the base font may be bold or not: a character counts when both weights have it.
    return _coverage("Serif") & _coverage("Serif-Bold")


def _font_of(character: str) -> Fallback | None:
    """The fallback font for a character the base font lacks; None for the base font (which
    also prints what no font has, as the empty box it is)."""
    code = ord(character)
    if code in _base_coverage() or character.isspace():
        return None
    for fallback in FALLBACKS:
        if code in _coverage(fallback.name):
            return fallback
    return None


def _runs(word: str) -> list[tuple[Fallback | None, str]]:
    """A word (no spaces) cut into runs of one font each."""
    fonts = [_font_of(character) for character in word]
    own = {font for font in fonts if font is not None}
    if len(own) == 1:
        # A word of one script with what the base font also has (brackets, digits, stops):
        # all in the script's font when it has them too, so that the word is shaped whole.
        (font,) = own
        if all(ord(character) in _coverage(font.name) for character in word):
            return [(font, word)]
    runs: list[tuple[Fallback | None, str]] = []
    for character, font in zip(word, fonts, strict=True):
        # A combining mark goes with the letter it marks.
        if runs and unicodedata.combining(character) and ord(character) in _covered(runs[-1][0]):
            font = runs[-1][0]
        if runs and runs[-1][0] == font:
            runs[-1] = (font, runs[-1][1] + character)
        else:
            runs.append((font, character))
    return runs


def _covered(font: Fallback | None) -> frozenset[int]:
    return _base_coverage() if font is None else _coverage(font.name)


def needs_shaping(text: str) -> bool:
    """Whether ``text`` holds a script that cannot be printed right without shaping."""
    register_fonts()
    return any(_shaped(_font_of(character)) for character in text)


def mark_up(text: str, *, shaped: bool = False) -> str:
    """``text`` escaped for a Paragraph, each run in a font that has its characters, line
    breaks kept. In a ``shaped`` paragraph, a word is cut where its font changes."""
    register_fonts()
    lines = []
    for line in text.split("\n"):
        parts = []
        for word in _split_spaces(line):
            if word.isspace():
                parts.append(escape(word))
            else:
                parts.append(_join(_runs(word), shaped=shaped))
        lines.append("".join(parts))
    return "<br/>".join(lines)


def _join(runs: list[tuple[Fallback | None, str]], *, shaped: bool) -> str:
    out = []
    for index, (font, text) in enumerate(runs):
        if index and shaped:
            out.append(BREAK)  # so that each run is shaped with its own font
        piece = escape(text)
        out.append(piece if font is None else f'<font name="{font.name}">{piece}</font>')
    return "".join(out)


def _shaped(font: Fallback | None) -> bool:
    return font is not None and font.shaped


def _split_spaces(line: str) -> list[str]:
    """The line as words and the spaces between them, in order."""
    parts: list[str] = []
    for character in line:
        kind = character.isspace()
        if parts and parts[-1][0].isspace() == kind:
            parts[-1] += character
        else:
            parts.append(character)
    return parts
