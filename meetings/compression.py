"""Compression of every text answer, and the static files' storage with hashed addresses.

``TextCompressionMiddleware`` is Django's ``GZipMiddleware`` (which pads each answer with a
random length against BREACH) for text only: HTML, JavaScript, CSS, JSON, SVG and plain text.
Recordings, clips and images are compressed already, and a part of a file (206) must stay the
bytes it says it is. Static files come from WhiteNoise, compressed ahead (gzip and Brotli) by
``collectstatic`` in production images; without that (``STATIC_MANIFEST`` off, as under
``make run``) this middleware compresses them as they are sent.

``HashedStaticFiles`` is WhiteNoise's compressed manifest storage with Django's rewriting of
JavaScript module imports switched on: ``import { x } from "./y.js"`` becomes
``"./y.<hash>.js"``, so every module a page loads has a hashed address that WhiteNoise marks
immutable (a year), and a repeat visit asks for none of them.
"""

from django.middleware.gzip import GZipMiddleware
from whitenoise.storage import CompressedManifestStaticFilesStorage

TEXT_TYPES = (
    "text/",
    "application/json",
    "application/javascript",
    "application/manifest+json",
    "application/xml",
    "image/svg+xml",
)


class TextCompressionMiddleware(GZipMiddleware):
    def process_response(self, request, response):
        content_type = response.get("Content-Type", "")
        if response.status_code == 206 or not content_type.startswith(TEXT_TYPES):
            return response
        return super().process_response(request, response)


class HashedStaticFiles(CompressedManifestStaticFilesStorage):
    support_js_module_import_aggregation = True
