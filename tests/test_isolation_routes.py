"""Walks every URL pattern in the project and proves tenant isolation for each.

For every route: an anonymous visitor is sent to the login page (or refused), and the owner
of firm B, given firm A's ids and slugs, gets 403/404 and changes nothing of firm A; routes
without ids must not show firm A's data to firm B. A route this test cannot fill in fails
by name, so new routes are covered the day they are written.
"""

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from django.apps import apps
from django.core import serializers
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from connections.models import INVITATION_LIFETIME, ContractorInvitation
from notices.models import Notice
from questions.models import FindingQuestion
from reconciliation.models import Finding, Reconciliation
from sync.models import (
    Alert,
    ConflictKind,
    InvoiceLink,
    PaymentLink,
    RunKind,
    SyncConflict,
    SyncRun,
)

from .conftest import TwoFirms

# Routes outside tenancy, each with the reason. Anything else is walked.
EXEMPT_PREFIXES = {
    "accounts/": "django-allauth: login, signup, password reset, MFA; per user, not per firm",
    "api/schema/": "the OpenAPI description of the API: public, no firm data",
    "api/docs/": "the API's documentation page: public, no firm data",
    "sandbox/": "emulated Intuit/HubSpot; no firm data, absent in production",
    "connect/": "contractor invitation pages: public, the signed link is the credential "
    "(tests/test_contractor_invitations.py)",
    "answer/": "the contractor's answer to a question about a finding: public, the signed "
    "link is the credential (tests/test_contractor_questions.py)",
    "oauth/": "OAuth callbacks and their confirmation page: public, bound to a single-use "
    "state in the session (tests/test_consent.py); another firm's company ids in a callback "
    "(tests/test_isolation_callbacks.py)",
    "webhooks/": "provider webhooks: public, signature-verified (tests/test_webhooks.py); "
    "routed only to the client holding the company (tests/test_isolation_callbacks.py)",
    "static/": "static files",
    "healthz": "the process answers: public, no data (tests/test_health.py)",
    "readyz": "database, cache, broker, migrations ready: public, no firm data "
    "(tests/test_health.py)",
    "metrics": "Prometheus series: a Bearer token (METRICS_TOKEN), no firm data "
    "(tests/test_health.py)",
}
ADMIN_PREFIX = "admin/"

# How to fill a URL keyword with one of firm A's objects. A route with a keyword missing
# here fails the walk by name: add the keyword, pointing at a firm A object.
KWARG_VALUES: dict[str, Callable[[TwoFirms], str | int]] = {
    "client_slug": lambda w: w.client_a.slug,
    "membership_id": lambda w: w.membership_a.pk,
    "invitation_id": lambda w: w.invitation_a.pk,
    "contractor_invitation_id": lambda w: (
        ContractorInvitation.objects.get_or_create(
            client=w.client_a,
            email="boss@alpharoofing.test",
            defaults={"expires_at": timezone.now() + INVITATION_LIFETIME},
        )[0].pk
    ),
    "token": lambda w: w.invitation_token_a,
    "system": lambda w: "quickbooks",
    "run_id": lambda w: _sync_run(w).pk,
    "conflict_id": lambda w: _sync_conflict(w).pk,
    "finding_id": lambda w: _finding(w).pk,
    "question_id": lambda w: _question(w).pk,
    "notice_id": lambda w: (
        Notice.objects.get_or_create(
            firm=w.firm_a, user=w.accountant_a, text="Alpha Secret Roofing answered"
        )[0].pk
    ),
    "month": lambda w: "2026-10",
    "recon_id": lambda w: (
        Reconciliation.objects.get_or_create(client=w.client_a, period=date(2026, 10, 1))[0].pk
    ),
    "payment_id": lambda w: (
        PaymentLink.objects.get_or_create(
            client=w.client_a,
            direction="to_books",
            source_id="p1",
            defaults={"deal_id": "1", "amount": 40, "state": "held", "reason": "a refund"},
        )[0].pk
    ),
    "alert_id": lambda w: (
        Alert.objects.get_or_create(client=w.client_a, source="payment sync", message="x")[0].pk
    ),
    "link_id": lambda w: (
        InvoiceLink.objects.get_or_create(
            client=w.client_a, deal_id="1", defaults={"state": "uncertain", "doc_number": "SF-1"}
        )[0].pk
    ),
}


def _finding(world: TwoFirms) -> Finding:
    recon = Reconciliation.objects.get_or_create(client=world.client_a, period=date(2026, 10, 1))[0]
    return Finding.objects.get_or_create(
        client=world.client_a,
        reconciliation=recon,
        code="missing_invoice",
        defaults={
            "severity": "high",
            "amount": 100,
            "currency": "USD",
            "direction": "revenue understated",
            "reason": "Alpha Secret Roofing deal has no invoice",
            "fingerprint": "x",
            "fix": {"action": "create_invoice", "deal_id": "1"},
            "key": "missing_invoice:1",
            "first_period": recon.period,
            "last_period": recon.period,
        },
    )[0]


def _question(world: TwoFirms) -> FindingQuestion:
    return FindingQuestion.objects.get_or_create(
        client=world.client_a,
        finding=_finding(world),
        defaults={
            "to_email": "boss@alpharoofing.test",
            "question": "Alpha Secret Roofing: is it the same job?",
            "expires_at": timezone.now() + INVITATION_LIFETIME,
        },
    )[0]


def _sync_run(world: TwoFirms) -> SyncRun:
    return SyncRun.objects.get_or_create(client=world.client_a, kind=RunKind.MANUAL)[0]


def _sync_conflict(world: TwoFirms) -> SyncConflict:
    return SyncConflict.objects.get_or_create(
        client=world.client_a,
        kind=ConflictKind.NEAR_MATCH,
        crm_type="companies",
        crm_id="1",
        defaults={"reason": "Alpha Secret Roofing looks like Alpha Books"},
    )[0]


# Markers of firm A that must never appear in a page served to firm B.
FIRM_A_MARKERS = ("Alpha Secret Roofing", "alpha-roofing", "accountant@alpha.test", "Alpha Books")


@dataclass(frozen=True)
class Route:
    route: str
    name: str | None
    kwargs: tuple[str, ...]


def _walk(resolver: URLResolver, prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for entry in resolver.url_patterns:
        text = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            ns = namespace
            if entry.namespace:
                ns = f"{namespace}{entry.namespace}:"
            yield from _walk(entry, text, ns)
        elif isinstance(entry, URLPattern):
            pattern = entry.pattern
            names = tuple(getattr(pattern, "converters", {}) or pattern.regex.groupindex)
            full_name = f"{namespace}{entry.name}" if entry.name else None
            yield Route(text.lstrip("^"), full_name, names)


def all_routes() -> list[Route]:
    return list(_walk(get_resolver()))


def tenant_routes() -> list[Route]:
    return [
        r
        for r in all_routes()
        if not any(r.route.startswith(p) for p in (*EXEMPT_PREFIXES, ADMIN_PREFIX))
    ]


def firm_a_fingerprint(world: TwoFirms) -> str:
    """A digest of every firm A row a request could change."""
    rows = []
    tenant_models = [m for m in apps.get_models() if hasattr(m, "firm_lookup")]
    for model in tenant_models:
        queryset = model.objects.for_firm(world.firm_a).order_by("pk")
        rows.append(serializers.serialize("json", queryset))
    rows.append(json.dumps(sorted(world.client_a.assigned_staff.values_list("pk", flat=True))))
    return hashlib.sha256("".join(rows).encode()).hexdigest()


def url_for(route: Route, world: TwoFirms) -> str:
    missing = [k for k in route.kwargs if k not in KWARG_VALUES]
    assert not missing, (
        f"route {route.route!r} ({route.name}) has keyword(s) {missing} the isolation walk "
        "cannot fill; add them to KWARG_VALUES in tests/test_isolation_routes.py"
    )
    assert route.name, f"route {route.route!r} has no name; name it so it can be walked"
    return reverse(route.name, kwargs={k: KWARG_VALUES[k](world) for k in route.kwargs})


def test_it_walks_the_routes_we_know_of():
    names = {r.name for r in tenant_routes()}
    assert {"dashboard", "client_detail", "client_edit", "staff_list", "member_update"} <= names


@pytest.mark.parametrize("route", tenant_routes(), ids=lambda r: r.route or "/")
def test_it_sends_anonymous_visitors_to_login(client, two_firms, route):
    url = url_for(route, two_firms)
    before = firm_a_fingerprint(two_firms)
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        if response.status_code == 405:
            continue
        assert response.status_code in (302, 401, 403), f"{method.upper()} {url}"
        if response.status_code == 302:
            assert response["Location"].startswith(reverse("account_login")), url
    assert firm_a_fingerprint(two_firms) == before


@pytest.mark.parametrize("route", tenant_routes(), ids=lambda r: r.route or "/")
def test_it_keeps_firm_a_from_firm_b(client, two_firms, route):
    url = url_for(route, two_firms)
    client.force_login(two_firms.owner_b)
    before = firm_a_fingerprint(two_firms)
    hostile_data = {
        "firm_id": two_firms.firm_a.pk,
        "name": "Hijacked",
        "email": "intruder@bravo.test",
        "role": "owner",
        "remove": "1",
        "timezone": "UTC",
        "country": "US",
        "assigned_staff": [two_firms.accountant_a.pk],
    }
    for method in ("get", "post"):
        response = getattr(client, method)(url, data=hostile_data if method == "post" else None)
        if route.kwargs:
            assert response.status_code in (403, 404, 405), (
                f"{method.upper()} {url} gave firm B a {response.status_code} for firm A's object"
            )
        body = response.content.decode(errors="replace")
        leaked = [m for m in FIRM_A_MARKERS if m in body]
        assert not leaked, f"{method.upper()} {url} showed firm A's {leaked} to firm B"
    after_page = client.get(reverse("dashboard")).content.decode()
    assert not [m for m in FIRM_A_MARKERS if m in after_page], f"{url} switched B into firm A"
    assert firm_a_fingerprint(two_firms) == before, f"{url} changed firm A's data for firm B"


def test_it_keeps_the_admin_to_superusers(client, two_firms):
    for user in (None, two_firms.owner_b, two_firms.owner_a):
        if user:
            client.force_login(user)
        response = client.get(reverse("admin:clients_client_changelist"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


def test_it_names_an_unfillable_route(two_firms):
    route = Route("things/<int:thing_id>/", "thing_detail", ("thing_id",))
    with pytest.raises(AssertionError, match="thing_id"):
        url_for(route, two_firms)
