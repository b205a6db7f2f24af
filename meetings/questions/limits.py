"""Rate limits for what voters send, counted in the shared cache (Redis in production).

Fixed windows: at most N actions per window of S seconds per key. Configured in settings as
"N/S" strings (QUESTION_LIMIT_PER_DEVICE and friends).
"""

import logging
import time
from dataclasses import dataclass

from django.core.cache import cache
from django.utils.translation import gettext as _

from meetings.rooms.errors import RateLimited

logger = logging.getLogger(__name__)


def parse_rate(rate: str) -> tuple[int, int]:
    count, _slash, seconds = rate.partition("/")
    return int(count), int(seconds)


@dataclass(frozen=True)
class Taken:
    """One action counted against a key: ``used`` actions in the window so far, this one
    included (0 when the cache could not be reached and nothing was counted)."""

    cache_key: str | None
    used: int

    def give_back(self) -> None:
        """Uncount it: the action was refused by a later limit, and did not happen."""
        if self.cache_key is None:
            return
        try:
            cache.decr(self.cache_key)
        except Exception:  # expired meanwhile, or the cache is gone: nothing left to give back
            logger.debug("rate limit %s not given back", self.cache_key, exc_info=True)


def take(key: str, rate: str, message: str, *, refuse: bool = True) -> Taken:
    """Count one action against ``key``; RateLimited (with a wait in seconds) when over, unless
    ``refuse`` is false (then it is only counted).

    When the cache cannot be reached (Redis restarting), the action is let through uncounted:
    a voter's question matters more than a limit, and the database still holds it."""
    limit, window = parse_rate(rate)
    now = int(time.time())
    bucket = now // window
    cache_key = f"limit:{key}:{bucket}"
    try:
        used = _count(cache_key, window)
    except Exception:
        logger.warning("rate limit %s not counted: the cache is unreachable", key, exc_info=True)
        return Taken(None, 0)
    if used > limit and refuse:
        wait = (bucket + 1) * window - now
        raise RateLimited(message, detail={"retry_after": wait})
    return Taken(cache_key, used)


def _count(cache_key: str, window: int) -> int:
    cache.add(cache_key, 0, timeout=window + 5)
    try:
        return cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=window + 5)
        return 1


def question_limits_message() -> str:
    return _("You have sent several questions in a short time. Please wait a few minutes.")
