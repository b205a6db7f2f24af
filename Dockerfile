# The production image: Daphne serving Django (HTTP) and the meeting websocket, one process per
# core (python -m meetings.serve; WEB_PROCESSES sets another number). compose.yaml runs it as
# the web node, the one-shot migration and the media worker.
#
#   docker build -t meetings .
#
# Every Python dependency installs from a manylinux wheel (PyAV bundles its FFmpeg), so the
# slim image needs no compiler.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 meetings \
    && useradd --system --uid 10001 --gid meetings --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin meetings

WORKDIR /app

# The package and its exact pins first: a change to frontend/ alone does not reinstall.
# README.md is the package's readme (pyproject.toml), so the build needs it.
COPY pyproject.toml constraints.txt README.md ./
COPY meetings ./meetings
RUN pip install -c constraints.txt .

COPY manage.py ./
COPY frontend ./frontend

# Hashed, compressed static files, collected once into the image and served by WhiteNoise.
# The throwaway SECRET_KEY keeps settings from generating and storing a key in the image.
ENV VAR_DIR=/app/var \
    STATIC_MANIFEST=1 \
    STATIC_ROOT=/app/static \
    MEDIA_ROOT=/data/media
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --no-input \
    && mkdir -p /app/var /data/media \
    && chown meetings:meetings /app/var /data/media

USER 10001:10001
EXPOSE 8000

# /healthz answers 200 when the node serves and reaches its database and Redis, with free space
# under MEDIA_ROOT (README, "Health checks"; 503 naming what failed). It must be asked with a host
# name Django accepts (the first of ALLOWED_HOSTS), and it is exempt from the HTTPS redirect.
# Each check reaches one of the web processes, the one the kernel hands the connection to.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as r; host = os.environ.get('ALLOWED_HOSTS', 'localhost').split(',')[0].strip().lstrip('.*') or 'localhost'; r.urlopen(r.Request('http://127.0.0.1:%s/healthz' % (os.environ.get('WEB_PORT') or '8000'), headers={'Host': host}), timeout=4)"]

# One Daphne process per core on 0.0.0.0:8000 (README.md, "Production"). More than one needs
# REDIS_URL: without it, set WEB_PROCESSES=1.
CMD ["python", "-m", "meetings.serve"]
