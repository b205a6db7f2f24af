"""No log line carries a credential.

A hall's operator link (``/k/<token>/``) is its kiosk, a voter link (``/v/<token>/``) its
phones; the websocket carries the link as ``?link=``, the API as ``X-Join-Link``; a session id
or a phone's device id lets whoever reads it act as that browser or phone. Daphne's access log,
Django's request warnings (``Forbidden: /k/<token>/``) and our own lines would print them to
wherever logs go. ``RedactSecrets``, the filter on the one handler of settings.LOGGING, masks
them in every record: in its message and arguments, its traceback and its stack.

What is masked:

- the path segment after ``/k/`` and ``/v/``, whatever it looks like;
- the value of any query parameter, header, cookie or key whose name mentions a link, a token,
  a session, a device, a secret, a password, a CSRF token or a nonce (``link=…``,
  ``X-Join-Link: …``, ``sessionid=…``, ``"device_id": "…"``);
- a signed join-link token anywhere else, by its shape.

A join-link token keeps its link's number (``/k/12.[redacted]/``), which is no secret and tells
an operator which hall's link a line is about.
"""

import contextvars
import json
import logging
import re
import uuid

from daphne.access import AccessLogGenerator

from meetings.wrapping import AroundResponseMiddleware

PLACEHOLDER = "[redacted]"

_ALREADY = rf"(?!\d+\.{re.escape(PLACEHOLDER)}|{re.escape(PLACEHOLDER)})"
# A value ends at a space, a separator, a quote or a bracket.
_VALUE = r"[^\s&;,\"'\[\]{}()<>]+"
_SECRET_NAME = r"[\w-]*(?:link|token|session|device|secret|password|csrf|nonce)[\w-]*"

_PAGE_PATH = re.compile(rf"(?<=/[kv]/)(?!sw\.js\b){_ALREADY}[^/?#\s\"'\[\]<>]+")
_NAMED_VALUE = re.compile(
    rf"(?<![\w-])(?P<name>{_SECRET_NAME})(?P<separator>[\"']?\s*[:=]\s*[\"']?){_ALREADY}"
    rf"(?P<value>{_VALUE})",
    re.IGNORECASE,
)
# meetings/rooms/services/join_links.py: "<link id>.<24-character nonce>:<signature>", with
# the colon percent-encoded in a query string.
_JOIN_TOKEN = re.compile(r"\b(\d+)\.[A-Za-z0-9]{24}(?::|%3[Aa])[A-Za-z0-9_-]{20,}")
_LINK_NUMBER = re.compile(r"(\d+)\.")


def _masked(value: str) -> str:
    number = _LINK_NUMBER.match(value)
    return f"{number.group(1)}.{PLACEHOLDER}" if number else PLACEHOLDER


def redact(text: str) -> str:
    """The text with every credential masked (see the module's docstring)."""
    text = _PAGE_PATH.sub(lambda match: _masked(match.group()), text)
    text = _NAMED_VALUE.sub(
        lambda match: match.group("name") + match.group("separator") + _masked(match["value"]),
        text,
    )
    return _JOIN_TOKEN.sub(lambda match: f"{match.group(1)}.{PLACEHOLDER}", text)


_TRACEBACKS = logging.Formatter()


class RedactSecrets(logging.Filter):
    """Masks credentials in a record before any handler writes it. The record is changed in
    place, so every handler after this one sees it masked too."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not fit: logging would print them raw
            message = f"{record.msg} {record.args!r}"
            record.args = ()
            record.msg = message
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class DaphneAccessLog(AccessLogGenerator):
    """Daphne's access log, one line per request and websocket step, written through Python
    logging (logger ``daphne.access``, level INFO) instead of straight to standard output: its
    lines go through the same handler, and so the same filter, as every other."""

    logger = logging.getLogger("daphne.access")

    def write_entry(
        self, host, date, request, status=None, length=None, ident=None, user=None
    ) -> None:
        self.logger.info('%s "%s" %s %s', host, request, status or "-", length or "-")


def route_daphne_access_log() -> None:
    """Daphne's command line (``daphne``, ``python -m daphne``, and so meetings.serve) makes
    its access log from ``daphne.cli.AccessLogGenerator`` after it has imported the
    application, so the application's module can put ``DaphneAccessLog`` in its place. This
    relies on Daphne's command line as of 4.2 (pinned exactly); tests/security/
    test_log_redaction.py checks it on a real Daphne. Without an access log (``-v 0``) there is
    nothing to route."""
    from daphne import cli

    cli.AccessLogGenerator = DaphneAccessLog


# --- request ids and conference ids, and JSON lines (LOG_FORMAT=json) -----------------------

REQUEST_ID: "contextvars.ContextVar[str]" = contextvars.ContextVar("request_id", default="")
CONFERENCE: "contextvars.ContextVar[str]" = contextvars.ContextVar("conference", default="")
_REQUEST_ID_SHAPE = re.compile(r"[A-Za-z0-9._-]{8,64}")


class RequestContextMiddleware(AroundResponseMiddleware):
    """Gives each request an id (the proxy's ``X-Request-ID`` when it sends a sane one, else a
    new one), sent back in ``X-Request-ID``, and names the conference its address is about
    (its slug): every line logged while the request runs carries both (``JsonFormatter``)."""

    def before(self, request) -> str:
        given = request.headers.get("X-Request-ID", "")
        request_id = given if _REQUEST_ID_SHAPE.fullmatch(given) else uuid.uuid4().hex
        REQUEST_ID.set(request_id)
        CONFERENCE.set("")
        return request_id

    def after(self, request, response, request_id):
        response["X-Request-ID"] = request_id
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        slug = view_kwargs.get("slug")
        if slug:
            CONFERENCE.set(str(slug))


class RequestContext(logging.Filter):
    """Puts the request's id and conference on each record as it is logged (a handler may
    format it later, elsewhere)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        record.conference = CONFERENCE.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request_id, conference (when
    known, from ``RequestContext``) and the traceback. The filter has masked the secrets
    before this runs."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        for name in ("request_id", "conference"):
            value = getattr(record, name, "")
            if value:
                line[name] = value
        if record.exc_text or record.exc_info:
            line["exception"] = record.exc_text or self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, ensure_ascii=False)
