"""Keeps secrets out of logs, whatever logs them.

HubSpot puts tokens in URL paths (`/oauth/v1/access-tokens/<token>`), and client libraries
log request lines and headers at DEBUG; this filter, on every handler, blanks anything that
looks like a token before a record is written.
"""

import logging
import re

PATTERNS = [
    re.compile(r"(/(?:access|refresh)-tokens/)[^/\s?\"']+"),
    re.compile(r"((?:Bearer|Basic)\s+)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(
        r"((?:access_token|refresh_token|code|client_secret)[\"']?\s*[=:]\s*[\"']?)[^&\s\"',}]+"
    ),
]


def redact(text: str) -> str:
    for pattern in PATTERNS:
        text = pattern.sub(r"\1[redacted]", text)
    return text


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True
