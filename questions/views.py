"""Asking the contractor from a finding in the queue (staff), and the contractor's answer
page (public: the signed link is the credential)."""

from allauth.core.ratelimit import consume as consume_rate
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.backends.utils import csrf_input
from django.template.loader import render_to_string
from django.views.decorators.http import require_http_methods, require_POST

from clients.models import Role
from clients.signed_links import LinkRefused
from clients.tenancy import get_for_firm, member_required
from reconciliation.models import Finding

from .asking import (
    AlreadyAnswered,
    QuestionRefused,
    attach_questions,
    do_answer,
    do_ask,
    do_withdraw,
    draft,
    finding_path,
    load_question,
    question_path,
    send_question,
    subject_of,
)
from .models import ANSWER_LIMIT, NAME_LIMIT, QUESTION_LIMIT, FindingQuestion


def _section(request: HttpRequest, finding: Finding) -> HttpResponse:
    """The finding's questions as the queue item shows them (swapped in place)."""
    attach_questions([finding])
    context = {
        "f": finding,
        "can_decide": request.membership.has_role(Role.ACCOUNTANT),
        "csrf": csrf_input(request),
    }
    html = render_to_string("questions/finding_questions.html", context, request, using="jinja2")
    return HttpResponse(html)


def _ask_form(request: HttpRequest, finding: Finding, **values) -> HttpResponse:
    start = draft(finding) if not values else None
    context = {
        "finding": finding,
        "about": subject_of(finding),
        "to_email": values.get("to_email", start and start.to_email),
        "question": values.get("question", start and start.question),
        "error": values.get("error", ""),
        "limit": QUESTION_LIMIT,
        "panel": bool(request.htmx),
    }
    template = "questions/partials/ask.html" if request.htmx else "questions/ask.html"
    response = render(request, template, context, status=400 if values.get("error") else 200)
    response["Vary"] = "HX-Request"
    if request.htmx and values.get("error"):  # the form again, where it was
        response["HX-Retarget"] = f"#finding-{finding.pk}-ask"
        response["HX-Reswap"] = "innerHTML"
    return response


@require_http_methods(["GET", "POST"])
@member_required(Role.ACCOUNTANT)
def question_ask(request: HttpRequest, finding_id: int) -> HttpResponse:
    """The ask form (prefilled: the contractor's last address, a question drafted from the
    finding), and sending it."""
    finding = get_for_firm(request, Finding, pk=finding_id)
    if request.method == "GET":
        if request.htmx and request.GET.get("close"):
            return HttpResponse("")
        return _ask_form(request, finding)
    given = {k: request.POST.get(k, "") for k in ("to_email", "question")}
    try:
        question = do_ask(request.user, finding, given["to_email"], given["question"])
    except QuestionRefused as refused:
        return _ask_form(request, finding, error=str(refused), **given)
    send_question(question, request.build_absolute_uri(question_path(question)))
    if request.htmx:
        return _section(request, finding)
    messages.success(request, f"Question sent to {question.to_email}.")
    return redirect(finding_path(finding))


@require_POST
@member_required(Role.ACCOUNTANT)
def question_withdraw(request: HttpRequest, finding_id: int, question_id: int) -> HttpResponse:
    finding = get_for_firm(request, Finding, pk=finding_id)
    question = get_for_firm(request, FindingQuestion, pk=question_id, finding=finding)
    try:
        do_withdraw(request.user, question)
    except QuestionRefused as refused:
        messages.error(request, str(refused))
    if request.htmx:
        return _section(request, finding)
    return redirect(finding_path(finding))


def _refused(request: HttpRequest, error: LinkRefused) -> HttpResponse:
    context = {"heading": error.heading, "reason": str(error), "hide_login": True}
    return render(request, "questions/link_refused.html", context, status=error.status)


@require_http_methods(["GET", "POST"])
def question_answer(request: HttpRequest, token: str) -> HttpResponse:
    """The contractor's page: who asks, about what (in words), and a box for the answer.
    Answered once; afterwards it shows the answer given and thanks."""
    try:
        question = load_question(token)
    except LinkRefused as error:
        return _refused(request, error)
    context = {
        "question": question,
        "client": question.client,
        "firm": question.client.firm,
        "about": subject_of(question.finding),
        "answer_limit": ANSWER_LIMIT,
        "name_limit": NAME_LIMIT,
        "hide_login": True,  # contractors never have an account
    }
    status = 200
    if request.method == "POST" and not question.answered_at:
        if not consume_rate(request, action="contractor_answer"):
            context["error"] = "Too many answers from here just now; try again in an hour."
            return render(request, "questions/answer.html", context, status=429)
        answer, name = request.POST.get("answer", ""), request.POST.get("name", "")
        try:
            question = do_answer(question, answer, name)
            context.update(question=question, just_answered=True)
        except AlreadyAnswered:
            question.refresh_from_db()
            context["question"] = question
        except LinkRefused as error:
            return _refused(request, error)
        except QuestionRefused as refused:
            context.update(error=str(refused), answer=answer, name=name)
            status = 400
    return render(request, "questions/answer.html", context, status=status)
