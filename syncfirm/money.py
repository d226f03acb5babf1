"""Money as a person reads it, one way everywhere (pages, emails, reasons, sync review):
two decimals, thousands grouped, always its ISO currency code ("55,591.00 USD"). The code
rather than a symbol: a firm's clients bill in USD, CAD and AUD, and "$" would not say
which (decision 0022). Pure: detectors and the wording module use it as much as templates."""

from decimal import Decimal, InvalidOperation


def money(amount, currency: str = "") -> str:
    """55591 → "55,591.00 USD"; an empty amount is a dash. Floats are refused: money never
    passes through binary floating point."""
    if amount is None or amount == "":
        return "—"
    if isinstance(amount, float):
        raise TypeError("money is Decimal, never float")
    try:
        value = Decimal(amount)
    except (InvalidOperation, TypeError, ValueError):
        return str(amount)
    if not value.is_finite():  # NaN or infinity is a bug upstream, never an amount to show
        raise ValueError(f"money is a finite amount, not {value}")
    return f"{value:,.2f} {currency}".strip()


def plain_amount(amount) -> str:
    """An amount a spreadsheet reads as a number: "55591.00" (no grouping, no currency)."""
    value = Decimal(amount)
    if not value.is_finite():
        raise ValueError(f"money is a finite amount, not {value}")
    return f"{value:.2f}"
