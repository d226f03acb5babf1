"""A person's notices in the current firm: listed, opened (which marks them read) and
marked read."""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from clients.tenancy import get_for_firm, member_required

from .actions import mark_read
from .models import Notice

PAGE = 30


@require_GET
@member_required()
def notice_list(request: HttpRequest) -> HttpResponse:
    notices = Notice.objects.for_firm(request.firm).filter(user=request.user)
    page = Paginator(notices, PAGE).get_page(request.GET.get("page"))
    return render(request, "notices/list.html", {"page": page})


@require_POST
@member_required()
def notice_open(request: HttpRequest, notice_id: int) -> HttpResponse:
    """Mark one notice read and go to what it is about (another person's is a 404)."""
    notice = get_for_firm(request, Notice, pk=notice_id, user=request.user)
    mark_read(request.firm, request.user, [notice.pk])
    safe = url_has_allowed_host_and_scheme(notice.link, allowed_hosts=None)
    if notice.link and safe and request.POST.get("go"):
        return redirect(notice.link)
    return redirect("notice_list")


@require_POST
@member_required()
def notices_read(request: HttpRequest) -> HttpResponse:
    mark_read(request.firm, request.user)
    return redirect("notice_list")
