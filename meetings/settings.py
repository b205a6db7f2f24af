"""Settings, read from the environment.

With nothing set, the platform runs on one machine with no other service: an SQLite file and
the in-memory channel layer. ``DATABASE_URL`` switches to PostgreSQL and ``REDIS_URL`` to Redis
(channel layer and cache). The README lists every variable.
"""

import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from meetings.env import (
    env_base64_bytes,
    env_bool,
    env_choice,
    env_int,
    env_json,
    env_list,
    env_path,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent
# Writable state of a single-machine install: the SQLite file, the generated secret key, media.
VAR_DIR = env_path("VAR_DIR", BASE_DIR / "var")

DEBUG = env_bool("DEBUG", False)


def _local_secret_key() -> str:
    """A key generated once per install, so a laptop run needs no configuration.

    Production sets SECRET_KEY; several web nodes must share it.
    """
    key_file = VAR_DIR / "secret-key"
    if key_file.exists():
        return key_file.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


SECRET_KEY = env_str("SECRET_KEY") or _local_secret_key()
RECORD_KEY_HOW_TO_MAKE = (
    "python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())'"
)
# The record's signing key (Ed25519): the standard base64 of its 32-byte private seed. Every
# web node and worker of an installation shares it; empty on a single machine: generated once
# into VAR_DIR/record-signing-key (meetings/rooms/checkpoints.py). Observers check the
# checkpoints signed with it against the public key the site publishes (docs/record.md).
RECORD_SIGNING_KEY = env_base64_bytes("RECORD_SIGNING_KEY", 32, RECORD_KEY_HOW_TO_MAKE)
# While a conference is live, its head is signed again at its first entry after this many
# seconds since the last checkpoint (and always at its end, its publication, and every entry
# appended after the end).
RECORD_CHECKPOINT_SECONDS = env_int("RECORD_CHECKPOINT_SECONDS", 300, minimum=1)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# The public address used in join links and QR codes printed on posters, e.g.
# https://tiepxuc.example.vn. Empty: build links from the request's own host.
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL").rstrip("/")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "ninja",
    "axes",
    "meetings.rooms",
    "meetings.questions",
]

MIDDLEWARE = [
    # Outermost: compresses every text answer, after everything below has written it
    # (meetings/compression.py).
    "meetings.compression.TextCompressionMiddleware",
    # Request ids and conference ids for the logs, HTTP latency for /metrics (meetings/logs.py,
    # meetings/metrics.py).
    "meetings.logs.RequestContextMiddleware",
    "meetings.metrics.RequestMetricsMiddleware",
    # Then: every error answer to /api/ in the API's shape, whatever made it (api_errors.py).
    "meetings.api_errors.ApiErrorMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Below WhiteNoise, which answers for the static files before these run (meetings/headers.py).
    "meetings.headers.ContentSecurityPolicyMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "meetings.headers.NoStoreUnlessPublicMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "meetings.locale_choice.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a sign-in refused for too many failures into the sign-in page's message.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "meetings.urls"
ASGI_APPLICATION = "meetings.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "meetings" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------

DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    _database = dj_database_url.parse(DATABASE_URL)
    if _database["ENGINE"] == "django.db.backends.postgresql":
        # psycopg's pool: Channels consumers open a connection per database call otherwise.
        pool_size = env_int("DATABASE_POOL_SIZE", 20, minimum=0)
        if pool_size:
            _database.setdefault("OPTIONS", {})["pool"] = {
                "min_size": 1,
                "max_size": pool_size,
                # Seconds a request waits for a free connection before it is answered 503
                # (meetings/api.py); psycopg's own default is 30.
                "timeout": env_int("DATABASE_POOL_TIMEOUT", 10, minimum=1),
            }
    DATABASES = {"default": _database}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            "OPTIONS": {
                # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at
                # BEGIN, so two writers queue instead of failing with "database is locked".
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            "TEST": {"NAME": env_str("SQLITE_TEST_NAME") or None},
            # Each thread keeps its connection. Otherwise every database_sync_to_async call
            # opened a new one (and set its pragmas): a fifth of the web node's CPU with 2,000
            # screens connected (bench/realtime, profiled). PostgreSQL has its pool instead.
            "CONN_MAX_AGE": None,
            "CONN_HEALTH_CHECKS": True,
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channel layer and cache ----------------------------------------------------------------

REDIS_URL = env_str("REDIS_URL")
REDIS_PREFIX = env_str("REDIS_PREFIX", "meetings")
REDIS_SOCKET_TIMEOUT = 15  # seconds; more than channels-redis's blocking read (5 s)

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # channels-redis waits for a message with a 5 s blocking read; redis-py's own
                # 5 s socket timeout would end that read first, closing every websocket whose
                # channel is quiet for 5 s (1011). The socket must wait longer than the read.
                "hosts": [{"address": REDIS_URL, "socket_timeout": REDIS_SOCKET_TIMEOUT}],
                "prefix": f"{REDIS_PREFIX}:asgi",
                # The layer is a doorbell: a full queue drops, and clients repair from the log.
                "capacity": env_int("CHANNEL_CAPACITY", 1000, minimum=1),
                "expiry": 30,
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"{REDIS_PREFIX}:cache",
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "meetings.rooms.realtime.memory_layer.InMemoryChannelLayer"}
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- WebRTC ---------------------------------------------------------------------------------

# A JSON list of RTCIceServer objects. Empty by default: no public STUN server is contacted
# unless an operator configures one.
ICE_SERVERS = env_json("ICE_SERVERS", [])
if not isinstance(ICE_SERVERS, list) or not all(
    isinstance(server, dict) and "urls" in server for server in ICE_SERVERS
):
    raise ImproperlyConfigured('ICE_SERVERS must be a JSON list of objects with "urls"')

# A TURN server's shared secret (coturn's use-auth-secret): browsers get credentials made
# from it that expire after TURN_CREDENTIAL_SECONDS, never the secret itself.
TURN_SECRET = env_str("TURN_SECRET")
TURN_CREDENTIAL_SECONDS = env_int("TURN_CREDENTIAL_SECONDS", 12 * 3600, minimum=60)
# A turn:/turns: server with neither its own username and credential nor TURN_SECRET would
# reach browsers without credentials, and Chromium's RTCPeerConnection refuses it
# (InvalidAccessError): every screen's media would stop. Refused here, at start-up.
_turn_without_credentials = [
    url
    for server in ICE_SERVERS
    if not ("username" in server and "credential" in server)
    for url in (server["urls"] if isinstance(server["urls"], list) else [server["urls"]])
    if str(url).startswith(("turn:", "turns:"))
]
if _turn_without_credentials and not TURN_SECRET:
    raise ImproperlyConfigured(
        f"ICE_SERVERS lists the TURN server {_turn_without_credentials[0]} without a username and "
        "credential: set TURN_SECRET (its use-auth-secret / static-auth-secret) on every web node "
        "and media worker, or give the server a username and credential"
    )
# Where the media hubs run: "thread" (in the web process, the single-machine default) or
# "worker" (separate `manage.py media_worker` processes over the channel layer, with Redis).
MEDIA_WORKER = env_choice("MEDIA_WORKER", "worker" if REDIS_URL else "thread", ("thread", "worker"))
if MEDIA_WORKER == "worker" and not REDIS_URL:
    raise ImproperlyConfigured(
        "MEDIA_WORKER=worker needs REDIS_URL: workers are reached over Redis"
    )
MEDIA_WORKERS = env_int("MEDIA_WORKERS", 1, minimum=1)
# The addresses the hub offers as its ICE host candidates; empty: every address of the
# machine but loopback. Set the public address behind 1:1 NAT, or 127.0.0.1 for tests.
MEDIA_HOST_ADDRESSES = env_list("MEDIA_HOST_ADDRESSES", [])

# --- Auth, sessions, security ---------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "meeting-list"
LOGOUT_REDIRECT_URL = "login"

# Password guessing (django-axes, on every sign-in: the sign-in page and the admin's). Failures
# are counted per account AND client address together, so a stranger typing wrong passwords
# for the chair locks only their own address out, never the chair at the studio. The lock
# lifts by itself after the cool-off; `manage.py axes_reset_username <name>` lifts it at once.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses a locked pair before any password check
    "django.contrib.auth.backends.ModelBackend",
]
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15, minimum=1))
# Attempts while locked do not extend the lock: the chair, sharing an address with whoever
# tried, gets in again one cool-off after the last counted failure.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "meetings.client_address.throttled_address"
AXES_LOCKOUT_CALLABLE = "meetings.sign_in.locked_out"
# Reverse proxies in front of the web nodes that append the client's address to
# X-Forwarded-For (compose: 1). 0: the address of the TCP peer itself.
TRUSTED_PROXIES = env_int("TRUSTED_PROXIES", 0, minimum=0)

# HTTPS=1 behind a TLS-terminating proxy: secure cookies, HSTS, redirect to https.
HTTPS = env_bool("HTTPS", False)
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^livez$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_AGE = 60 * 60 * 12  # a working day at the studio

# What a page may load and run (meetings/headers.py adds the page's host for its websocket).
# The pages' scripts are ES modules from /static/ and their settings a JSON block, never run:
# no inline script or style attribute is needed, so none is allowed. data: images are the
# halls' camera thumbnails and the tab icon; the programme plays from a MediaStream, which
# media-src does not govern; the phone's service worker is served from /v/sw.js.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "media-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'"],
        "manifest-src": ["'self'"],
        "object-src": ["'none'"],
        "frame-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Powerful features no page uses are denied, the camera and the microphone too: the kiosk,
# the candidate's console and the halls console grant them to themselves (headers.sends_media).
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "browsing-topics",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}

# --- Internationalisation -------------------------------------------------------------------

LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
# Our Vietnamese date formats (meetings/formats/vi/formats.py) over Django's.
FORMAT_MODULE_PATH = ["meetings.formats"]
LOCALE_PATHS = [BASE_DIR / "meetings" / "locale"]
USE_I18N = True
TIME_ZONE = env_str("TIME_ZONE", "Asia/Ho_Chi_Minh")
USE_TZ = True

# --- Static and media files -----------------------------------------------------------------

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "frontend"]
# Production images run collectstatic and set STATIC_MANIFEST=1 for hashed, compressed files.
# Otherwise WhiteNoise serves straight from frontend/, so no build or collect step is needed.
if env_bool("STATIC_MANIFEST", False):
    STATIC_ROOT = env_path("STATIC_ROOT", VAR_DIR / "static")
    _static_backend = "meetings.compression.HashedStaticFiles"
else:
    _static_backend = "django.contrib.staticfiles.storage.StaticFilesStorage"
    WHITENOISE_USE_FINDERS = True
    WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = env_path("MEDIA_ROOT", VAR_DIR / "media")
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": _static_backend},
}

# --- Production shape (issue 15: health, proxy, media ports) --------------------------------
# The peers whose X-Forwarded-For is read (with TRUSTED_PROXIES > 0): addresses or networks.
# A request from any other peer keeps its own address, whatever headers it sends.
TRUSTED_PROXY_NETWORKS = env_list("TRUSTED_PROXY_NETWORKS", ["127.0.0.0/8", "::1/128"])
# /healthz fails when the file system under MEDIA_ROOT has less free space than this.
HEALTH_MIN_FREE_MB = env_int("HEALTH_MIN_FREE_MB", 2048, minimum=0)
# The UDP ports the media hubs bind (e.g. "40000-40999"; empty: any the system gives).
MEDIA_UDP_PORTS = env_str("MEDIA_UDP_PORTS")
# The media worker writes its state here every few seconds (`manage.py media_health` reads it).
MEDIA_HEALTH_FILE = env_path("MEDIA_HEALTH_FILE", VAR_DIR / "media-worker-{index}.json")

# --- The meeting platform -------------------------------------------------------------------

# Join links stay valid this long after the meeting's scheduled start.
JOIN_LINK_HOURS_AFTER_START = env_int("JOIN_LINK_HOURS_AFTER_START", 36, minimum=1)
# A client further behind than this many events gets a fresh snapshot instead of a replay.
EVENT_REPLAY_LIMIT = env_int("EVENT_REPLAY_LIMIT", 500, minimum=1)
# Clients ping this often; a kiosk silent for three intervals counts as disconnected.
HEARTBEAT_SECONDS = env_int("HEARTBEAT_SECONDS", 20, minimum=1)
# Phones get the events that come within this many milliseconds of each other in one frame
# (0: each in its own); kiosks, candidates and staff always get each event as it commits.
PHONE_BATCH_MS = env_int("PHONE_BATCH_MS", 200, minimum=0)
# Each web process compares its copy of each meeting's stream with the record this often, and
# reads what a lost doorbell left out.
STREAM_CHECK_SECONDS = env_int("STREAM_CHECK_SECONDS", 1, minimum=1)

# Rate limits on what voters send, as "count/seconds" (docs/questions.md, "Limits"): per
# phone; per hall for its established phones, and apart for its new phones (an id younger than
# DEVICE_NEW_SECONDS); the clerk's paper questions have a count of their own, the size of
# QUESTION_LIMIT_PER_HALL. A retry of a question already received never counts.
QUESTION_LIMIT_PER_DEVICE = env_str("QUESTION_LIMIT_PER_DEVICE", "5/600")
QUESTION_LIMIT_PER_HALL = env_str("QUESTION_LIMIT_PER_HALL", "120/60")
QUESTION_LIMIT_PER_HALL_NEW_PHONES = env_str("QUESTION_LIMIT_PER_HALL_NEW_PHONES", "30/60")
VOTE_LIMIT_PER_DEVICE = env_str("VOTE_LIMIT_PER_DEVICE", "60/60")
# Device ids the server signs for phones, as "count/seconds": per hall (its busiest start is a
# few hundred voters within minutes), and per client address over every hall (generous: a
# hall's phones share its Wi-Fi's one address).
DEVICE_LIMIT_PER_HALL = env_str("DEVICE_LIMIT_PER_HALL", "400/600")
DEVICE_LIMIT_PER_ADDRESS = env_str("DEVICE_LIMIT_PER_ADDRESS", "1000/600")
DEVICE_NEW_SECONDS = env_int("DEVICE_NEW_SECONDS", 600, minimum=0)
for _name in (
    "QUESTION_LIMIT_PER_DEVICE",
    "QUESTION_LIMIT_PER_HALL",
    "QUESTION_LIMIT_PER_HALL_NEW_PHONES",
    "VOTE_LIMIT_PER_DEVICE",
    "DEVICE_LIMIT_PER_HALL",
    "DEVICE_LIMIT_PER_ADDRESS",
):
    _count, _slash, _seconds = globals()[_name].partition("/")
    if not (_count.isdigit() and _seconds.isdigit() and int(_count) > 0 and int(_seconds) > 0):
        raise ImproperlyConfigured(f"{_name} must look like 5/600 (count/seconds)")
# Counts (votes, and each hall's tally of questions) are announced in batches, at most this
# often per conference. VOTE_PUBLISH_SECONDS is its former name, still read.
COUNTS_PUBLISH_SECONDS = env_int(
    "COUNTS_PUBLISH_SECONDS", env_int("VOTE_PUBLISH_SECONDS", 1, minimum=1), minimum=1
)

# --- Monitoring (docs/architecture.md, "Monitoring") ----------------------------------------

# /metrics answers only "Authorization: Bearer <METRICS_TOKEN>"; unset, it does not exist.
METRICS_TOKEN = env_str("METRICS_TOKEN")
# "plain" (the default, for make run) or "json": one object a line with request_id and
# conference, for a log collector.
LOG_FORMAT = env_choice("LOG_FORMAT", "plain", ("plain", "json"))
# Errors to Sentry or a compatible server (meetings/error_reports.py); unset, nothing is sent.
SENTRY_DSN = env_str("SENTRY_DSN")
if SENTRY_DSN:
    from meetings import error_reports

    error_reports.start(
        SENTRY_DSN,
        environment=env_str("SENTRY_ENVIRONMENT"),
        release=env_str("SENTRY_RELEASE"),
    )

# Every line goes through one handler, whose filter masks join-link tokens, session ids and
# device ids (meetings/logs.py). Daphne's access log is sent through it too (meetings/asgi.py).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact_secrets": {"()": "meetings.logs.RedactSecrets"},
        "request_context": {"()": "meetings.logs.RequestContext"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "meetings.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["redact_secrets", "request_context"],
        }
    },
    "root": {
        "handlers": ["console"],
        # Read here, not by logging: a misspelt level would stop Django's set-up with a bare
        # "ValueError: Unable to configure root logger".
        "level": env_choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")),
    },
    "loggers": {
        # Django's default handlers (a console under DEBUG, mail to ADMINS, runserver's request
        # lines) would print paths without the filter: their records go to the root's handler.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": [], "propagate": True},
        # Django writes a warning for every 4xx ("Not Found: /x"), beside Daphne's access log
        # line for the same request: one line per request is the access log's. Its errors (a
        # 5xx, with the traceback) stay. django.security.* keeps its reasons (a CSRF refusal).
        "django.request": {"level": "ERROR"},
        "django.db.backends": {"level": "WARNING"},
        # aioice logs every candidate pair check at INFO: a line per hall per second.
        "aioice": {"level": "WARNING"},
        "aiortc": {"level": "WARNING"},
        # django-axes logs every sign-in at INFO (they are in its access log table); failures
        # and locks come at WARNING.
        "axes": {"level": "WARNING"},
    },
}
