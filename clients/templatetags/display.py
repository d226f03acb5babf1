"""How pages show money and codes: money with two decimals, thousands grouped, always its
currency; finding codes in words."""

from decimal import Decimal, InvalidOperation

from django import template

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
