"""Which months a client can be reconciled for, decided in one place (pure: no database).

A period is a calendar month written YYYY-MM. It must lie in the client's history:
- not after the current month in the client's timezone (a month that has not begun has
  nothing to prove, and a run for it would never be comparable with anything);
- not more than HISTORY_YEARS before it. syncfirm keeps no "history start" per client (the
  books it reads go back as far as the contractor kept them), so the floor is the records a
  firm must keep and can still be asked about: ten years covers every retention rule our
  firms work under (IRS: 7 years at most; Canada 6; UK 6) with room to spare, and keeps
  nonsense such as 0000-01 or 0001-01 out of date arithmetic.
See docs/decisions/0015-every-run-ends.md.
"""

import re
from datetime import date

HISTORY_YEARS = 10
# ASCII: `\d` alone also takes other scripts' digits (fullwidth, Arabic-Indic), which int() reads.
_SHAPE = re.compile(r"(\d{4})-(\d{2})", re.ASCII)


class PeriodRefused(ValueError):
    """The period is not a month of the client's history; the message says why, in words."""


def earliest_period(today: date) -> date:
    return date(today.year - HISTORY_YEARS, 1, 1)


def check_period(text: str | date, today: date) -> date:
    """The first day of the month `text` (YYYY-MM, or a date) names, when it lies between
    `earliest_period(today)` and the month of `today` (the client's local date)."""
    if isinstance(text, date):
        year, number = text.year, text.month
        shown = f"{text:%Y-%m}"
    else:
        shown = str(text).strip()
        found = _SHAPE.fullmatch(shown)
        if not found or not 1 <= int(found[2]) <= 12:
            raise PeriodRefused(
                f"“{shown[:20]}” is not a month: write it as YYYY-MM, like 2026-11."
            )
        year, number = int(found[1]), int(found[2])
    latest, earliest = today.replace(day=1), earliest_period(today)
    if (year, number) > (latest.year, latest.month):
        raise PeriodRefused(
            f"{shown} has not begun yet: the latest month that can be reconciled is "
            f"{latest:%Y-%m} (the current month in the client's timezone)."
        )
    if (year, number) < (earliest.year, earliest.month):
        raise PeriodRefused(
            f"{shown} is before the history syncfirm reconciles: the earliest month is "
            f"{earliest:%Y-%m} ({HISTORY_YEARS} years back)."
        )
    return date(year, number, 1)
