"""The Jinja2 environment for the few partials a page repeats many times (a dashboard row,
a review queue item). Django's template language spends about a millisecond on each of
those; Jinja2 compiles templates to Python and spends a tenth of that, which is what lets
the dashboard and the findings queue answer in time under load (bench/review_pages.py).
Everything else stays in Django templates."""

import zoneinfo

from django.templatetags.static import static
from django.urls import reverse
from django.utils.dateformat import format as date_format
from django.utils.timesince import timesince
from django.utils.timezone import now as django_now

from dashboard.templatetags.display import code_label, long_text, money, run_outcome, side_by_side
from jinja2 import Environment, StrictUndefined


def url(name: str, *args) -> str:
    return reverse(name, args=args)


def local(value, zone: str, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """A moment in a client's timezone (strftime: Django's date format is ten times dearer)."""
    if value is None:
        return ""
    return value.astimezone(zoneinfo.ZoneInfo(zone)).strftime(pattern)


def ago(value, now=None) -> str:
    """How long ago, in the largest unit: "5 minutes", "3 hours", "2 days". Django's
    timesince says it in two units and costs ten times as much a row."""
    seconds = int(((now or django_now()) - value).total_seconds())
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return "less than a minute"


def month(value) -> str:
    return value.strftime("%b %Y") if value else ""


def environment(**options) -> Environment:
    options.update(undefined=StrictUndefined, autoescape=True)  # a typo fails loudly
    env = Environment(**options)  # noqa: S701 - autoescape is on, set just above
    env.globals.update(url=url, static=static, side_by_side=side_by_side)
    env.filters.update(
        money=money, code_label=code_label, run_outcome=run_outcome, timesince=timesince,
        local=local, month=month, ago=ago, date=date_format, long_text=long_text,
    )  # fmt: skip
    return env
