"""Production settings are safe by construction; the demo seeding is repeatable."""

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from clients.models import Client, Firm, Membership, User
from sandbox.demo import DEMO_CLIENTS

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "syncfirm.settings.production",
    "SECRET_KEY": "k7#Qz!v9Lr2@pXw5&Tn8^Yb3*Hc6(Jd1)Fg4_Ms0+Ue7=Ra2-Ki9~Oa5?Eb8",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/syncfirm",
    "ALLOWED_HOSTS": "books.example.com",
    "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.com:587",
    "FIELD_ENCRYPTION_KEYS": "qWqkYc0X3-7dQ8F0a2m1mC2m2dFqJ0bq5vC8lWcY1vE=",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("SANDBOX", "DEBUG")}
    return subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **PRODUCTION_ENV, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_passes_the_deployment_checklist_without_warnings():
    result = manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_it_refuses_to_start_production_with_the_sandbox_on():
    result = manage("check", SANDBOX="true")
    assert result.returncode != 0
    assert "SANDBOX must be off in production" in result.stderr


def test_it_refuses_a_weak_secret_key_in_production():
    result = manage("check", SECRET_KEY="short")
    assert result.returncode != 0
    assert "SECRET_KEY must be at least 50 characters" in result.stderr


def test_it_refuses_to_start_production_without_a_shared_cache():
    """Without Redis each worker process counted its own failed logins (issue 13, 6)."""
    result = manage("check", REDIS_URL="")
    assert result.returncode != 0
    assert "Production needs REDIS_URL" in result.stderr


def example_environment() -> dict[str, str]:
    """`.env.example` as written, with only the blank REQUIRED secrets filled in."""
    values = dict(
        re.findall(r"^([A-Z][A-Z0-9_]+)=(.*)$", (ROOT / ".env.example").read_text(), re.M)
    )
    required_blank = {k for k, v in values.items() if not v}
    values["SECRET_KEY"] = PRODUCTION_ENV["SECRET_KEY"]
    values["FIELD_ENCRYPTION_KEYS"] = PRODUCTION_ENV["FIELD_ENCRYPTION_KEYS"]
    assert {"SECRET_KEY", "FIELD_ENCRYPTION_KEYS"} <= required_blank
    return values


def test_the_example_configuration_passes_the_deployment_checklist():
    env = example_environment()
    assert env["DJANGO_SETTINGS_MODULE"] == "syncfirm.settings.production"
    # Every variable the example sets overrides the suite's own production values.
    result = manage("check", "--deploy", "--fail-level", "WARNING", **env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_it_reads_a_secret_from_a_file(tmp_path):
    key_file = tmp_path / "secret"
    key_file.write_text(PRODUCTION_ENV["SECRET_KEY"] + "\n")
    result = manage("check", "--deploy", SECRET_KEY="", SECRET_KEY_FILE=str(key_file))
    assert result.returncode == 0, result.stderr


def test_it_refuses_non_loopback_connections_in_tests():
    with pytest.raises(ConnectionRefusedError, match="loopback"):
        socket.create_connection(("93.184.216.34", 443), timeout=1)


@pytest.mark.django_db
def test_it_seeds_the_demo_twice_without_duplicating(monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "s3cret-demo")
    call_command("seed_demo")
    call_command("seed_demo")
    firm = Firm.objects.get(slug="demo")
    assert Client.objects.for_firm(firm).count() == len(DEMO_CLIENTS)
    assert Membership.objects.for_firm(firm).count() == 2
    accountant = User.objects.get(email="accountant@demo.test")
    assert accountant.check_password("s3cret-demo")
    assert Membership.objects.get(user__email="owner@demo.test").role == "owner"


def test_it_documents_every_environment_variable_in_env_example():
    source = "".join(p.read_text() for p in (ROOT / "syncfirm" / "settings").glob("*.py"))
    read = set(re.findall(r'(?:env(?:\.\w+)?|secret)\(\s*"([A-Z][A-Z0-9_]+)"', source))
    read |= set(re.findall(r"^\s+([A-Z][A-Z0-9_]+)=\(", source, re.MULTILINE))
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert read, "found no variables; the pattern is wrong"
    assert read - documented == set()
