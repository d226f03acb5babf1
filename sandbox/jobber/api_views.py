"""Jobber's GraphQL endpoint: POST /api/graphql, served by strawberry's Django view.

Before the schema runs, the request must carry what Jobber requires (api-facts E1, E3):
`Content-Type: application/json`, a live bearer token (else 401 "invalid_request"), and an
`X-JOBBER-GRAPHQL-VERSION` date (else 400). A well-formed version the emulator does not
know is served as the oldest it does, with a warning, as Jobber auto-upgrades removed
versions. The request guard (2,500 requests in 5 minutes) answers 429 before any query
cost is counted; the cost bucket itself is schema.py's QueryCost extension.
"""

import re

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from strawberry.django.views import GraphQLView

from sandbox.emulation import JOBBER, emulated, throttled

from . import ratelimit
from .oauth import access_for
from .schema import schema

VERSIONS = (
    "2023-11-15",
    "2024-06-12",
    "2025-01-20",
    "2025-04-16",
    "2026-01-01",
    "2026-04-13",
    "2026-04-16",
)
VERSION_HEADER = "X-JOBBER-GRAPHQL-VERSION"
DATED = re.compile(r"^\d{4}-\d{2}-\d{2}$")

_view = GraphQLView.as_view(schema=schema, graphql_ide=None, allow_queries_via_get=False)


def account_of(request: HttpRequest, *args, **kwargs) -> int | None:
    access = access_for(request)
    request.jobber_access = access
    return access.account_id if access else None


def _refusal(status: int, message: str, code: str) -> JsonResponse:
    return JsonResponse(
        {"errors": [{"message": message, "extensions": {"code": code}}]}, status=status
    )


@csrf_exempt
@emulated(JOBBER, account_of)
def graphql(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _refusal(405, "Only POST is supported", "METHOD_NOT_ALLOWED")
    access = request.jobber_access
    if access is None:
        return JsonResponse({"error": "invalid_request", "message": "Unauthorized"}, status=401)
    version = request.headers.get(VERSION_HEADER, "").strip()
    if not DATED.match(version):
        return _refusal(
            400, f"The {VERSION_HEADER} header (YYYY-MM-DD) is required", "MISSING_VERSION"
        )
    if request.content_type != "application/json":
        return _refusal(415, "Content-Type must be application/json", "UNSUPPORTED_MEDIA_TYPE")
    account = access.account
    if account.rate_limits and not ratelimit.guard_admits(account.pk, account.request_limit):
        return throttled(JOBBER)
    served = version if version in VERSIONS else VERSIONS[0]
    if served != version:
        request.jobber_version_warning = (
            f"Version {version} is not supported; this request was served as {served}."
        )
    request.jobber_account = account
    response = _view(request)
    response[VERSION_HEADER] = served
    return response
