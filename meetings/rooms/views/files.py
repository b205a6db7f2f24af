"""Serving recordings and clips from MEDIA_ROOT, with HTTP range requests so that a player can
seek without downloading the whole file."""

import os
import re
from pathlib import Path

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.utils.http import http_date

# At most 19 digits a side: longer numbers than any file's size, and int() refuses numbers of
# over 4,300 digits.
_RANGE = re.compile(r"^bytes=([0-9]{0,19})-([0-9]{0,19})$")
CHUNK = 64 * 1024


class _Slice:
    """A file object that reads ``length`` bytes from ``start``."""

    def __init__(self, path: Path, start: int, length: int):
        self._file = path.open("rb")
        self._file.seek(start)
        self._left = length

    def read(self, size: int = CHUNK) -> bytes:
        if self._left <= 0:
            return b""
        data = self._file.read(min(size, self._left))
        self._left -= len(data)
        return data

    def close(self) -> None:
        self._file.close()


def ranged_file_response(
    request: HttpRequest, path: Path, content_type: str, *, download_name: str | None = None
):
    """The file, or the one byte range asked for (206), or 416 for a range past its end."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise Http404("file not found") from None
    size = stat.st_size
    headers = {"Accept-Ranges": "bytes", "Last-Modified": http_date(stat.st_mtime)}
    # A form we do not serve (several ranges, other units) gets the whole file, as RFC 9110
    # allows.
    match = _RANGE.match(request.headers.get("Range", "").strip())
    if match and (match.group(1) or match.group(2)):
        first, last = match.group(1), match.group(2)
        if first:
            start = int(first)
            end = min(int(last), size - 1) if last else size - 1
        else:  # the last N bytes
            start, end = max(0, size - int(last)), size - 1
        if start >= size or start > end:
            return HttpResponse(status=416, headers={**headers, "Content-Range": f"bytes */{size}"})
        length = end - start + 1
        response = FileResponse(_Slice(path, start, length), status=206, content_type=content_type)
        response["Content-Length"] = str(length)
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    else:
        response = FileResponse(path.open("rb"), content_type=content_type)
        response["Content-Length"] = str(size)
    for name, value in headers.items():
        response[name] = value
    if download_name:
        response["Content-Disposition"] = f'attachment; filename="{download_name}"'
    return response


def inside(root: Path, relative: str) -> Path:
    """``relative`` under ``root``, refusing anything that would leave it."""
    path = (root / relative).resolve()
    if os.path.commonpath([path, root.resolve()]) != str(root.resolve()):
        raise Http404("outside the media root")
    return path
