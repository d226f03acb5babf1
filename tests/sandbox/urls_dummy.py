"""A tiny emulated endpoint for the emulation layer's tests, plus the real sandbox URLs.

`notes/<account>` keeps notes in memory so the tests can see what a faulted write committed:
GET lists them, POST adds one (201), a POST without text is refused (400) and one with the
text "raise" raises.
"""

import json
import threading

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from sandbox.emulation import HUBSPOT, QUICKBOOKS, emulated

NOTES: dict[str, list[str]] = {}
_lock = threading.Lock()


def account_in_path(request: HttpRequest, account: str) -> str:
    return account


def notes(request: HttpRequest, account: str) -> HttpResponse:
    if request.method == "POST":
        text = json.loads(request.body or b"{}").get("text")
        if not text:
            return JsonResponse({"error": "text is required"}, status=400)
        if text == "raise":
            raise RuntimeError("the dummy view fails")
        with _lock:
            NOTES.setdefault(account, []).append(text)
        return JsonResponse({"text": text}, status=201)
    with _lock:
        return JsonResponse({"notes": list(NOTES.get(account, []))})


quickbooks_notes = csrf_exempt(emulated(QUICKBOOKS, account_in_path)(notes))
hubspot_notes = csrf_exempt(emulated(HUBSPOT, account_in_path)(notes))

urlpatterns = [
    path("dummy/qbo/<str:account>/notes", quickbooks_notes),
    path("dummy/hs/<str:account>/notes", hubspot_notes),
    path("sandbox/", include("sandbox.urls")),
]
