"""The firm hears when a contractor finishes connecting: a notice and an email to whoever
sent the link, once per completed link."""

from django.core import mail
from django.urls import reverse

from connections.invitations import link_token
from notices.models import Notice
from sandbox.consent import consent

from .conftest import local
from .factories import ContractorInvitationFactory
from .sandbox.conftest import sandbox_db

pytestmark = sandbox_db


def _connect(client, token: str, system: str, name: str) -> None:
    started = client.post(reverse("contractor_connect", args=[token, system]))
    page = client.get(local(consent(started["Location"], system, new_account_name=name)))
    assert client.post(page["Location"], {"action": "connect"}).status_code == 302


def test_it_tells_the_sender_once_the_contractor_connected_everything(client, two_firms, sandbox):
    invitation = ContractorInvitationFactory(
        client=two_firms.client_a,
        systems=["quickbooks", "jobber"],
        created_by=two_firms.accountant_a,
    )
    token = link_token(invitation)
    _connect(client, token, "jobber", "Alpha Secret Roofing")
    assert not Notice.objects.exists(), "half a link is not finished"
    _connect(client, token, "quickbooks", "Alpha Roofing Books")

    text = "Alpha Secret Roofing connected Jobber and QuickBooks Online; review the import"
    notice = Notice.objects.get()
    assert (notice.user, notice.text) == (two_firms.accountant_a, text)
    assert notice.link == reverse("client_detail", args=["alpha-roofing"])
    [email] = mail.outbox
    assert email.to == ["accountant@alpha.test"] and email.subject == text
    assert "/clients/alpha-roofing/" in email.body and "Alpha Roofing Books" in email.body

    client.get(reverse("contractor_done", args=[token]))
    client.get(reverse("contractor_invitation", args=[token]))
    assert Notice.objects.count() == 1 and len(mail.outbox) == 1, "once, not per page load"

    client.force_login(two_firms.accountant_a)
    assert text in client.get(reverse("notice_list")).content.decode()


def test_it_tells_the_clients_staff_when_the_sender_left(client, two_firms, sandbox):
    invitation = ContractorInvitationFactory(
        client=two_firms.client_a, systems=["jobber"], created_by=None
    )
    _connect(client, link_token(invitation), "jobber", "Alpha Secret Roofing")
    notice = Notice.objects.get()
    assert notice.user == two_firms.accountant_a, "the client's assigned accountant"
    assert notice.text == "Alpha Secret Roofing connected Jobber; review the import"
    assert mail.outbox[0].to == ["accountant@alpha.test"]
