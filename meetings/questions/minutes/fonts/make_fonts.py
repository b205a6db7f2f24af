"""How the minutes' fallback fonts in this folder were made (run by hand, not at run time).

The PDF minutes print the voters' words in any script they pasted. DejaVu Serif covers Latin
(Vietnamese), Greek and Cyrillic; Noto fonts (SIL Open Font License 1.1, no reserved font
name) cover the scripts Vietnam's minorities also write:

- Noto Serif Khmer, Noto Serif Thai, Noto Serif Lao: copied whole, with their shaping tables
  (GSUB/GPOS), which the PDF's shaping needs for stacked consonants and vowel marks.
- Noto Serif CJK SC: the whole font is 26 MB of PostScript (CFF) outlines, which reportlab
  cannot embed. This keeps the Han characters of GB 2312 (simplified) and of Big5's frequent
  level (traditional), CJK punctuation, kana and the full-width forms, and converts the outlines
  to TrueType quadratic curves.

Input: the font files of Debian's fonts-noto-core and fonts-noto-cjk packages (``apt-get
download``, ``dpkg-deb -x``). Needs fontTools (a development dependency):

    python meetings/questions/minutes/fonts/make_fonts.py <extracted package root>
"""

import shutil
import sys
from pathlib import Path

from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTCollection, TTFont, newTable

HERE = Path(__file__).parent
WHOLE = ("NotoSerifKhmer-Regular.ttf", "NotoSerifThai-Regular.ttf", "NotoSerifLao-Regular.ttf")
CJK_NAME = "NotoSerifCJKsc-Subset-Regular.ttf"
# Quadratic curves within this many font units of the cubic ones (2/1000 of the em: a
# hundredth of a millimetre at 11 points).
CURVE_TOLERANCE = 2.0
# Big5's frequently used characters (level 1) end here; level 2 is rare forms.
BIG5_LEVEL_ONE_END = 0xC67E


def _han_characters() -> set[int]:
    characters = set()
    for encoding, last in (("gb2312", 0xFFFF), ("big5", BIG5_LEVEL_ONE_END)):
        for lead in range(0x81, 0xFF):
            for trail in range(0x40, 0xFF):
                if (lead << 8 | trail) > last:
                    continue
                try:
                    text = bytes([lead, trail]).decode(encoding)
                except UnicodeDecodeError:
                    continue
                if len(text) == 1:
                    characters.add(ord(text))
    return characters


def _cjk_unicodes() -> set[int]:
    blocks = [
        (0x3000, 0x303F),  # CJK symbols and punctuation
        (0x3040, 0x30FF),  # hiragana, katakana
        (0xFF00, 0xFFEF),  # half-width and full-width forms
        (0x2E80, 0x2EFF),  # CJK radicals supplement
    ]
    wanted = _han_characters()
    for first, last in blocks:
        wanted.update(range(first, last + 1))
    return wanted


def _to_truetype(font: TTFont) -> None:
    """Replaces the CFF outlines with TrueType (quadratic) ones, in place."""
    order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, CURVE_TOLERANCE, reverse_direction=True))
        glyphs[name] = pen.glyph()
    for tag in ("CFF ", "VORG"):
        if tag in font:
            del font[tag]
    font["loca"] = newTable("loca")
    glyf = font["glyf"] = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = glyphs
    font["head"].glyphDataFormat = 0
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for field in (
        "maxZones",
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
    ):
        setattr(maxp, field, 0)
    maxp.maxZones = 1
    font["post"].formatType = 3.0  # no glyph names: nothing reads them
    font.sfntVersion = "\x00\x01\x00\x00"


def make_cjk(source: Path) -> None:
    collection = TTCollection(source)
    (font,) = [each for each in collection.fonts if "SC" in each["name"].getDebugName(1).split()]
    options = subset.Options()
    options.hinting = False
    options.name_IDs = ["*"]
    # Chinese set horizontally needs no substitutions; keeping them (regional forms, vertical
    # forms) would double the glyphs.
    options.layout_features = []
    options.drop_tables += ["vhea", "vmtx", "VORG", "BASE"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=_cjk_unicodes())
    subsetter.subset(font)
    _to_truetype(font)
    font.save(HERE / CJK_NAME)


def main(root: Path) -> None:
    for name in WHOLE:
        (found,) = root.rglob(name)
        shutil.copyfile(found, HERE / name)
    (cjk,) = root.rglob("NotoSerifCJK-Regular.ttc")
    make_cjk(cjk)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
