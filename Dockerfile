# syncfirm's image: one image for the web process, the workers and the migration job
# (compose.yaml picks the command). Secrets come from the environment or *_FILE mounts at run
# time, never from the image.

# --- build: the locked requirements into a virtualenv -------------------------------------
FROM python:3.12-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /venv
COPY requirements.lock /tmp/requirements.lock
RUN /venv/bin/pip install -r /tmp/requirements.lock

# --- run: the app on a slim base, as a user without privileges ---------------------------
FROM python:3.12-slim-bookworm AS run
ENV PATH=/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=syncfirm.settings.production \
    PROMETHEUS_MULTIPROC_DIR=/tmp/metrics
RUN groupadd --system syncfirm && useradd --system --gid syncfirm --home /app syncfirm
COPY --from=build /venv /venv
WORKDIR /app
COPY --chown=syncfirm:syncfirm . /app
# Static files are built into the image (whitenoise serves them); no secret is needed for it.
RUN DJANGO_SETTINGS_MODULE=syncfirm.settings.development SANDBOX=false \
    python manage.py collectstatic --noinput --verbosity 0 \
    && mkdir -p /tmp/metrics var && chown syncfirm:syncfirm /tmp/metrics var
USER syncfirm
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"
CMD ["gunicorn", "syncfirm.wsgi", "-c", "gunicorn.conf.py"]
