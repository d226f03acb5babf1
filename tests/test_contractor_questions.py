"""Questions to the contractor: asked from a finding, emailed with a link signed like an
invitation, answered once without an account, shown on the finding, and its staff told."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import mail, signing
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from clients.models import AuditEntry
from connections.invitations import link_token as invitation_token
from notices.models import Notice
from questions.asking import SALT, do_answer, do_ask, link_token
from questions.models import FindingQuestion
from questions.wording import Subject, suggested_question
from reconciliation.models import Finding
from sync.models import MirroredCustomer

from .factories import ClientFactory, ContractorInvitationFactory, MembershipFactory

pytestmark = pytest.mark.django_db

ASKED = "Did you key invoice M-501 by hand? Is it the same job as SF-1044?"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()  # the answer page's per-IP limit counts in the cache


def make_finding(client, **extra) -> Finding:
    """A duplicate: SF-1044 made from the deal "Roof repair", M-501 keyed by hand, for
    customer Pat Doe (whom the books' mirror names)."""
    MirroredCustomer.objects.get_or_create(
        client=client, external_id="c19", defaults={"display_name": "Pat Doe Roofing"}
    )
    invoice = ["58", "SF-1044", "c19", "2026-10-02", "1250.00", "1250.00", "USD", "7", [], None,
               False]  # fmt: skip
    keyed = ["61", "M-501", "c19", "2026-10-05", "1250.00", "1250.00", "USD", "", [], None, False]
    values = {
        "code": "duplicate_invoice",
        "severity": "high",
        "amount": Decimal("1250.00"),
        "currency": "USD",
        "direction": "AR and revenue overstated",
        "reason": "invoices SF-1044 and M-501 bill the same lines",
        "deal_id": "7",
        "invoice_ids": ["58", "61"],
        "customer_id": "c19",
        "evidence": {"keep": "58", "void": "61"},
        "records": {
            "deal": ["7", "Roof repair", True, "1250.00", "", "0", "c19", [], None, "USD"],
            "invoices": [invoice, keyed],
        },
        "fix": {"action": "void_invoice", "invoice_id": "61", "words": "Void invoice M-501."},
        "fingerprint": "f",
        "first_period": date(2026, 10, 1),
        **extra,
    }
    return Finding.objects.create(client=client, **values)


@pytest.fixture
def finding(two_firms) -> Finding:
    return make_finding(two_firms.client_a)


def ask_url(finding) -> str:
    return reverse("question_ask", args=[finding.pk])


def answer_url(question) -> str:
    return reverse("question_answer", args=[link_token(question)])


def link_in(message) -> str:
    return next(w for w in message.body.split() if "/answer/" in w)


def ask(client, finding, question=ASKED, to="boss@alpharoofing.test", **headers):
    return client.post(ask_url(finding), {"to_email": to, "question": question}, **headers)


def test_the_ask_form_drafts_the_question_in_words_and_the_last_address(client, two_firms, finding):
    ContractorInvitationFactory(client=two_firms.client_a, email="office@alpharoofing.test")
    client.force_login(two_firms.accountant_a)
    form = client.get(ask_url(finding), headers={"HX-Request": "true"}).content.decode()
    assert ASKED in form
    assert 'value="office@alpharoofing.test"' in form, "the last invitation's address"
    assert "Pat Doe Roofing" in form and "1,250.00 USD" in form
    assert "c19" not in form and "invoice 61" not in form, "words, not ids"


def test_other_findings_draft_questions_that_name_the_deal_and_customer():
    about = Subject("Missing invoice", Decimal("980.50"), "CAD", deal_name="Deck stairs",
                    customer_name="Lee Builders")  # fmt: skip
    draft = suggested_question("missing_invoice", about)
    assert "“Deck stairs”" in draft and "Lee Builders" in draft and "980.50 CAD" in draft


def test_asking_emails_a_link_and_the_finding_shows_it_waiting(client, two_firms, finding):
    client.force_login(two_firms.accountant_a)
    section = ask(client, finding, headers={"HX-Request": "true"}).content.decode()
    assert "Waiting for an answer" in section and "Asked by accountant@alpha.test" in section
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["boss@alpharoofing.test"]
    assert "Alpha Books" in sent.subject and "Alpha Secret Roofing" in sent.subject
    assert ASKED in sent.body and "invoices SF-1044 and M-501" in sent.body
    assert "Pat Doe Roofing" in sent.body and "1,250.00 USD" in sent.body
    question = FindingQuestion.objects.get()
    assert question.expires_at - question.asked_at == timedelta(days=7), "as invitations"
    # the question's own link: signed when the mail was written (a token made now may carry
    # the next second's time, so the two are compared by what they name)
    link = link_in(sent)
    token = link.rstrip("/").rpartition("/answer/")[2]
    assert link.endswith(reverse("question_answer", args=[token]))
    named = signing.loads(token, salt=SALT)
    assert named["i"] == question.pk and str(named["n"]) == str(question.nonce)
    queue = client.get(reverse("review_findings")).content.decode()
    assert "Waiting for an answer" in queue and "Withdraw question" in queue
    assert AuditEntry.objects.filter(action="question.ask", actor=two_firms.accountant_a).exists()


@pytest.mark.parametrize(
    ("to", "question", "said"),
    [
        ("", ASKED, "Enter the contractor&#x27;s email address."),
        ("not an address", ASKED, "Enter the contractor&#x27;s email address."),
        ("boss@alpharoofing.test", "   ", "Write the question."),
        ("boss@alpharoofing.test", "x" * 2001, "2,001 characters; the limit is 2,000"),
        ("boss@alpharoofing.test", "ring\x1bme", "control characters (U+001B)"),
    ],
)
def test_a_question_that_cannot_be_sent_is_refused_in_words(
    client, two_firms, finding, to, question, said
):
    client.force_login(two_firms.accountant_a)
    response = ask(client, finding, question, to, headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert said in response.content.decode()
    assert response["HX-Retarget"] == f"#finding-{finding.pk}-ask"
    assert not FindingQuestion.objects.exists() and mail.outbox == []


def test_the_contractor_answers_once_without_an_account(client, two_firms, finding):
    question = do_ask(two_firms.accountant_a, finding, "boss@alpharoofing.test", ASKED)
    page = client.get(answer_url(question))
    body = page.content.decode()
    assert page.status_code == 200
    for words in ("Alpha Books", "Alpha Secret Roofing", ASKED, "M-501", "SF-1044",
                  "Pat Doe Roofing", "1,250.00 USD", "Roof repair"):  # fmt: skip
        assert words in body
    assert "Log in" not in body

    done = client.post(answer_url(question), {"answer": "Yes, I keyed M-501; same job.",
                                              "name": "Pat"})  # fmt: skip
    assert done.status_code == 200
    assert "Thank you" in done.content.decode() and "Your answer was sent" in done.content.decode()
    question.refresh_from_db()
    assert question.answer == "Yes, I keyed M-501; same job."
    assert question.answered_by_name == "Pat" and question.answered_at

    # A second answer (another tab, a replayed post) changes nothing; the page shows the first.
    again = client.post(answer_url(question), {"answer": "Actually no."})
    assert "Yes, I keyed M-501; same job." in again.content.decode()
    assert "Actually no" not in again.content.decode()
    question.refresh_from_db()
    assert question.answer == "Yes, I keyed M-501; same job."
    revisit = client.get(answer_url(question)).content.decode()
    assert "The answer given" in revisit and "takes one answer" in revisit


def test_the_answer_lands_on_the_finding_and_the_asker_is_told(client, two_firms, finding):
    """GIVEN the owner asks about a client whose assigned staff is the accountant WHEN the
    contractor answers THEN the owner, who asked, gets the email and the notice; the
    accountant does not."""
    question = do_ask(two_firms.owner_a, finding, "boss@alpharoofing.test", ASKED)
    do_answer(question, "Yes, same job.", "Pat")
    told = mail.outbox[-1]
    assert told.to == ["owner@alpha.test"]
    assert "Alpha Secret Roofing" in told.subject
    assert "Yes, same job." in told.body and ASKED in told.body
    assert f"#finding-{finding.pk}" in told.body
    notice = Notice.objects.get()
    assert notice.user == two_firms.owner_a and notice.firm == two_firms.firm_a
    assert "Pat answered" in notice.text and "Yes, same job." in notice.text

    client.force_login(two_firms.owner_a)
    queue = client.get(notice.link.split("#")[0]).content.decode()
    assert "Answered by Pat" in queue and "Yes, same job." in queue
    assert "1 new" in queue, "the header counts the unread notice"
    opened = client.post(reverse("notice_open", args=[notice.pk]), {"go": "1"})
    assert opened["Location"] == notice.link
    notice.refresh_from_db()
    assert notice.read_at is not None
    assert "1 new" not in client.get(reverse("notice_list")).content.decode()


def test_with_no_assigned_staff_the_asker_is_told(two_firms, finding):
    two_firms.client_a.assigned_staff.clear()
    question = do_ask(two_firms.owner_a, finding, "boss@alpharoofing.test", ASKED)
    do_answer(question, "Yes.")
    assert mail.outbox[-1].to == ["owner@alpha.test"]
    assert list(Notice.objects.values_list("user__email", flat=True)) == ["owner@alpha.test"]


def test_when_the_asker_has_left_the_clients_assigned_staff_are_told(two_firms, finding):
    """GIVEN the owner asked, then left the firm WHEN the contractor answers THEN the
    client's assigned staff (the accountant) are told instead, so the answer is not lost."""
    question = do_ask(two_firms.owner_a, finding, "boss@alpharoofing.test", ASKED)
    two_firms.firm_a.memberships.filter(user=two_firms.owner_a).delete()
    do_answer(question, "Yes.")
    assert mail.outbox[-1].to == ["accountant@alpha.test"]
    assert list(Notice.objects.values_list("user__email", flat=True)) == ["accountant@alpha.test"]


def test_the_question_email_takes_replies_to_whoever_asked(two_firms, finding):
    """GIVEN the answer page says "reply to the email it came with" WHEN the question is
    emailed THEN a reply goes to the member of staff who asked, not the no-reply sender."""
    from questions.asking import send_question

    question = do_ask(two_firms.accountant_a, finding, "boss@alpharoofing.test", ASKED)
    send_question(question, "https://syncfirm.test/q/answer/x/")
    sent = mail.outbox[-1]
    assert sent.to == ["boss@alpharoofing.test"]
    assert sent.reply_to == ["accountant@alpha.test"]
    assert sent.extra_headers.get("Reply-To") is None  # one Reply-To, from reply_to
    assert "Reply-To: accountant@alpha.test" in sent.message().as_string()
    assert sent.alternatives and "text/html" in sent.alternatives[0][1]


def test_the_notice_of_an_answer_shows_its_time_in_the_clients_timezone(client, two_firms, finding):
    """GIVEN a client in Chicago WHEN its contractor answers at 18:16 UTC THEN the notice
    says 12:16 CST, like the rest of the app, not 18:16 UTC."""
    from datetime import UTC, datetime

    two_firms.client_a.timezone = "America/Chicago"
    two_firms.client_a.save()
    question = do_ask(two_firms.owner_a, finding, "boss@alpharoofing.test", ASKED)
    do_answer(question, "Yes.")
    Notice.objects.update(created_at=datetime(2026, 12, 5, 18, 16, tzinfo=UTC))
    client.force_login(two_firms.owner_a)
    page = client.get(reverse("notice_list")).content.decode()
    assert "5 Dec 2026, 12:16 CST" in page and "18:16" not in page


def test_a_withdrawn_question_says_so_and_takes_no_answer(client, two_firms, finding):
    question = do_ask(two_firms.accountant_a, finding, "boss@alpharoofing.test", ASKED)
    client.force_login(two_firms.accountant_a)
    url = reverse("question_withdraw", args=[finding.pk, question.pk])
    section = client.post(url, headers={"HX-Request": "true"}).content.decode()
    assert "Withdrawn by accountant@alpha.test" in section
    client.logout()
    page = client.get(answer_url(question))
    assert page.status_code == 410
    assert "This link was withdrawn" in page.content.decode()
    assert "Alpha Books withdrew this question on" in page.content.decode()
    refused = client.post(answer_url(question), {"answer": "late"})
    assert refused.status_code == 410
    question.refresh_from_db()
    assert question.answer == "" and not question.answered_at and not Notice.objects.exists()


def test_an_answered_question_cannot_be_withdrawn(client, two_firms, finding):
    question = do_ask(two_firms.accountant_a, finding, "boss@alpharoofing.test", ASKED)
    do_answer(question, "Yes.")
    client.force_login(two_firms.accountant_a)
    client.post(reverse("question_withdraw", args=[finding.pk, question.pk]))
    question.refresh_from_db()
    assert question.withdrawn_at is None and question.answer == "Yes."


def test_an_expired_link_says_so(client, two_firms, finding, monkeypatch):
    question = do_ask(two_firms.accountant_a, finding, "boss@alpharoofing.test", ASKED)
    token = link_token(question)
    later = timezone.now() + timedelta(days=8)
    monkeypatch.setattr("django.core.signing.time.time", lambda: later.timestamp())
    page = client.get(reverse("question_answer", args=[token]))
    assert page.status_code == 404
    assert "expired" in page.content.decode() and "Alpha" not in page.content.decode()


def test_a_question_past_its_end_takes_no_answer_even_with_a_fresh_signature(
    client, two_firms, finding
):
    question = do_ask(two_firms.accountant_a, finding, "boss@alpharoofing.test", ASKED)
    FindingQuestion.objects.filter(pk=question.pk).update(expires_at=timezone.now())
    response = client.post(answer_url(question), {"answer": "late"})
    assert response.status_code == 404 and "expired on" in response.content.decode()
    assert FindingQuestion.objects.get().answer == ""


def test_a_link_for_another_question_firm_or_kind_of_link_is_refused(client, two_firms, finding):
    mine = do_ask(two_firms.accountant_a, finding, "boss@alpharoofing.test", ASKED)
    theirs = do_ask(
        two_firms.owner_b, make_finding(two_firms.client_b), "pipes@bravo.test", "Bravo?"
    )
    token = link_token(mine)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    forged = signing.dumps({"i": theirs.pk, "n": mine.nonce}, salt=SALT, compress=True)
    invitation = invitation_token(ContractorInvitationFactory(client=two_firms.client_a))
    for bad in (tampered, forged, invitation, "x" * 5000):
        response = client.post(reverse("question_answer", args=[bad]), {"answer": "hijack"})
        body = response.content.decode()
        assert response.status_code == 404, bad
        assert "Bravo" not in body and "Alpha" not in body
    assert "Bravo" not in client.get(answer_url(mine)).content.decode()
    # …and a question's link opens no invitation (each kind of link has its own salt).
    assert client.get(reverse("contractor_invitation", args=[token])).status_code == 404
    assert not FindingQuestion.objects.exclude(answer="").exists()


@pytest.mark.parametrize(
    ("answer", "name", "status", "said"),
    [
        ("", "", 400, "Write your answer."),
        ("y" * 4001, "", 400, "4,001 characters; the limit is 4,000"),
        ("fine", "n" * 201, 400, "the limit is 200"),
        ("NaN", "", 200, "NaN"),
        ("1e309 ∞ -0", "", 200, "1e309 ∞ -0"),
        ("zero\x00byte", "", 400, ""),
    ],
)
def test_odd_answers_are_kept_as_text_or_refused_in_words(
    client, two_firms, finding, answer, name, status, said
):
    question = do_ask(two_firms.accountant_a, finding, "boss@alpharoofing.test", ASKED)
    response = client.post(answer_url(question), {"answer": answer, "name": name})
    assert response.status_code == status
    assert said in response.content.decode()
    question.refresh_from_db()
    assert question.answer == (answer if status == 200 else "")


def test_an_answer_is_shown_as_text_never_as_markup(client, two_firms, finding):
    question = do_ask(two_firms.accountant_a, finding, "boss@alpharoofing.test", ASKED)
    attack = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    client.post(answer_url(question), {"answer": attack, "name": "<b>Pat</b>"})
    client.force_login(two_firms.accountant_a)
    for url in (reverse("review_findings"), reverse("notice_list"), answer_url(question)):
        body = client.get(url).content.decode()
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body, url
        assert "<script>alert(1)" not in body and "<b>Pat</b>" not in body, url


def test_the_answer_page_needs_the_csrf_token(two_firms, finding):
    from django.test import Client

    question = do_ask(two_firms.accountant_a, finding, "boss@alpharoofing.test", ASKED)
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(answer_url(question), {"answer": "forged"}).status_code == 403
    question.refresh_from_db()
    assert question.answer == ""


def test_answers_from_one_address_are_rate_limited(client, two_firms, finding, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "contractor_answer": "1/h/ip"}
    first = do_ask(two_firms.accountant_a, finding, "boss@alpharoofing.test", ASKED)
    second = do_ask(two_firms.accountant_a, finding, "boss@alpharoofing.test", "And this?")
    assert client.post(answer_url(first), {"answer": "Yes."}).status_code == 200
    refused = client.post(answer_url(second), {"answer": "Yes again."})
    assert refused.status_code == 429 and "Too many answers" in refused.content.decode()
    second.refresh_from_db()
    assert second.answer == ""


def test_firm_b_cannot_ask_about_or_withdraw_firm_as_questions(client, two_firms, finding):
    question = do_ask(two_firms.accountant_a, finding, "boss@alpharoofing.test", ASKED)
    own = make_finding(two_firms.client_b)
    client.force_login(two_firms.owner_b)
    assert client.get(ask_url(finding)).status_code == 404
    assert ask(client, finding).status_code == 404
    for finding_id in (finding.pk, own.pk):  # theirs, or theirs behind one's own finding
        url = reverse("question_withdraw", args=[finding_id, question.pk])
        assert client.post(url).status_code == 404
    question.refresh_from_db()
    assert question.withdrawn_at is None and FindingQuestion.objects.count() == 1


def test_a_viewer_may_read_questions_but_not_ask_or_withdraw(client, two_firms, finding):
    question = do_ask(two_firms.accountant_a, finding, "boss@alpharoofing.test", ASKED)
    client.force_login(two_firms.viewer_a)
    queue = client.get(reverse("review_findings")).content.decode()
    assert ASKED in queue and "Ask the contractor" not in queue and "Withdraw" not in queue
    assert ask(client, finding).status_code == 403
    withdraw = reverse("question_withdraw", args=[finding.pk, question.pk])
    assert client.post(withdraw).status_code == 403


def test_a_decided_finding_takes_no_new_question(client, two_firms, finding):
    Finding.objects.filter(pk=finding.pk).update(status="dismissed")
    client.force_login(two_firms.accountant_a)
    response = ask(client, finding, headers={"HX-Request": "true"})
    assert "decided already" in response.content.decode()
    assert not FindingQuestion.objects.exists()


def test_notices_are_the_persons_own_in_the_current_firm(client, two_firms):
    mine = Notice.objects.create(firm=two_firms.firm_a, user=two_firms.accountant_a, text="Mine")
    other = Notice.objects.create(firm=two_firms.firm_a, user=two_firms.owner_a, text="Owner's")
    elsewhere_firm = ClientFactory(name="Gamma").firm
    MembershipFactory(firm=elsewhere_firm, user=two_firms.accountant_a)
    Notice.objects.create(firm=elsewhere_firm, user=two_firms.accountant_a, text="Gamma's")
    client.force_login(two_firms.accountant_a)
    page = client.get(reverse("notice_list")).content.decode()
    assert "Mine" in page and "Owner&#x27;s" not in page and "Gamma" not in page
    assert client.post(reverse("notice_open", args=[other.pk])).status_code == 404
    client.post(reverse("notices_read"))
    mine.refresh_from_db(), other.refresh_from_db()
    assert mine.read_at and other.read_at is None
    assert Notice.objects.filter(text="Gamma's", read_at=None).exists()


def test_the_queue_reads_questions_in_one_query_whatever_their_number(
    client, two_firms, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(two_firms.accountant_a)

    def count() -> int:
        with CaptureQueriesContext(connection) as seen:
            assert client.get(reverse("review_findings")).status_code == 200
        return len(seen)

    first = make_finding(two_firms.client_a, key="a")
    do_ask(two_firms.accountant_a, first, "boss@alpharoofing.test", ASKED)
    few = count()
    for n in range(5):
        more = make_finding(two_firms.client_a, key=f"k{n}", amount=Decimal(10 + n))
        do_answer(do_ask(two_firms.owner_a, more, "boss@alpharoofing.test", ASKED), "Yes.")
    assert count() == few
    assert re.search(r"Answered by boss@alpharoofing\.test", client.get("/review/findings/")
                     .content.decode())  # fmt: skip


def test_a_question_about_a_jobber_invoice_names_jobber_and_the_invoice_not_the_crm():
    from connections.providers import SystemWords
    from questions.wording import Subject, suggested_question

    about = Subject("Paid but open", Decimal("6077.50"), "USD", deal_name="#1001",
                    invoice_numbers=("INV-1001",), customer_name="Elena Brown")  # fmt: skip
    words = SystemWords(books="QuickBooks", crm="Jobber", deal_word="invoice")
    asked = suggested_question("paid_but_open", about, words)
    assert asked.startswith("Jobber shows invoice #1001 as paid, but invoice INV-1001 is still")
    assert "the CRM" not in asked and "the job" not in asked
    missing = suggested_question("missing_invoice", about, words)
    assert missing.startswith("Invoice #1001 for Elena Brown (6,077.50 USD) is issued in Jobber")
