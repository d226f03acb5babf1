"""The person's own API tokens page: list, create (key shown once), revoke."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from clients.forms import say_length_limits

from .models import ApiToken
from .tokens import MAX_DAYS, do_create_api_token, do_revoke_api_token


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What will use it, e.g. “month-end script”.")
    days = forms.IntegerField(
        label="Expires after (days)", min_value=1, max_value=MAX_DAYS, initial=90
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["days"].initial = settings.API_TOKEN_DAYS
        say_length_limits(self)


@login_required
def api_tokens(request: HttpRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST or None)
    created = key = None
    if request.method == "POST" and form.is_valid():
        try:
            created, key = do_create_api_token(
                request.user, form.cleaned_data["name"], form.cleaned_data["days"]
            )
        except (PermissionDenied, ValidationError) as error:
            form.add_error(None, " ".join(getattr(error, "messages", [str(error)])))
        else:
            form = ApiTokenForm()
    response = render(
        request,
        "api/tokens.html",
        {
            "tokens": ApiToken.objects.filter(user=request.user),
            "form": form,
            "created": created,
            "key": key,
        },
    )
    # The key is in this one answer only: no cache may keep it.
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@login_required
def api_token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    do_revoke_api_token(request.user, token)
    messages.success(request, f"Token “{token.name}” ({token.prefix}…) revoked.")
    return redirect("api_tokens")
