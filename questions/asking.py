"""Asking a client's contractor about a finding, and their answer.

Staff ask from a finding in the queue (`do_ask`); the question is emailed with a link
signed like a contractor's invitation (`clients.signed_links`: same signer, same 7 days,
its own salt). The contractor opens it without an account and answers once (`do_answer`):
the answer is kept on the question, shown on the finding, and the client's staff get an
email and a notice. A second answer through the same link is refused, and the page shows
the one given (decision 0023). Staff may withdraw a question not yet answered.
"""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import dateformat, timezone

from clients.actions import audit
from clients.models import Client, Membership, User
from clients.names import control_characters, header_safe
from clients.signed_links import LINK_LIFETIME, LinkRefused, LinkWithdrawn, linked_row
from clients.signed_links import link_token as signed_token
from connections.models import ContractorInvitation
from connections.naming import words_of
from notices.actions import notify
from reconciliation.models import CustomerBalance, Finding
from sync.models import MirroredCustomer

from .models import ANSWER_LIMIT, NAME_LIMIT, QUESTION_LIMIT, FindingQuestion
from .wording import Subject, subject, suggested_question

SALT = "questions.finding-question"
log = logging.getLogger(__name__)


class QuestionRefused(Exception):
    """What staff or the contractor typed cannot be sent; the message says why."""


class AlreadyAnswered(Exception):
    """The question has its answer; the link shows it and takes no other."""


def link_token(question: FindingQuestion) -> str:
    return signed_token(question, SALT)


def question_path(question: FindingQuestion) -> str:
    return reverse("question_answer", args=[link_token(question)])


def finding_path(finding: Finding) -> str:
    """The finding in the queue: its client's findings of its status, scrolled to it."""
    query = f"?client={finding.client.slug}&status={finding.status}"
    return f"{reverse('review_findings')}{query}#finding-{finding.pk}"


def _day(moment, client: Client) -> str:
    return dateformat.format(timezone.localtime(moment, client.tzinfo), "j M Y")


# What the finding is about, in words.


def _customer_name(finding: Finding) -> str:
    """The customer's name as the books have it (the sync's mirror), else as the customer
    balances last named them; "" when neither knows it."""
    records = finding.records or {}
    ids = [finding.customer_id]
    ids += [row[2] for row in records.get("invoices") or []]
    if deal := records.get("deal"):
        ids.append(deal[6])
    ids = [i for i in ids if i]
    if not ids:
        return ""
    names = dict(
        MirroredCustomer.objects.filter(
            client_id=finding.client_id, external_id__in=ids
        ).values_list("external_id", "display_name")
    )
    if not names:
        names = dict(
            CustomerBalance.objects.filter(client_id=finding.client_id, customer_id__in=ids)
            .exclude(name="")
            .order_by("period")
            .values_list("customer_id", "name")
        )
    return next((names[i] for i in ids if i in names), "")


def subject_of(finding: Finding) -> Subject:
    return subject(
        finding.code,
        finding.amount,
        finding.currency,
        finding.records or {},
        finding.fix or {},
        finding.evidence or {},
        _customer_name(finding),
    )


@dataclass(frozen=True)
class Draft:
    """What the ask form starts with."""

    to_email: str
    question: str


def draft(finding: Finding) -> Draft:
    """The address last used for this client's contractor (a question's, else an
    invitation's) and a question drafted from the finding."""
    last_question = (
        FindingQuestion.objects.filter(client_id=finding.client_id)
        .order_by("-asked_at", "-pk")
        .values_list("to_email", flat=True)
        .first()
    )
    last_invitation = (
        ContractorInvitation.objects.filter(client_id=finding.client_id)
        .exclude(email="")
        .order_by("-created_at", "-pk")
        .values_list("email", flat=True)
        .first()
    )
    return Draft(
        last_question or last_invitation or "",
        suggested_question(
            finding.code, subject_of(finding), words_of([finding.client_id])[finding.client_id]
        ),
    )


# Staff: ask and withdraw.


def _clean_text(text: str, limit: int, what: str) -> str:
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        raise QuestionRefused(f"Write {what}.")
    if len(text) > limit:
        raise QuestionRefused(
            f"{what.capitalize()} is {len(text):,} characters; the limit is {limit:,}."
        )
    odd = [c for c in control_characters(text) if c not in ("U+000A", "U+0009")]
    if odd:
        raise QuestionRefused(f"{what.capitalize()} holds control characters ({', '.join(odd)}).")
    return text


def _public_state(question: FindingQuestion) -> dict:
    return {
        "finding": question.finding_id,
        "to_email": question.to_email,
        "question": question.question,
        "answered_at": question.answered_at and question.answered_at.isoformat(),
        "withdrawn_at": question.withdrawn_at and question.withdrawn_at.isoformat(),
    }


def do_ask(actor: User, finding: Finding, to_email: str, text: str) -> FindingQuestion:
    """A new question about an open finding, to one address; nothing is stored when the
    address or the question cannot be sent (`QuestionRefused` says why)."""
    to_email = (to_email or "").strip()
    try:
        validate_email(to_email)
    except ValidationError:
        raise QuestionRefused("Enter the contractor's email address.") from None
    text = _clean_text(text, QUESTION_LIMIT, "the question")
    if not finding.can_decide:
        raise QuestionRefused("This finding is decided already; there is nothing to ask.")
    now = timezone.now()
    with transaction.atomic():
        question = FindingQuestion.objects.create(
            client_id=finding.client_id,
            finding=finding,
            asked_by=actor,
            asked_at=now,
            expires_at=now + LINK_LIFETIME,
            to_email=to_email,
            question=text,
        )
        audit(finding.client.firm, actor, "question.ask", question, None, _public_state(question))
    return question


def send_question(question: FindingQuestion, url: str) -> None:
    client = question.client
    context = {
        "question": question,
        "client": client,
        "firm": client.firm,
        "about": subject_of(question.finding),
        "asked_by": question.asked_by,
        "url": url,
        "until": _day(question.expires_at, client),
    }
    email = EmailMultiAlternatives(
        subject=header_safe(f"{client.firm.name} has a question about {client.name}'s books"),
        body=render_to_string("questions/email/question.txt", context),
        to=[question.to_email],
        # The answer page says "reply to the email it came with": a reply reaches whoever
        # asked, not the no-reply sender.
        reply_to=[question.asked_by.email] if question.asked_by else None,
    )
    html = render_to_string("questions/email/question.html", context)
    email.attach_alternative(html, "text/html")
    email.send()


def do_withdraw(actor: User, question: FindingQuestion) -> FindingQuestion:
    """Withdraw a question not yet answered: its link then says so. An answered one stays."""
    with transaction.atomic():
        locked = FindingQuestion.objects.select_for_update().get(pk=question.pk)
        if locked.answered_at:
            raise QuestionRefused("This question was answered already; it cannot be withdrawn.")
        if locked.withdrawn_at:
            return locked
        before = _public_state(locked)
        locked.withdrawn_at, locked.withdrawn_by = timezone.now(), actor
        locked.save(update_fields=["withdrawn_at", "withdrawn_by"])
        audit(question.client.firm, actor, "question.withdraw", locked, before,
              _public_state(locked))  # fmt: skip
    return locked


# The contractor: open the link and answer.


def _refusal(question: FindingQuestion) -> LinkRefused | None:
    """Why a question's link no longer takes an answer (an answered one is shown)."""
    client = question.client
    firm = client.firm.name
    if question.withdrawn_at:
        return LinkWithdrawn(
            f"{firm} withdrew this question on {_day(question.withdrawn_at, client)}; "
            "nothing more is needed from you."
        )
    if timezone.now() >= question.expires_at:
        return LinkRefused(
            f"This question's link expired on {_day(question.expires_at, client)}. If you "
            f"still want to answer, reply to {firm} by email."
        )
    return None


def load_question(token: str) -> FindingQuestion:
    """The question a genuine link names: answered (to show), or still open."""
    question = linked_row(
        token,
        FindingQuestion.objects.select_related("client__firm", "finding", "asked_by"),
        SALT,
        expired="This question's link has expired. If you still want to answer, reply to "
        "the email it came with.",
    )
    if question is None:
        raise LinkRefused("This question no longer exists. Nothing more is needed from you.")
    if not question.answered_at and (refusal := _refusal(question)):
        raise refusal
    return question


def do_answer(question: FindingQuestion, answer: str, name: str = "") -> FindingQuestion:
    """Keep the contractor's answer, once: a second answer (another tab, a replayed post)
    raises `AlreadyAnswered` and changes nothing. Refused when withdrawn or expired."""
    answer = _clean_text(answer, ANSWER_LIMIT, "your answer")
    name = header_safe(name or "")
    if len(name) > NAME_LIMIT:
        raise QuestionRefused(f"Your name is {len(name):,} characters; the limit is {NAME_LIMIT}.")
    with transaction.atomic():
        locked = (
            FindingQuestion.objects.select_for_update(of=("self",))
            .select_related("client__firm", "finding", "asked_by")
            .get(pk=question.pk)
        )
        if locked.answered_at:
            raise AlreadyAnswered
        if refusal := _refusal(locked):
            raise refusal
        before = _public_state(locked)
        locked.answer, locked.answered_by_name = answer, name
        locked.answered_at = timezone.now()
        locked.save(update_fields=["answer", "answered_by_name", "answered_at"])
        audit(locked.client.firm, None, "question.answer", locked, before, _public_state(locked))
        staff = _notify_staff(locked)
    _email_staff(locked, staff)  # once the answer is kept: an email says only what is true
    return locked


def staff_to_tell(question: FindingQuestion) -> list[User]:
    """Whoever asked, while they still work in the firm; else the client's assigned staff
    who still do (the question must not go unheard when its asker has left)."""
    client = question.client
    asker = question.asked_by
    if asker and client.firm.memberships.filter(user=asker).exists():
        return [asker]
    members = Membership.objects.for_firm(client.firm).values("user_id")
    return list(client.assigned_staff.filter(pk__in=members).order_by("email"))


def _who(question: FindingQuestion) -> str:
    return question.answered_by_name or question.to_email


def _notify_staff(question: FindingQuestion) -> list[User]:
    """A notice for each of the client's staff (in the answer's transaction); whom it told."""
    client = question.client
    about = subject_of(question.finding)
    what = about.kind.lower() + (f" ({about.invoices})" if about.invoice_numbers else "")
    staff = staff_to_tell(question)
    text = f"{_who(question)} answered the question on {client.name}'s {what}: “{question.answer}”"
    notify(client.firm, staff, text if len(text) <= 300 else text[:298] + "…”",
           finding_path(question.finding), timezone_name=client.timezone)  # fmt: skip
    return staff


def _email_staff(question: FindingQuestion, staff: list[User]) -> None:
    if not staff:
        return
    client = question.client
    context = {
        "question": question,
        "client": client,
        "about": subject_of(question.finding),
        "who": _who(question),
        "page": settings.PUBLIC_BASE_URL.rstrip("/") + finding_path(question.finding),
    }
    try:
        send_mail(
            subject=header_safe(f"{client.name}: the contractor answered your question"),
            message=render_to_string("questions/email/answered.txt", context),
            from_email=None,
            recipient_list=[u.email for u in staff],
        )
    except OSError:  # the answer is kept and the notices are shown: the contractor is done
        log.exception("Could not email staff about the answer to question %s", question.pk)


# The finding's questions in the queue.


def attach_questions(findings: list[Finding]) -> None:
    """Set `asked` on each finding: its questions, oldest first, in one query for the page."""
    by_finding: dict[int, list[FindingQuestion]] = {f.pk: [] for f in findings}
    if by_finding:
        rows = FindingQuestion.objects.filter(finding_id__in=list(by_finding)).select_related(
            "asked_by", "withdrawn_by"
        )
        for question in rows.order_by("asked_at", "pk"):
            by_finding[question.finding_id].append(question)
    for f in findings:
        f.asked = by_finding[f.pk]
