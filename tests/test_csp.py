"""Every page carries a Content-Security-Policy that refuses inline script and style, and no
page or partial needs either (no inline <script>, no on…= handlers, no style= attributes).
The browser proves the pages work under it: tests/e2e/test_content_security_policy.py."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style[\s>]", re.IGNORECASE)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)


def policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return dict(d.strip().split(" ", 1) for d in header.split(";"))


def page_templates() -> list[Path]:
    """Templates that reach a browser (emails do not: they are not under the policy)."""
    found = [*(ROOT / "templates").rglob("*.html"), *(ROOT / "jinja2").rglob("*.html")]
    return [p for p in found if "email" not in p.parts]


@pytest.mark.parametrize("template", page_templates(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_template_needs_inline_code_or_style(template):
    source = re.sub(r"\{#.*?#\}", "", template.read_text())  # comments reach no page
    assert not INLINE_HANDLER.findall(source), "use a data- attribute and static/js/app.js"
    assert not STYLE_ATTRIBUTE.findall(source), "use a class in static/css/app.css"
    assert not STYLE_ELEMENT.findall(source), "put the rules in static/css/app.css"
    assert not INLINE_SCRIPT.findall(source), "put the script in static/js/"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name", ["dashboard", "review_findings", "review_conflicts", "reports", "staff_list"]
)
def test_pages_carry_a_strict_policy(client, two_firms, name):
    client.force_login(two_firms.accountant_a)
    response = client.get(reverse(name))
    assert response.status_code == 200
    found = policy(response)
    assert found["default-src"] == "'self'"
    assert found["script-src"].split()[0] == "'self'" and "unsafe" not in found["script-src"]
    assert found["style-src"] == "'self'"
    assert found["frame-ancestors"] == "'none'" and found["object-src"] == "'none'"
    body = response.content.decode()
    assert not INLINE_HANDLER.findall(body) and not STYLE_ATTRIBUTE.findall(body)
    assert '"includeIndicatorStyles": false' in body  # htmx injects no <style>


@pytest.mark.django_db
def test_the_client_page_and_the_login_page_too(client, two_firms):
    assert policy(client.get(reverse("account_login")))["style-src"] == "'self'"
    client.force_login(two_firms.accountant_a)
    page = client.get(reverse("client_detail", args=[two_firms.client_a.slug]))
    assert policy(page)["script-src"].startswith("'self'")
    assert not STYLE_ATTRIBUTE.findall(page.content.decode())


@pytest.mark.django_db
def test_the_api_docs_relax_only_styles(client):
    page = client.get(reverse("api-docs"))
    found = policy(page)
    assert found["style-src"] == "'self' 'unsafe-inline'"
    assert "unsafe" not in found["script-src"]
    assert not INLINE_SCRIPT.findall(page.content.decode())  # its script is a separate file
