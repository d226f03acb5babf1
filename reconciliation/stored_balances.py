"""Customer balances kept per client and month (`CustomerBalance`), and their CSV.

Storing compares with what is stored first: a re-run that finds the same figures writes
nothing, a changed customer is updated, one no longer present is deleted."""

import csv
import io
from datetime import date

from django.db import transaction

from clients.models import Client
from syncfirm.csv_cells import safe_row

from .balances import BalanceRow
from .models import CustomerBalance

FIELDS = ("name", "currency", "crm_owed", "books_owed", "explained", "unexplained",
          "explained_by")  # fmt: skip
CSV_COLUMNS = [
    "customer_id", "customer", "currency", "crm_owes", "books_owe", "difference",
    "explained", "explained_by", "unexplained",
]  # fmt: skip


def _values(row: BalanceRow) -> dict:
    return {
        "name": row.name[:500],
        "currency": (row.currency or "USD")[:3],
        "crm_owed": row.crm_owed,
        "books_owed": row.books_owed,
        "explained": row.explained,
        "unexplained": row.unexplained,
        "explained_by": [
            {"code": e.code, "effect": str(e.effect), "words": e.words} for e in row.explained_by
        ],
    }


def store_balances(client: Client, period: date, rows: list[BalanceRow]) -> dict[str, int]:
    """Make the stored balances of `client` for the month of `period` these `rows`;
    returns how many were created, updated and deleted (all 0 when nothing changed)."""
    period = period.replace(day=1)
    wanted = {row.customer_id: _values(row) for row in rows}
    with transaction.atomic():
        stored = {
            b.customer_id: b
            for b in CustomerBalance.objects.select_for_update().filter(
                client=client, period=period
            )
        }
        new, changed = [], []
        for customer_id, values in wanted.items():
            current = stored.get(customer_id)
            if current is None:
                new.append(
                    CustomerBalance(client=client, period=period, customer_id=customer_id,
                                    **values)
                )  # fmt: skip
            elif any(getattr(current, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(current, k, v)
                changed.append(current)
        gone = [b.pk for customer_id, b in stored.items() if customer_id not in wanted]
        if new:
            CustomerBalance.objects.bulk_create(new)
        if changed:
            CustomerBalance.objects.bulk_update(changed, FIELDS)
        if gone:
            CustomerBalance.objects.filter(pk__in=gone).delete()
    return {"created": len(new), "updated": len(changed), "deleted": len(gone)}


def balances_csv(balances) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for b in balances:
        because = "; ".join(f"{e['words']} ({e['effect']})" for e in b.explained_by)
        writer.writerow(  # names and words from both systems: neutralised against formulas
            safe_row([
                b.customer_id, b.name, b.currency, b.crm_owed, b.books_owed, b.difference,
                b.explained, because, b.unexplained,
            ])
        )  # fmt: skip
    return out.getvalue()
