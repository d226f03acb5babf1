"""The shape check every webhook body passes before a provider's parser reads it.

After the signature (a forger learns nothing), before parsing: a body nested deeper than any
provider sends, one that is not a JSON object or array, or one holding what PostgreSQL cannot
store (a NUL, a lone surrogate) is refused with a 400 and not stored. Such a body is not a
provider's notification, and parsing or storing it was a 500. A body that is JSON of the
right shape but not a notification we understand is still stored, quarantined, as before."""

import json
import logging
from typing import Any

from django.http import HttpResponse, JsonResponse

from syncfirm.json_limits import BadJson, load_json

log = logging.getLogger(__name__)


class MalformedWebhook(ValueError):
    """The body verified but is not a notification the provider's parser understands."""


def parsed_json(body: bytes) -> Any:
    """The body's JSON, for a provider's parser; MalformedWebhook when it is not JSON."""
    try:
        return json.loads(body)
    except ValueError as error:
        raise MalformedWebhook(f"not JSON: {error}") from error


def refused_body(system: str, body: bytes) -> HttpResponse | None:
    """A 400 for an unusable body, else None (go on)."""
    try:
        load_json(body, shapes=(dict, list))
    except BadJson as error:
        log.warning("%s webhook refused: unusable body (%s)", system, error)
        return JsonResponse({"status": "refused", "reason": f"unusable body: {error}"}, status=400)
    return None
