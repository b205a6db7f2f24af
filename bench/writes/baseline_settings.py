"""The platform's own settings with one change: every URL goes to one bare view
(bench/writes/baseline_urls.py). Daphne, Django's handler, the middleware and the database are
the product's, so the baseline costs what the stack costs, and nothing of the application."""

from meetings.settings import *  # noqa: F403

ROOT_URLCONF = "bench.writes.baseline_urls"
