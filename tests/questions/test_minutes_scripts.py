"""The PDF minutes print the voters' words in the scripts they wrote them in: Khmer, Chinese,
Thai and Lao beside Vietnamese, each character drawn from a font that has it (no empty box).

Read back with pypdf: every string the pages show is followed to the glyph of the embedded font
it names, which must be a real glyph (not .notdef, and with outlines unless it is a space).
Each page is also rendered with pypdfium2 into test-artifacts/, for a person to look at."""

import io
import re
from pathlib import Path

import pypdfium2
import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader
from pypdf.generic import ContentStream
from reportlab.pdfbase import pdfmetrics

from meetings.questions.minutes.export import export_minutes
from meetings.questions.minutes.pdf_fonts import FONTS
from meetings.questions.services import moderation
from tests.questions.helpers import ask, open_conference

pytestmark = pytest.mark.django_db
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

SCRIPTS = {
    "khmer": "សូមសួរថា តើពេលណាផ្លូវភូមិនឹងត្រូវជួសជុល? (ភូមិស្រែ)។",
    "chinese": "我们村的道路什么时候修？學校的老師不夠。",
    "thai": "ขอถามว่าเมื่อไหร่จะซ่อมถนนในหมู่บ้าน",
    "lao": "ຂໍຖາມວ່າເມື່ອໃດຈະສ້ອມແປງເສັ້ນທາງບ້ານ",
    "mixed": "Bà con người Khmer hỏi: ផ្លូវភូមិ (đường thôn), 道路 และ ເສັ້ນທາງ.",
}


BFCHAR = re.compile(rb"<([0-9A-F]{2})> <([0-9A-F]{4,6})>")
PRIVATE_USE = range(0xE000, 0xF900)


def shown_characters(reader: PdfReader) -> list[tuple[str, str]]:
    """Every character the pages show, with the PostScript name of the embedded font it is
    shown in: each string's one-byte codes read through its font's ToUnicode map."""
    shown = []
    for page in reader.pages:
        fonts = {}
        for key, ref in page["/Resources"]["/Font"].items():
            font = ref.get_object()
            if "/ToUnicode" not in font:
                continue  # reportlab's unused default Helvetica
            pairs = BFCHAR.findall(font["/ToUnicode"].get_object().get_data())
            codes = {int(code, 16): chr(int(char, 16)) for code, char in pairs}
            fonts[key] = (str(font["/BaseFont"]).split("+", 1)[-1], codes)
        current = None
        for operands, operator in ContentStream(page.get_contents(), reader).operations:
            if operator == b"Tf":
                current = fonts.get(operands[0])
            elif operator in (b"Tj", b"TJ"):
                strings = operands[0] if operator == b"TJ" else [operands[0]]
                for string in strings:
                    if isinstance(string, (int, float)):
                        continue  # a kerning or shaping offset
                    # Bytes that are no text in the PDF's own encoding come as bytes.
                    data = string if isinstance(string, bytes) else string.get_original_bytes()
                    name, codes = current
                    shown += [(name, codes[code]) for code in data]
    return shown


def font_files() -> dict[str, TTFont]:
    """The fonts the minutes may embed, by PostScript name."""
    files = {}
    for path in FONTS.glob("*.ttf"):
        font = TTFont(path)
        files[font["name"].getDebugName(6)] = font
    return files


def registered() -> list[str]:
    return pdfmetrics.getRegisteredFontNames()


def covers(name: str, character: str, files: dict[str, TTFont]) -> bool:
    code = ord(character)
    if code == 0:
        return False  # reportlab shows a character its font lacks as code 0: .notdef
    if code in PRIVATE_USE:
        # A glyph that shaping made (a ligature, a subscript form): reportlab gives it a
        # private-use code of its own, mapped to the glyph HarfBuzz chose, which must not be
        # the font's .notdef (glyph 0).
        faces = [getattr(pdfmetrics.getFont(each), "face", None) for each in registered()]
        (face,) = {face for face in faces if face is not None and face.name == name.encode()}
        return face.charToGlyph.get(code, 0) != 0
    cmap = files[name].getBestCmap()
    return code in cmap and cmap[code] != ".notdef"


def test_the_pdf_prints_khmer_chinese_thai_and_lao_with_fonts_that_have_them():
    conference = open_conference("hn-scripts")
    for index, text in enumerate(SCRIPTS.values()):
        question = ask(conference, text, hall=conference.halls[index % 3], device=index + 1)
        moderation.question_approve(question=question, actor=conference.actor)
    data = export_minutes(conference.meeting, "pdf", "vi")
    reader = PdfReader(io.BytesIO(data))

    shown = shown_characters(reader)
    files = font_files()
    boxes = [(name, f"U+{ord(c):04X}") for name, c in shown if not covers(name, c, files)]
    assert not boxes, f"characters printed in a font that lacks them: {boxes[:20]}"
    # Each script's fallback font prints some of it.
    used = {name for name, _ in shown}
    for family in ("NotoSerifKhmer", "NotoSerifThai", "NotoSerifLao", "NotoSerifCJK"):
        assert any(family in name for name in used), (family, used)

    # The text reads back: Chinese is set as written; the shaped scripts keep their letters
    # (glyphs that shaping made from several letters read back as private-use characters).
    text = "".join(page.extract_text() for page in reader.pages)
    assert "我们村的道路什么时候修？學校的老師不夠。" in text
    for letter in "សផ" + "ขถซ" + "ຂຖສ" + "道路":
        assert letter in text, letter

    ARTIFACTS.mkdir(exist_ok=True)
    pdf = pypdfium2.PdfDocument(data)
    for number in range(len(pdf)):
        image = pdf[number].render(scale=2).to_pil()
        image.save(ARTIFACTS / f"minutes-scripts-page-{number + 1}.png")
        assert image.getbbox() is not None
