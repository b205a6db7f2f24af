"""The Vietnamese catalogues: complete, compiled, current with the sources, and served.

Vietnamese is the default language and the msgids are English, so English needs no catalogue.
Regenerate the catalogues with `make messages`; the extraction below mirrors that target.
"""

import json
import re
import shutil
import subprocess
from pathlib import Path

import polib
import pytest
from django.conf import settings as django_settings
from django.core.management import call_command

REPO = Path(__file__).resolve().parent.parent
LC_MESSAGES = REPO / "meetings" / "locale" / "vi" / "LC_MESSAGES"
DOMAINS = ["django", "djangojs"]

# As in the Makefile's `messages` target: the ES modules translate through `_` and `fmt`.
JS_XGETTEXT = [
    "xgettext",
    "--language=JavaScript",
    "--from-code=UTF-8",
    "--add-comments=Translators",
    "--keyword=_",
    "--keyword=fmt",
    "--package-name=meetings",
]

# %(name)s, %s, %d and a literal %%: what Python's % and Django's interpolate() read.
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[sdif%]")


def catalogue(domain: str) -> polib.POFile:
    return polib.pofile(str(LC_MESSAGES / f"{domain}.po"))


def current_entries(po: polib.POFile) -> list[polib.POEntry]:
    return [entry for entry in po if not entry.obsolete]


def is_translated(entry: polib.POEntry) -> bool:
    if entry.msgid_plural:
        return bool(entry.msgstr_plural) and all(entry.msgstr_plural.values())
    return bool(entry.msgstr)


def translations(catalogue_file: polib._BaseFile) -> set[tuple]:
    """(context, msgid, plural msgid, translations) of every entry but the header."""
    return {
        (
            entry.msgctxt,
            entry.msgid,
            entry.msgid_plural,
            entry.msgstr,
            tuple(sorted(entry.msgstr_plural.items())),
        )
        for entry in catalogue_file
        if entry.msgid
    }


def msgids(catalogue_file: polib._BaseFile) -> set[tuple[str | None, str]]:
    return {(entry.msgctxt, entry.msgid) for entry in catalogue_file if entry.msgid}


def needs_gettext():
    missing = [tool for tool in ("xgettext", "msguniq", "msgmerge") if not shutil.which(tool)]
    if missing:
        pytest.skip(f"GNU gettext is not installed ({', '.join(missing)})")


# --- The committed catalogues ---------------------------------------------------------------


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_entry_is_translated_and_none_is_fuzzy(domain):
    po = catalogue(domain)
    entries = current_entries(po)
    assert entries, f"{domain}.po has no entries"
    assert po.metadata["Language"] == "vi"
    assert po.metadata["Plural-Forms"] == "nplurals=1; plural=0;"
    assert not po.metadata_is_fuzzy, f"the header of {domain}.po is marked fuzzy"

    fuzzy = [entry.msgid for entry in entries if entry.fuzzy]
    assert not fuzzy, f"fuzzy in {domain}.po: {fuzzy}"
    empty = [entry.msgid for entry in entries if not is_translated(entry)]
    assert not empty, f"untranslated in {domain}.po: {empty}"


@pytest.mark.parametrize("domain", DOMAINS)
def test_translations_keep_the_placeholders(domain):
    wrong = []
    for entry in current_entries(catalogue(domain)):
        expected = sorted(PLACEHOLDER.findall(entry.msgid))
        for msgstr in [entry.msgstr, *entry.msgstr_plural.values()]:
            if msgstr and sorted(PLACEHOLDER.findall(msgstr)) != expected:
                wrong.append((entry.msgid, msgstr))
    assert not wrong


@pytest.mark.parametrize("domain", DOMAINS)
def test_committed_mo_matches_the_po(domain, tmp_path):
    po = catalogue(domain)
    fresh = tmp_path / f"{domain}.mo"
    po.save_as_mofile(str(fresh))
    committed = polib.mofile(str(LC_MESSAGES / f"{domain}.mo"))

    assert translations(committed) == translations(polib.mofile(str(fresh))), (
        f"{domain}.mo is stale: run `make messages`"
    )
    # Django takes the plural rule and the charset from the compiled header.
    assert committed.metadata["Plural-Forms"] == po.metadata["Plural-Forms"]
    assert committed.metadata["Content-Type"] == "text/plain; charset=UTF-8"


# --- The catalogues against the sources -----------------------------------------------------


def test_django_catalogue_covers_python_and_templates(settings, tmp_path, monkeypatch):
    """makemessages as `make messages` runs it, on a copy of the package so that the committed
    catalogue is never touched."""
    needs_gettext()
    package = tmp_path / "meetings"
    shutil.copytree(
        REPO / "meetings", package, ignore=shutil.ignore_patterns("locale", "__pycache__")
    )
    output = tmp_path / "extracted"
    settings.LOCALE_PATHS = [output]
    monkeypatch.chdir(package)

    call_command(
        "makemessages", domain="django", locale=["vi"], ignore_patterns=["tests"], verbosity=0
    )

    extracted = polib.pofile(str(output / "vi" / "LC_MESSAGES" / "django.po"))
    assert len(extracted) > 0
    missing = msgids(extracted) - msgids(catalogue("django"))
    assert not missing, f"not in django.po, run `make messages`: {sorted(missing, key=str)}"


def test_djangojs_catalogue_covers_the_es_modules(tmp_path):
    needs_gettext()
    sources = sorted((REPO / "frontend" / "js").glob("*.js"))
    pot = tmp_path / "djangojs.pot"
    subprocess.run(
        [*JS_XGETTEXT, f"--output={pot}", *[str(path) for path in sources]],
        check=True,
        cwd=REPO,
    )

    extracted = polib.pofile(str(pot))
    assert len(extracted) > 0
    missing = msgids(extracted) - msgids(catalogue("djangojs"))
    assert not missing, f"not in djangojs.po, run `make messages`: {sorted(missing, key=str)}"


def test_xgettext_sees_every_literal_js_call():
    """xgettext's JavaScript parser can lose its place on newer syntax and drop strings
    silently; a plain scan for _("…") and fmt("…") catches that."""
    call = re.compile(r'(?<![\w$.])(?:_|fmt)\(\s*"((?:[^"\\]|\\.)*)"')
    found = {
        json.loads(f'"{match.group(1)}"')
        for path in sorted((REPO / "frontend" / "js").glob("*.js"))
        for match in call.finditer(path.read_text(encoding="utf-8"))
    }
    assert found
    missing = found - {msgid for _context, msgid in msgids(catalogue("djangojs"))}
    assert not missing, f"not in djangojs.po, run `make messages`: {sorted(missing, key=str)}"


# --- What the server sends ------------------------------------------------------------------


def page_language(response) -> str:
    match = re.search(r'<html lang="([^"]+)"', response.content.decode())
    assert match, "the page names no language"
    return match.group(1)


@pytest.mark.django_db
def test_login_page_is_vietnamese_by_default(client):
    response = client.get("/accounts/login/")

    assert response.status_code == 200
    assert page_language(response) == "vi"
    text = response.content.decode()
    assert "Đăng nhập" in text
    assert "Tên đăng nhập" in text
    assert "Sign in" not in text


@pytest.mark.django_db
def test_an_english_browser_still_opens_in_vietnamese(client):
    """Many phones and hall TVs run an English system; the screens open in Vietnamese and the
    switcher (not the browser) chooses English."""
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")

    assert page_language(response) == "vi"
    assert "Đăng nhập" in response.content.decode()


@pytest.mark.django_db
def test_language_switch_to_english_and_back(client):
    response = client.post(
        "/i18n/setlang/", {"language": "en", "next": "/accounts/login/"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/accounts/login/"
    assert client.cookies[django_settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert page_language(response) == "en"
    assert "Sign in" in response.content.decode()

    response = client.post(
        "/i18n/setlang/", {"language": "vi", "next": "/accounts/login/"}, follow=True
    )
    assert page_language(response) == "vi"
    assert "Đăng nhập" in response.content.decode()


@pytest.mark.django_db
def test_javascript_catalogue_serves_the_vietnamese_strings(client):
    response = client.get("/jsi18n/")

    assert response.status_code == 200
    text = response.content.decode()
    # The catalogue is JSON inside JavaScript, so non-ASCII arrives as \u escapes.
    assert json.dumps("Khai mạc hội nghị") in text
    absent = [
        entry.msgid
        for entry in current_entries(catalogue("djangojs"))
        if json.dumps(entry.msgstr) not in text
    ]
    assert not absent, f"translated but not served: {absent}"


@pytest.mark.django_db
def test_javascript_catalogue_in_english_leaves_the_source_strings(client):
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get("/jsi18n/")

    assert response.status_code == 200
    assert json.dumps("Khai mạc hội nghị") not in response.content.decode()
