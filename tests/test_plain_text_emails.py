"""Plain-text emails are not HTML: a name like "Ledger & Co" must not arrive as "&amp;"."""

from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string

TEMPLATES = Path(settings.BASE_DIR) / "templates"


def test_it_turns_off_html_escaping_in_every_plain_text_email():
    texts = sorted(TEMPLATES.glob("*/email/*.txt"))
    assert texts
    escaped = [
        str(p.relative_to(TEMPLATES)) for p in texts if "{% autoescape off %}" not in p.read_text()
    ]
    assert escaped == []


def test_it_writes_an_ampersand_in_the_staff_invitation_as_is():
    text = render_to_string(
        "clients/email/staff_invitation.txt",
        {
            "inviter": {"email": "owner@ledger.test"},
            "firm": {"name": "Ledger & Co Bookkeeping"},
            "role": "accountant",
            "url": "https://example.test/invite/x?a=1&b=2",
            "expires_at": None,
        },
    )
    assert "join Ledger & Co Bookkeeping on syncfirm" in text
    assert "https://example.test/invite/x?a=1&b=2" in text
