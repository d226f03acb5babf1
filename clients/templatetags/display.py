"""How pages show money and codes: money with two decimals, thousands grouped, always its
currency; finding codes in words."""

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def money(amount, currency: str = "") -> str:
    """`{{ amount|money:currency }}` → "14,812.50 USD"; an empty amount is a dash.
    Floats are refused: money never passes through binary floating point."""
    if amount is None or amount == "":
        return "—"
    if isinstance(amount, float):
        raise TypeError("money is Decimal, never float")
    try:
        value = Decimal(amount)
    except (InvalidOperation, TypeError, ValueError):
        return str(amount)
    return f"{value:,.2f} {currency}".strip()


@register.filter
def code_label(code: str) -> str:
    """A finding's stable code as a page names it: duplicate_invoice → "Duplicate invoice"."""
    from reconciliation.detectors import CODES

    return CODES.get(code, code)


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
def options(choices, chosen: str = ""):
    """`<option>`s for (value, label) pairs, the chosen one selected. Built in Python: a
    firm's client filter lists hundreds of clients on every queue page."""
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((value, " selected" if value == chosen else "", label) for value, label in choices),
    )


DIFFERS = mark_safe(' class="differs"')
SAY_DIFFERS = mark_safe(' <span class="visually-hidden">(differs)</span>')


@register.simple_tag
def side_by_side(comparison):
    """A finding's comparison as a table, differing rows marked (see
    `reconciliation.compare`). Built in Python: a queue page shows many of them."""
    if comparison is None:
        return ""
    head = format_html_join("", '<th scope="col">{}</th>', ((c,) for c in comparison.columns))
    rows = format_html_join(
        "\n",
        '<tr{}><th scope="row">{}{}</th>{}</tr>',
        (
            (
                DIFFERS if differs else "",
                what,
                SAY_DIFFERS if differs else "",
                format_html_join("", "<td>{}</td>", ((v or "—",) for v in values)),
            )
            for what, values, differs in comparison.rows
        ),
    )
    return format_html(
        '<table class="side-by-side compact"><caption class="visually-hidden">Both systems\' '
        'records; differing rows are marked</caption><thead><tr><th scope="col">'
        '<span class="visually-hidden">Field</span></th>{}</tr></thead><tbody>{}</tbody></table>',
        head,
        rows,
    )
