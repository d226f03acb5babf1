"""Tokens never reach a log line, whoever logs them."""

import logging

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
