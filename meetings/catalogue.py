"""The translations for the pages' scripts, as a static file: one per language, its content's
hash in its address, kept by browsers and proxies for a year.

Django's ``JavaScriptCatalog`` view builds the catalogue on every request and sends it without
cache headers, so a voter's phone downloaded it (46 KB, 11 KB compressed) with every page.
Here each web process builds each language's catalogue once, from the compiled .mo files it
started with, and serves it at ``/jsi18n/<language>.<hash>.js`` with ``Cache-Control: public,
max-age=31536000, immutable`` (to visitors who are not signed in). New translations (a new
image, a restart) give a new hash, so a new address, and no browser keeps the old text. Every
process of one release computes the same hash from the same files; an address with another
hash (a page from another release) is redirected to the current one, which is not kept.

A page whose scripts need only some of the strings names its bundle (``BUNDLES``): its
catalogue (``/jsi18n/<language>-<bundle>.<hash>.js``) keeps only the entries whose text
appears in the source of the bundle's module or of the modules it imports, at any depth.
The voter's phone, on the weakest links, gets a part of the catalogue so
(tests/browser/test_page_weight.py).

``/jsi18n/`` (Django's view) stays, for anything that still links it.
"""

import hashlib
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template import Context, Engine
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation
from django.views.i18n import JavaScriptCatalog, builtin_template_path

from meetings.headers import PUBLIC_ATTRIBUTE

A_YEAR = 365 * 24 * 3600
HASH_LENGTH = 12

# A page's bundle: its entry module, under the static files.
BUNDLES = {"phone": "js/phone.js"}

_IMPORT = re.compile(r"""(?:\bfrom|\bimport\s*\(?)\s*["'](\.{1,2}/[^"']+)["']""")


def bundle_source(entry: str) -> str:
    """The source of the module ``entry`` (a static file's path) and of the modules it
    imports, at any depth, one after the other."""
    sources: list[str] = []
    seen: set[Path] = set()
    waiting = [Path(finders.find(entry))]
    while waiting:
        module = waiting.pop()
        if module in seen:
            continue
        seen.add(module)
        source = module.read_text(encoding="utf-8")
        sources.append(source)
        waiting.extend((module.parent / found).resolve() for found in _IMPORT.findall(source))
    return "\n".join(sources)


def _written_in(source: str, text: str) -> bool:
    """Whether ``text`` appears in the source as it would be written in a JavaScript string
    (a few entries more than the bundle needs cost little; one fewer would stay English)."""
    escaped = json.dumps(text, ensure_ascii=False)[1:-1]
    return text in source or escaped in source


class CompactCatalog(JavaScriptCatalog):
    """Django's catalogue with its JSON written compactly and its Vietnamese as UTF-8, not as
    ``\\uXXXX`` escapes of six bytes a letter; with ``source``, only the entries whose text
    it contains."""

    source: str | None = None

    def render_to_response(self, context, **response_kwargs):
        def compact(value) -> str:
            return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))

        if self.source is not None:
            context["catalog"] = {
                key: value
                for key, value in context["catalog"].items()
                if _written_in(self.source, key.rpartition("\x04")[2])
            }
        with builtin_template_path("i18n_catalog.js").open(encoding="utf-8") as template_file:
            template = Engine().from_string(template_file.read())
        context["catalog_str"] = compact(context["catalog"]) if context["catalog"] else None
        context["formats_str"] = compact(context["formats"])
        return HttpResponse(template.render(Context(context)), "text/javascript; charset=utf-8")


@dataclass(frozen=True)
class Catalogue:
    language: str
    content: bytes
    digest: str


@cache
def catalogue(language: str, bundle: str = "") -> Catalogue:
    """The catalogue of one of settings.LANGUAGES, all of it or a bundle's, built once per
    process."""
    request = RequestFactory().get("/jsi18n/")
    source = bundle_source(BUNDLES[bundle]) if bundle else None
    with translation.override(language):
        response = CompactCatalog.as_view(source=source)(request)
    content = response.content
    digest = hashlib.sha256(content).hexdigest()[:HASH_LENGTH]
    return Catalogue(language=language, content=content, digest=digest)


def _known(language: str) -> bool:
    return language in {code for code, _name in settings.LANGUAGES}


def catalogue_url(language: str, bundle: str = "") -> str:
    """The address of the language's catalogue (the active language's in the templates), all
    of it or a bundle's."""
    if not _known(language):
        language = language.split("-")[0]
    if not _known(language):
        language = settings.LANGUAGE_CODE
    current = catalogue(language, bundle)
    name = f"{language}-{bundle}" if bundle else language
    return reverse("javascript-catalog-hashed", kwargs={"name": name, "digest": current.digest})


def hashed_catalogue(request: HttpRequest, name: str, digest: str) -> HttpResponse:
    language, _dash, bundle = name.partition("-")
    if not _known(language) or (bundle and bundle not in BUNDLES):
        raise Http404
    current = catalogue(language, bundle)
    if digest != current.digest:
        return HttpResponseRedirect(catalogue_url(language, bundle))
    response = HttpResponse(current.content, content_type="text/javascript; charset=utf-8")
    # As every answer to someone signed in, theirs is not kept (meetings/headers.py): the
    # staff's screens are few and on good links; the voters' phones are not signed in.
    if not request.user.is_authenticated:
        response["Cache-Control"] = f"public, max-age={A_YEAR}, immutable"
        setattr(response, PUBLIC_ATTRIBUTE, True)
    return response
