import logging
import secrets
from urllib.parse import parse_qs, urlsplit

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from clients.lookup import client_from_slug
from clients.models import Client
from connections.actions import do_store_connection
from connections.binding import Kind, binding_for
from connections.flows import flow_for
from connections.hubspot.subscriptions import ensure_subscriptions
from connections.providers import System, sandbox_base
from connections.tokens import OAuthError
from sandbox.consent import ConsentPageError, consent
from sandbox.jobber.ids import decode_id

log = logging.getLogger(__name__)


def run_consent(client: Client, system: str, account_id: str | None) -> str:
    """The real authorization-code flow against the sandbox; returns the external account id.
    On Xero's page it ticks one organisation, so no choice is left to make."""
    flow = flow_for(system)
    state = secrets.token_urlsafe(24)
    redirect_uri = f"{settings.PUBLIC_BASE_URL.rstrip('/')}/oauth/{system}/callback/"
    callback = consent(
        flow.authorize_url(state, redirect_uri),
        system,
        account_id=account_id,
        new_account_name=None if account_id else f"{client.name} (sandbox)",
    )
    params = {k: v[0] for k, v in parse_qs(urlsplit(callback).query).items()}
    if params.get("state") != state:
        raise CommandError(f"{system}: the state came back changed; refusing the answer.")
    if "error" in params:
        raise CommandError(f"{system}: consent refused ({params['error']}).")
    tokens = flow.exchange(params["code"], redirect_uri, params)
    binding = binding_for(
        client, system, tokens.external_id, System(system).label, via_invitation=False
    )
    if binding.kind == Kind.REFUSED:
        raise CommandError(f"{system}: {binding.reason}")
    if binding.needs_confirmation:
        raise CommandError(
            f"{system}: {tokens.external_id} would {binding.kind} the client's company; "
            "do that from the client page, where staff confirm it."
        )
    connection = do_store_connection(client, system, tokens, actor=None, via_invitation=False)
    if warning := point_webhooks_here(system, connection.external_id):
        log.warning(warning)
    if system == System.HUBSPOT:
        ensure_subscriptions()  # app-wide: company and contact events reach the receiver
    return connection.external_id


WEBHOOK_CONTROL = {
    System.QUICKBOOKS: "control/quickbooks/companies/{account}",
    System.XERO: "control/xero/organisations/{account}",
    System.HUBSPOT: "control/hubspot/portals/{account}",
    System.JOBBER: "control/jobber/accounts/{account}",
}


def point_webhooks_here(system: str, account: str) -> str:
    """Tell the sandbox account to deliver its webhooks to this app's receiver. Xero sends
    nothing until the receiver passed intent-to-receive: run it; returns a warning when it
    did not pass (the app server must be up at PUBLIC_BASE_URL), else ""."""
    base = settings.PUBLIC_BASE_URL.rstrip("/")
    if system == System.JOBBER:  # the connection keeps Jobber's encoded id of the account
        account = str((decode_id(account, "Account") or ("", account))[1])
    path = f"{sandbox_base()}/{WEBHOOK_CONTROL[System(system)].format(account=account)}"
    answer = requests.patch(path, json={"webhook_url": f"{base}/webhooks/{system}/"}, timeout=30)
    if answer.status_code != 200:
        raise CommandError(f"{system}: could not set the webhook URL ({answer.status_code}).")
    if system != System.XERO:
        return ""
    probed = requests.post(f"{path}/intent-to-receive", timeout=60)
    if probed.status_code == 200 and probed.json().get("passed"):
        return ""
    return (
        f"Xero webhooks stay off: {base}/webhooks/xero/ did not pass intent-to-receive "
        "(is the app server running there?)."
    )


class Command(BaseCommand):
    help = (
        "Connect a client to the sandbox QuickBooks company (or Xero organisation, with "
        "--tenant-id or --only xero) and HubSpot portal (or Jobber account, with "
        "--jobber-account or --only jobber) through the real authorization-code flow (a new "
        "account unless ids are given). The app server must be running with SANDBOX on, at "
        "SANDBOX_BASE_URL."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("client_slug")
        parser.add_argument("--firm", help="Firm slug, when the client slug is in several firms.")
        parser.add_argument("--realm-id", help="Use this sandbox QuickBooks company.")
        parser.add_argument("--portal-id", help="Use this sandbox HubSpot portal.")
        parser.add_argument(
            "--jobber-account", help="Use this sandbox Jobber account as the CRM (not HubSpot)."
        )
        parser.add_argument(
            "--tenant-id", help="Use this sandbox Xero organisation (instead of QuickBooks)."
        )
        parser.add_argument(
            "--only", choices=[s.value for s in System], help="Connect just this system."
        )

    def handle(
        self,
        *args,
        client_slug: str,
        firm: str | None,
        realm_id,
        portal_id,
        only,
        tenant_id=None,
        jobber_account=None,
        **options,
    ):
        if not settings.SANDBOX:
            raise CommandError("SANDBOX is off: this command only talks to the emulators.")
        if tenant_id and realm_id:
            raise CommandError("A client keeps one set of books: give --realm-id or --tenant-id.")
        client = client_from_slug(client_slug, firm)
        # One accounting system per client: QuickBooks unless Xero is asked for.
        books = System.XERO if tenant_id or only == System.XERO else System.QUICKBOOKS
        crm = System.JOBBER if jobber_account or only == System.JOBBER else System.HUBSPOT
        accounts = {
            books: tenant_id if books == System.XERO else realm_id,
            crm: jobber_account if crm == System.JOBBER else portal_id,
        }
        for system, account_id in accounts.items():
            if only and system != only:
                continue
            try:
                external_id = run_consent(client, system, account_id)
            except (OAuthError, ConsentPageError) as error:
                raise CommandError(f"{System(system).label}: {error}") from error
            self.stdout.write(
                self.style.SUCCESS(
                    f"{client.name}: {System(system).label} connected ({external_id})."
                )
            )
