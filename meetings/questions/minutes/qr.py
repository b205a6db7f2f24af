"""The QR code the printed minutes (DOCX and PDF) carry: the signed checkpoint's note, the
statement and its signature, for an observer to keep by scanning the page."""

from io import BytesIO

import segno

# Printed 5 cm wide: at about 300 characters (version 13, 69 modules and the quiet zone) a
# module is 0.6 mm, which a phone's camera reads from a printed page.
PRINTED_CM = 5.0


def qr_png(text: str) -> bytes:
    out = BytesIO()
    segno.make(text, error="m", micro=False).save(out, kind="png", scale=8, border=4)
    return out.getvalue()
