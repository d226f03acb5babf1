"""The container files, checked as far as a tool allows on machines with no container daemon:
the Dockerfile parsed by dockerfile-parse, compose.yaml by PyYAML, and what each must hold
for production (multi-stage, not root, the locked requirements, no secret baked in;
migrations as a one-off job before web and workers, readiness probed on /readyz)."""

import re
from pathlib import Path

import yaml
from dockerfile_parse import DockerfileParser

ROOT = Path(__file__).resolve().parent.parent
SECRETS = re.compile(r"SECRET_KEY=|FIELD_ENCRYPTION_KEYS=|_SECRET=|PASSWORD=|METRICS_TOKEN=")


def instructions() -> list[dict]:
    parser = DockerfileParser(path=str(ROOT / "Dockerfile"))
    return parser.structure


def test_the_image_is_multi_stage_runs_as_a_user_and_installs_the_lock():
    steps = instructions()
    froms = [s["value"] for s in steps if s["instruction"] == "FROM"]
    assert len(froms) >= 2, froms
    assert all("python:3.12" in f for f in froms)  # the Python of .python-version
    users = [s["value"] for s in steps if s["instruction"] == "USER"]
    assert users and users[-1] not in ("root", "0")
    runs = " ".join(s["value"] for s in steps if s["instruction"] == "RUN")
    assert "pip install -r /tmp/requirements.lock" in runs
    assert "collectstatic" in runs
    assert any(s["instruction"] == "CMD" and "gunicorn" in s["value"] for s in steps)


def test_no_secret_is_baked_into_the_image():
    text = (ROOT / "Dockerfile").read_text()
    baked = [s["content"] for s in instructions() if SECRETS.search(s["content"])]
    assert baked == []
    assert ".env" in (ROOT / ".dockerignore").read_text().split()
    assert "SECRET_KEY" not in text


def test_compose_runs_migrations_once_before_web_and_workers():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert {"db", "redis", "migrate", "web", "worker"} <= set(services)
    assert services["migrate"]["command"][-2:] == ["migrate", "--noinput"]
    assert services["migrate"]["restart"] == "no"
    for name in ("web", "worker"):
        needs = services[name]["depends_on"]
        assert needs["migrate"] == {"condition": "service_completed_successfully"}, name
        assert needs["redis"] == {"condition": "service_healthy"}, name
        assert services[name]["env_file"] == ".env"
    assert services["worker"]["command"] == ["python", "manage.py", "qcluster"]
    assert "/readyz" in " ".join(services["web"]["healthcheck"]["test"])
    # Passwords come from .env; nothing secret is written in the file itself.
    assert not SECRETS.search((ROOT / "compose.yaml").read_text().replace("POSTGRES_PASSWORD:", ""))
