"""Refuse, up front, request text no view can use: a NUL character (PostgreSQL text cannot
hold one, so `?client=%00` reached the database and became a 500) or a lone UTF-16
surrogate, in the path, the query string, a form field or a header. The answer is a 400
that names where; nothing else runs. JSON bodies are checked by their own parsers
(`api.parsers`, the webhook receivers), since only they know a body is JSON."""

from collections.abc import Callable, Iterable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse

FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def unusable(text: str) -> str:
    """What makes `text` unusable ("a NUL character"…), or "" when nothing does."""
    if "\x00" in text:
        return "a NUL character"
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        return "a lone UTF-16 surrogate"
    return ""


def _fields(request: HttpRequest) -> Iterable[tuple[str, str]]:
    yield "the path", request.path_info
    for key, values in request.GET.lists():
        yield f"the query parameter “{key[:40]}”", key
        for value in values:
            yield f"the query parameter “{key[:40]}”", value
    for name, value in request.META.items():
        if name.startswith("HTTP_") and isinstance(value, str):
            yield f"the header {name[5:].replace('_', '-').title()}", value
    if request.method == "POST" and request.content_type in FORMS:
        for key, values in request.POST.lists():
            yield f"the form field “{key[:40]}”", key
            for value in values:
                yield f"the form field “{key[:40]}”", value


class RefuseUnusableText:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        for where, text in _fields(request):
            if problem := unusable(text):
                message = f"{where.capitalize()} holds {problem}; nothing was done."
                if request.path_info.startswith(("/api/", "/webhooks/")):
                    return JsonResponse({"detail": message}, status=400)
                return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
