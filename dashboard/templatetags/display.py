"""How pages show money and codes: money with two decimals, thousands grouped, always its
currency; finding codes in words."""

from html import escape

from django import template
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe

from syncfirm.money import money as format_money

register = template.Library()


@register.filter
def money(amount, currency: str = "") -> str:
    """`{{ amount|money:currency }}` → "14,812.50 USD" (see `syncfirm.money`)."""
    return format_money(amount, currency)


@register.filter
def code_label(code: str) -> str:
    """A finding's stable code as a page names it: duplicate_invoice → "Duplicate invoice"."""
    from reconciliation.detectors import CODES

    return CODES.get(code, code)


@register.filter
def ago(value) -> str:
    """The dashboard's "how long ago" ("less than a minute", "5 minutes"), so the client
    page never says "0 minutes ago" where the dashboard says "less than a minute ago"."""
    from syncfirm.jinja import ago as dashboard_ago

    return dashboard_ago(value) if value else ""


# Who wins a customer field both systems changed, in the words of the settings form.
FIELD_OWNER_WORDS = {"crm": "CRM", "accounting": "books", "review": "a person decides"}


@register.filter
def field_owners(owners: dict, words=None) -> str:
    """{"display_name": "accounting", "postal_code": "crm"} → "Display name: books ·
    Postal code: CRM" (the client page's brief of its sync settings); with the client's
    `words`, its systems by name ("QuickBooks", "Jobber")."""
    from sync.mapping import field_label

    named = dict(FIELD_OWNER_WORDS)
    if words is not None:
        crm, books = words.crm.removeprefix("the "), words.books.removeprefix("the ")
        named |= {"crm": crm, "accounting": books}
    return " · ".join(
        f"{field_label(name)}: {named.get(owner, owner)}" for name, owner in (owners or {}).items()
    )


# A sync run's outcome in the few words a table cell has room for.
RUN_OUTCOMES = {
    "running": "running",
    "succeeded": "succeeded",
    "attention": "needs attention",
    "failed": "failed",
    "waiting": "waits for the import",
}


@register.filter
def run_outcome(status: str) -> str:
    return RUN_OUTCOMES.get(status, status)


@register.simple_tag
def side_by_side(comparison):
    """A finding's comparison as a table, differing rows marked (see
    `reconciliation.compare`), scrolling in its own box on a phone. Joined as plain strings
    with the standard library's escape: a queue page shows many, and Django's format_html
    costs ~30 µs a cell."""
    if comparison is None:
        return ""
    head = "".join(f'<th scope="col">{escape(c)}</th>' for c in comparison.columns)
    rows = "".join(
        f'<tr{' class="differs"' if differs else ""}><th scope="row">{escape(what)}'
        f"{' <span class="visually-hidden">(differs)</span>' if differs else ''}</th>"
        + "".join(f"<td>{escape(v) if v else '—'}</td>" for v in values)
        + "</tr>"
        for what, values, differs in comparison.rows
    )
    return mark_safe(  # noqa: S308 - escaped above
        '<div class="table-scroll"><table class="side-by-side compact">'
        '<caption class="visually-hidden">Both systems\' records; differing rows are marked'
        '</caption><thead><tr><th scope="col">'
        f'<span class="visually-hidden">Field</span></th>{head}</tr></thead>'
        f"<tbody>{rows}</tbody></table></div>"
    )


@register.filter
def long_text(text, limit: int = 160) -> str:
    """`{{ note|long_text:160 }}`: text up to `limit` characters as it is; longer, its start
    with the whole of it one click away (a <details>), so a 2,000-character reason or a
    provider's long error neither floods a list nor is cut off for good."""
    text = "" if text is None else str(text)
    if len(text) <= limit:
        return conditional_escape(text)
    return format_html(
        '<details class="long-text"><summary>{}…<span class="visually-hidden"> (show all)'
        "</span></summary>{}</details>",
        text[: limit - 1].rstrip(),
        text,
    )
