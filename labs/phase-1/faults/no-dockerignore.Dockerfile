# The solution's Dockerfile, built from the lab folder (context ..) where no .dockerignore
# filters what `COPY solution/ .` takes: see no-dockerignore.yml.
FROM python:3.11-slim

# A label that this Dockerfile sets, so anyone (and labcheck) can tell this image from the base.
LABEL org.compose-lab.lab="phase-1" \
      org.opencontainers.image.title="phase-1 hello service"

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# A user without a password or a login shell; files stay owned by root, so the
# process can read the code but not rewrite it.
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin app

# Dependencies first: this layer is rebuilt only when requirements.txt changes,
# not on every edit of the code.
COPY solution/requirements.txt .
RUN pip install -r requirements.txt

# The code last. With no .dockerignore in this context, .env and tests/ come along.
COPY solution/ .

USER app
EXPOSE 8000

# The slim image has no curl, so probe with the Python that is already there.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --start-interval=1s --retries=3 \
    CMD ["python", "-c", "import urllib.request, sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"]

CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "2", "--access-logfile", "-", "app:app"]
