"""Jobber's GraphQL endpoint over HTTP: one POST of a document and its variables, and the
answer translated into the retry policy's words (`connections.retries`).

Plain `requests`, not a GraphQL client library: none is in the lock (strawberry serves
GraphQL, it does not call it), and what a client library would add here is small next to
what Jobber needs handled by hand anyway: its version header, its cost throttling reported
in `extensions.cost`, and JSON numbers read as Decimal (money must never pass through
float, and Jobber types money as Float).

- 401 → `Unauthorised` (refreshed once by the caller's policy); 429 (the request guard) →
  `RateLimited` with Retry-After; 5xx, a cut connection or an unreadable answer →
  `Transient`; another 4xx → `ProviderError`.
- An `errors` entry coded THROTTLED → `RateLimited`, waiting what the bucket needs to
  restore the query's requested cost; any other error → `ProviderError` with the messages.
- A mutation's `userErrors` → `ProviderError` with the reasons (`raise_user_errors`).
"""

import json
import logging
from dataclasses import dataclass
from decimal import Decimal

import requests

from .. import retries
from ..contract import Refusal
from ..providers import jobber_graphql_url
from . import schema

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 30
THROTTLE_FALLBACK_SECONDS = 2.0  # when Jobber throttles without saying its bucket's state


@dataclass(frozen=True)
class Answer:
    data: dict
    extensions: dict


def post(access_token: str, document: str, variables: dict | None = None) -> Answer:
    """One call; raises the retry policy's errors (module docstring)."""
    headers = {
        "Authorization": f"Bearer {access_token}",
        schema.VERSION_HEADER: schema.VERSION,
        "Content-Type": "application/json",
        "Accept": "application/json",
    }
    body = {"query": document, "variables": variables or {}}
    try:
        answer = requests.post(
            jobber_graphql_url(), data=json.dumps(body), headers=headers, timeout=TIMEOUT_SECONDS
        )
    except requests.RequestException as error:
        raise retries.Transient(f"Jobber did not answer ({type(error).__name__})") from error
    status = answer.status_code
    if status == 401:
        raise retries.Unauthorised("Jobber refused the access token")
    if status == 429:
        wait = retries.parse_retry_after(answer.headers.get("Retry-After"))
        raise retries.RateLimited("Jobber's request limit", wait or THROTTLE_FALLBACK_SECONDS)
    if status >= 500:
        raise retries.Transient(f"Jobber answered {status}")
    try:
        found = json.loads(answer.content, parse_float=Decimal)
    except ValueError as error:
        if status == 200:
            raise retries.Transient("Jobber's answer could not be read") from error
        found = {}
    if not isinstance(found, dict):
        raise retries.Transient("Jobber's answer was not a GraphQL response")
    if status != 200:
        raise retries.ProviderError(
            f"Jobber refused the request (HTTP {status}).",
            code=str(status),
            detail=_messages(found.get("errors")),
        )
    extensions = found.get("extensions") or {}
    _note_version(answer, extensions)
    errors = found.get("errors") or []
    if any(schema.error_code(e) == schema.THROTTLED for e in errors):
        wait = schema.throttle_wait(extensions) or THROTTLE_FALLBACK_SECONDS
        raise retries.RateLimited("Jobber's query cost limit (THROTTLED)", wait)
    if errors:
        detail = _messages(errors)
        raise retries.ProviderError(
            f"Jobber refused the query: {detail}",
            code=schema.error_code(errors[0]),
            detail=detail,
        )
    return Answer(found.get("data") or {}, extensions)


def raise_user_errors(payload: dict | None, describe: str) -> None:
    """A mutation answered 200 with `userErrors`: nothing was written; say why."""
    reasons = schema.user_errors(payload)
    if reasons:
        raise retries.ProviderError(
            f"{describe}: Jobber refused it ({'; '.join(reasons)}).",
            code="userErrors",
            detail="; ".join(reasons),
            refusal=Refusal.INVALID,
        )


def _messages(errors) -> str:
    if not isinstance(errors, list):
        return ""
    return "; ".join(str((e or {}).get("message", "")) for e in errors if isinstance(e, dict))


def _note_version(answer: requests.Response, extensions: dict) -> None:
    """Jobber serves a version it removed as its oldest supported one, with a warning: the
    documents still run, and the log says the version here needs moving on."""
    served = answer.headers.get(schema.VERSION_HEADER, schema.VERSION)
    warning = (extensions.get("versioning") or {}).get("warning") if extensions else None
    if served != schema.VERSION or warning:
        log.warning(
            "Jobber served API version %s for %s: %s", served, schema.VERSION, warning or ""
        )
