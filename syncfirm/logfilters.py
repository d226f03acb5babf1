"""Keeps secrets out of logs, whatever logs them.

HubSpot puts tokens in URL paths (`/oauth/v1/access-tokens/<token>`) and its developer key
in the query string (`?hapikey=`: the official webhooks client offers no header for it);
client libraries log request lines and headers at DEBUG, urllib3 logs the URL it retries
at WARNING, and exceptions carry URLs into tracebacks; access logs carry the links whose
path is the credential (contractor and staff invitations, password resets). This filter,
on every handler (settings.LOGGING), blanks anything that looks like a secret in the
message, its arguments, the traceback and the stack before a record is written.
"""

import logging
import re

# The names of secrets (parameters, JSON keys), never a secret itself.
SECRET_NAMES = "|".join(
    [
        "access_token",
        "refresh_token",
        "id_token",
        "client_secret",
        "developer_hapikey",
        "hapikey",
        "api_key",
        "apikey",
        "password",
        "secret",
        "verifier_token",
    ]
)
PATTERNS = [
    re.compile(r"(/(?:access|refresh)-tokens/)[^/\s?\"']+"),
    # Links whose path segment is the credential, as they appear in access logs.
    re.compile(r"(/connect/)(?!<)[^/\s?\"']+"),
    re.compile(r"(/answer/)(?!<)[^/\s?\"']+"),  # a contractor's question link
    re.compile(r"(/invitations/staff/)[^/\s?\"']+"),
    re.compile(r"(/accounts/password/reset/key/)[^/\s?\"']+"),
    re.compile(r"(/accounts/confirm-email/)[^/\s?\"']+"),
    re.compile(r"((?:Bearer|Basic|Token)\s+)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(rf"((?:{SECRET_NAMES})[\"']?\s*[=:]\s*[\"']?)[^&\s\"',}})]+", re.IGNORECASE),
    # An OAuth authorization code: in a query string or a JSON body, not "status code: 500".
    re.compile(r"((?:[?&]code=|[\"']code[\"']\s*:\s*[\"']))[^&\s\"']+"),
]


def redact(text: str) -> str:
    for pattern in PATTERNS:
        text = pattern.sub(r"\1[redacted]", text)
    return text


class RedactSecrets(logging.Filter):
    """Rewrites a record in place: message (with its arguments), traceback and stack."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: let the handler report it as usual
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info and record.exc_info[0] is not None:
            # Formatters reuse exc_text when set, so the traceback is written redacted.
            text = record.exc_text or logging.Formatter().formatException(record.exc_info)
            record.exc_text = redact(text)
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
