from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.views.i18n import JavaScriptCatalog

from meetings import health
from meetings.api import api
from meetings.api_errors import unknown_address
from meetings.catalogue import hashed_catalogue
from meetings.headers import public as publicly_cacheable
from meetings.metrics import metrics as metrics_view
from meetings.questions import public, public_round, round_views
from meetings.questions import views as question_views
from meetings.rooms.views import pages, rounds

# Django's last resort with DEBUG off: 503 with Retry-After when the database is busy.
handler500 = "meetings.server_errors.server_error"

urlpatterns = [
    path("", pages.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("livez", health.livez, name="livez"),
    # For Prometheus, with METRICS_TOKEN only (meetings/metrics.py).
    path("metrics", metrics_view, name="metrics"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            template_name="rooms/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    # The translations for scripts as a static, hashed file, kept a year (meetings/catalogue.py).
    path(
        "jsi18n/<slug:name>.<str:digest>.js",
        hashed_catalogue,
        name="javascript-catalog-hashed",
    ),
    path("jsi18n/", publicly_cacheable(JavaScriptCatalog.as_view()), name="javascript-catalog"),
    path("meetings/", pages.meeting_list, name="meeting-list"),
    path("meetings/<slug:slug>/", pages.dashboard, name="dashboard"),
    path("meetings/<slug:slug>/halls/<int:hall_id>/poster/", pages.poster, name="poster"),
    path("meetings/<slug:slug>/queue/", question_views.queue_console, name="queue"),
    path("meetings/<slug:slug>/halls/", question_views.halls_console, name="halls"),
    path(
        "meetings/<slug:slug>/follow-ups/",
        question_views.follow_ups_page,
        name="follow-ups",
    ),
    path(
        "meetings/<slug:slug>/candidate/",
        question_views.candidate_console,
        name="candidate-console",
    ),
    path("rounds/", rounds.round_list, name="round-list"),
    path("rounds/<slug:slug>/", rounds.round_overview, name="round-overview"),
    path("archive/", public.archive, name="archive"),
    path("archive/rounds/<slug:slug>/", public_round.round_page, name="public-round"),
    path(
        "rounds/<slug:slug>/follow-through/",
        round_views.follow_through,
        name="round-follow-through",
    ),
    path("archive/<slug:slug>/", public.meeting_page, name="public-meeting"),
    path("archive/<slug:slug>/record.json", public.record, name="public-record"),
    path("archive/<slug:slug>/checkpoints.json", public.checkpoints, name="public-checkpoints"),
    path("archive/<slug:slug>/clips/<int:clip_id>.webm", public.clip_file, name="clip-file"),
    path(
        "archive/<slug:slug>/recording/<int:part>.webm",
        public.recording_file,
        name="recording-file",
    ),
    path("archive/<slug:slug>/minutes.<str:fmt>", public.minutes_file, name="minutes-file"),
    # A round's synthesis, for its organisers (docs/rounds.md, "The synthesis").
    path("rounds/", include("meetings.questions.synthesis.urls")),
    path("k/<str:token>/", pages.kiosk, name="kiosk"),
    path("v/sw.js", pages.phone_service_worker, name="phone-service-worker"),
    path("v/<str:token>/", pages.phone, name="phone"),
    path("api/", api.urls),
    # Any other /api/ path: a 404 in the API's error shape, not Django's page.
    re_path(r"^api/", unknown_address),
    path("admin/", admin.site.urls),
]
