"""Errors to Sentry, or a server that speaks its protocol (GlitchTip, a self-hosted Sentry),
when SENTRY_DSN is set; nothing is initialised without it.

What is sent: unhandled exceptions of requests, consumers and commands, and ERROR log lines
(sentry-sdk's Django and logging integrations). No personal data (``send_default_pii`` off:
no cookies, no user, no request body), and every text of the event goes through the same
masking as the logs (meetings/logs.py): the request's address holds a join-link token on the
kiosk's and phones' pages.
"""

from typing import Any

from meetings.logs import redact


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _masked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_masked(item) for item in value]
    return value


def before_send(event: dict, hint: dict) -> dict:
    return _masked(event)


def start(dsn: str, *, environment: str, release: str) -> None:
    import sentry_sdk

    sentry_sdk.init(
        dsn=dsn,
        environment=environment or None,
        release=release or None,
        send_default_pii=False,
        before_send=before_send,
        before_send_transaction=before_send,
        traces_sample_rate=0,
    )
