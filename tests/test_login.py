"""Login with django-allauth: email as the login, rate limits, reset, MFA available."""

import os
import re
import subprocess
import sys

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse

from .factories import TEST_PASSWORD, MembershipFactory
from .redis_support import empty_redis, redis_url
from .test_settings import PRODUCTION_ENV, ROOT

pytestmark = pytest.mark.django_db


def login(client, email: str, password: str):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def test_it_logs_in_with_email_and_lands_on_the_dashboard(client, two_firms):
    response = login(client, "accountant@alpha.test", TEST_PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")
    assert "Alpha Secret Roofing" in client.get(reverse("dashboard")).content.decode()


def test_it_has_no_username_field(client):
    page = client.get(reverse("account_login")).content.decode()
    assert 'name="login"' in page and 'type="email"' in page
    assert "username" not in client.get(reverse("account_signup")).content.decode().lower()


def test_it_refuses_a_wrong_password_with_a_message(client, two_firms):
    response = login(client, "accountant@alpha.test", "wrong")
    assert response.status_code == 200
    assert "not correct" in response.content.decode()


def test_it_rate_limits_failed_logins(client, two_firms):
    pages = [login(client, "owner@alpha.test", f"wrong-{n}").content.decode() for n in range(6)]
    assert "Too many failed login attempts" not in pages[0]
    assert "Too many failed login attempts" in pages[-1]
    # Even the right password is refused while the limit holds.
    response = login(client, "owner@alpha.test", TEST_PASSWORD)
    assert response.status_code == 200
    assert "Too many failed login attempts" in response.content.decode()


def test_it_sends_new_users_without_a_firm_to_create_one(client):
    response = client.post(
        reverse("account_signup"),
        {
            "email": "founder@example.test",
            "password1": "a-Long-pass-9x",
            "password2": "a-Long-pass-9x",
        },
    )
    assert response.status_code == 302
    assert client.get(reverse("dashboard"))["Location"] == reverse("firm_create")


def test_it_resets_a_forgotten_password_by_email(client, two_firms):
    client.post(reverse("account_reset_password"), {"email": "owner@alpha.test"})
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(\S+)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    action = form_page.redirect_chain[-1][0] if form_page.redirect_chain else link
    done = client.post(action, {"password1": "Brand-new-pass-42", "password2": "Brand-new-pass-42"})
    assert done.status_code == 302
    client.logout()
    assert login(client, "owner@alpha.test", "Brand-new-pass-42")["Location"] == reverse(
        "dashboard"
    )


def test_it_offers_totp_two_factor_authentication(client, db):
    membership = MembershipFactory()
    login(client, membership.user.email, TEST_PASSWORD)
    # Turning on 2FA asks for the password again, as it should.
    assert client.get(reverse("mfa_activate_totp"))["Location"].startswith(
        reverse("account_reauthenticate")
    )
    client.post(reverse("account_reauthenticate"), {"password": TEST_PASSWORD})
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Authenticator secret" in body or "authenticator" in body.lower()
    assert 'name="code"' in body


def test_it_logs_out(client, two_firms):
    client.force_login(two_firms.owner_a)
    client.post(reverse("account_logout"))
    assert client.get(reverse("dashboard")).status_code == 302


SHARED_CACHE_URL = redis_url("shared_cache")
TRY_THREE_WRONG_PASSWORDS = """
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from allauth.account.adapter import get_adapter

request = RequestFactory().post("/accounts/login/", HTTP_HOST="books.example.com")
refused = 0
for n in range(3):
    try:
        get_adapter(request).authenticate(request, email="owner@alpha.test", password=f"x{n}")
    except ValidationError:
        refused += 1
print(refused)
"""


@pytest.fixture
def shared_cache():
    client = empty_redis(SHARED_CACHE_URL)
    yield SHARED_CACHE_URL
    client.flushdb()


def test_two_worker_processes_share_one_failed_login_budget(two_firms, shared_cache):
    """GIVEN two processes on the production settings (5 failed logins per 5 minutes)
    WHEN each tries 3 wrong passwords for one account
    THEN the second process refuses its last try: one budget, not one per worker."""
    db = settings.DATABASES["default"]
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("SANDBOX", "DEBUG")},
        **PRODUCTION_ENV,
        "DATABASE_URL": f"postgres://{db.get('USER') or 'postgres'}@{db.get('HOST') or '127.0.0.1'}"
        f":{db.get('PORT') or 5432}/{db['NAME']}",
        "REDIS_URL": shared_cache,
    }
    refused = []
    for _ in range(2):
        result = subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
            [sys.executable, "manage.py", "shell", "-c", TRY_THREE_WRONG_PASSWORDS],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        refused.append(int(result.stdout.split()[-1]))
    assert refused == [0, 1]
