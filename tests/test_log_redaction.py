"""Tokens never reach a log line, whoever logs them."""

import logging
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from syncfirm.logfilters import RedactSecrets, redact


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        (
            '"GET /sandbox/hubspot/oauth/v1/access-tokens/CKsbxSECRET123 HTTP/1.1" 200',
            "CKsbxSECRET123",
        ),
        ("DELETE /oauth/v1/refresh-tokens/6f18f26a-aaaa-bbbb HTTP/1.1", "6f18f26a-aaaa-bbbb"),
        (
            "Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.payload.sig",
            "eyJhbGciOiJSUzI1NiJ9.payload.sig",
        ),
        ("body grant_type=refresh_token&refresh_token=AB11secretvalue&x=1", "AB11secretvalue"),
        ('{"access_token": "qwertyuiop123"}', "qwertyuiop123"),
    ],
)
def test_it_blanks_tokens(line, secret):
    cleaned = redact(line)
    assert secret not in cleaned and "[redacted]" in cleaned


def test_it_redacts_formatted_records():
    record = logging.LogRecord(
        "x",
        logging.INFO,
        __file__,
        1,
        '"%s" %s',
        ("GET /oauth/v1/access-tokens/TOPSECRET", 200),
        None,
    )
    RedactSecrets().filter(record)
    assert "TOPSECRET" not in record.getMessage()


def test_it_keeps_ordinary_lines():
    assert redact("GET /clients/hartley-roofing/ 200") == "GET /clients/hartley-roofing/ 200"


def test_it_is_on_every_handler_and_quiets_chatty_clients(settings):
    assert "redact_secrets" in settings.LOGGING["handlers"]["console"]["filters"]
    assert logging.getLogger("urllib3").getEffectiveLevel() >= logging.WARNING
    assert logging.getLogger("requests_oauthlib").getEffectiveLevel() >= logging.WARNING


ROOT = Path(__file__).resolve().parent.parent


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "syncfirm.settings.development", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("/webhooks/v3/1160452/settings?hapikey=dev-KEY-123", "dev-KEY-123"),
        ("{'developer_hapikey': 'dev-KEY-123'}", "dev-KEY-123"),
        ("Authorization: Token sf_abcd1234_SECRETPART", "sf_abcd1234_SECRETPART"),
        ("client_secret=shh-its-secret&x=1", "shh-its-secret"),
        ("/oauth/quickbooks/callback/?code=AB11authcode&state=x", "AB11authcode"),
        ('"GET /connect/eyJpIjoxfQ:1vXy2z:sIgNaTuRe/ HTTP/1.1" 200 512', "eyJpIjoxfQ:1vXy2z"),
        ('"GET /connect/eyJpIjoxfQ:1vXy2z:sIg/quickbooks/ HTTP/1.1" 302 0', "eyJpIjoxfQ"),
        ('"POST /answer/eyJpIjoyfQ:1vXy2z:sIgNaTuRe/ HTTP/1.1" 200 512', "eyJpIjoyfQ:1vXy2z"),
        ('"GET /invitations/staff/Zm9vYmFyYmF6/ HTTP/1.1" 200 9', "Zm9vYmFyYmF6"),
        ('"GET /accounts/password/reset/key/1-abc123-set/ HTTP/1.1" 200', "abc123"),
    ],
)
def test_it_blanks_provider_keys_and_credential_links(line, secret):
    assert secret not in redact(line)


def test_it_keeps_status_codes():
    assert redact("HTTP response code: 401") == "HTTP response code: 401"


def test_it_redacts_the_traceback_and_the_arguments():
    try:
        raise ValueError("GET https://api.hubapi.com/webhooks/v3/1?hapikey=dev-KEY-123")
    except ValueError:
        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "failed: %s", ("hapikey=dev-KEY-123",), sys.exc_info()
        )
    RedactSecrets().filter(record)
    written = logging.Formatter().format(record)
    assert "dev-KEY-123" not in written
    assert "Traceback" in written and written.count("hapikey=[redacted]") >= 2


def test_every_configured_handler_redacts():
    """Django's own "django" logger handlers (console, admin emails) were unfiltered."""
    listing = (
        "import logging\n"
        "from syncfirm.logfilters import RedactSecrets\n"
        "loggers = [logging.getLogger()] + [logging.getLogger(n) for n in "
        "logging.Logger.manager.loggerDict]\n"
        "bare = {f'{lg.name}:{type(h).__name__}' for lg in loggers "
        "for h in getattr(lg, 'handlers', []) "
        "if not any(isinstance(f, RedactSecrets) for f in h.filters)}\n"
        "print(sorted(bare))\n"
    )
    result = manage("shell", "-c", listing)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_the_developer_key_stays_out_of_warnings_and_tracebacks():
    """GIVEN HubSpot unreachable WHEN `hubspot_subscriptions` runs THEN urllib3's retry
    warnings and the traceback are logged with the key redacted, and the error names none."""
    key = "dev-KEY-do-not-print-9f8e7d"
    result = manage(
        "hubspot_subscriptions",
        HUBSPOT_DEVELOPER_API_KEY=key,
        SANDBOX_BASE_URL="http://127.0.0.1:9",  # nothing listens: retries, then failure
        LOG_LEVEL="INFO",
    )
    written = result.stdout + result.stderr
    assert result.returncode != 0
    assert key not in written
    assert "Retrying" in written and "Traceback" in written
    assert "hapikey=[redacted]" in written
    assert "HubSpot refused the subscription calls" in written


def test_the_access_log_never_shows_an_invitation_link_in_full():
    """runserver's own request line for a contractor link, through the configured logging."""
    token = "eyJpIjo0MiwibiI6Im5vbmNlIn0:1vABCD:Zx9signature"
    access_line = (
        "from django.core.servers.basehttp import WSGIRequestHandler\n"
        "handler = WSGIRequestHandler.__new__(WSGIRequestHandler)\n"
        "handler.request = None\n"
        "line = '\"%s\" %s %s'\n"
        f"handler.log_message(line, 'GET /connect/{token}/ HTTP/1.1', '200', '512')\n"
        f"handler.log_message(line, 'GET /connect/{token}/hubspot/ HTTP/1.1', '404', '9')\n"
    )
    result = manage("shell", "-c", access_line, LOG_LEVEL="INFO")
    assert result.returncode == 0, result.stderr
    assert "GET /connect/[redacted]/ HTTP/1.1" in result.stderr
    assert "GET /connect/[redacted]/hubspot/ HTTP/1.1" in result.stderr
    assert token.split(":")[0] not in result.stderr


def test_gunicorns_access_log_never_holds_a_contractor_link_whole(tmp_path):
    """GIVEN the production gunicorn settings WHEN a contractor opens their link THEN the
    access line (formatted by gunicorn's own logger) names the page but not its token."""
    from datetime import timedelta
    from types import SimpleNamespace

    from gunicorn.config import Config
    from gunicorn.glogging import Logger

    from connections.invitations import invitation_path, link_token
    from connections.models import ContractorInvitation

    settings = runpy.run_path(str(Path(__file__).parents[1] / "gunicorn.conf.py"))
    config = Config()
    config.set("accesslog", str(tmp_path / "access.log"))
    config.set("access_log_format", settings["access_log_format"])
    logger = Logger(config)
    invitation = ContractorInvitation(pk=48213)  # unsaved: a link needs only its id and nonce
    token = link_token(invitation)
    for path in (invitation_path(invitation), f"/connect/{token}/quickbooks/"):
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "RAW_URI": path, "QUERY_STRING": "",
                   "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "10.0.0.9"}  # fmt: skip
        answer = SimpleNamespace(status="200 OK", sent=5120, headers=[])
        logger.access(answer, SimpleNamespace(headers=[]), environ, timedelta(milliseconds=12))

    lines = (tmp_path / "access.log").read_text().splitlines()
    assert len(lines) == 2 and all('"GET /connect/' in line for line in lines), lines
    signature = token.rsplit(":", 1)[1]
    assert all(token not in line and signature not in line for line in lines), lines
    assert all(line.endswith(" 200 5120 12ms") for line in lines), lines
