"""How much a finding matters to this client: "high" only when its amount is material against
the client's monthly revenue and above the firm's floor, so "high" means something and a
client with a few cents astray does not always "need attention"."""

from datetime import date, timedelta
from decimal import Decimal

from .detectors import SnapInvoice

SHARE_OF_REVENUE = Decimal("0.05")  # auditors' rule of thumb: 5 % of revenue is material
MEDIUM_FRACTION = Decimal("0.2")  # a fifth of material is worth a look
REVENUE_MONTHS = 3  # averaged, so one quiet month does not make everything high


def monthly_revenue(invoices: list[SnapInvoice], period_end: date) -> Decimal:
    """What the client invoices in a month: the average of the months up to `period_end`."""
    since = period_end - timedelta(days=30 * REVENUE_MONTHS)
    total = sum(
        (i.total for i in invoices if not i.voided and since < i.txn_date <= period_end),
        Decimal("0.00"),
    )
    return (total / REVENUE_MONTHS).quantize(Decimal("0.01"))


def thresholds(floor: Decimal, revenue: Decimal) -> tuple[Decimal, Decimal]:
    """(high, medium): the amounts from which a finding is high, and medium."""
    high = max(floor, revenue * SHARE_OF_REVENUE).quantize(Decimal("0.01"))
    return high, (high * MEDIUM_FRACTION).quantize(Decimal("0.01"))


def severity(amount: Decimal, limits: tuple[Decimal, Decimal]) -> str:
    high, medium = limits
    return "high" if amount >= high else "medium" if amount >= medium else "low"
