"""What is kept per firm for a few seconds and forgotten at once when the firm's figures
change.

Pages that read every client of a firm (the dashboard, the findings queue's totals, the
filter by client) keep what they build per firm for `DASHBOARD_CACHE_SECONDS` (default 5; 0
turns it off). Each firm has a generation number in the cache: `forget` bumps it, so every
key built under the old generation is unreachable at once. The key carries the firm's id;
the cache is per deployment (Redis in production, in-process memory in the demo). The
signals that call `forget` are connected by the dashboard (dashboard/cache.py).
"""

from html import escape

from django.conf import settings
from django.core.cache import cache
from django.utils.safestring import mark_safe

GENERATION = "firm-generation:{firm}"
OPTIONS = "client-options:{firm}:{generation}"


def kept(key_format: str, firm, build):
    seconds = settings.DASHBOARD_CACHE_SECONDS
    generation = cache.get(GENERATION.format(firm=firm.pk), 0)
    key = key_format.format(firm=firm.pk, generation=generation)
    value = cache.get(key) if seconds else None
    if value is None:
        value = build()
        if seconds:
            cache.set(key, value, seconds)
    return value


def kept_for_firm(name: str, firm, build):
    """Anything else derived from the same data, kept and forgotten with the figures."""
    return kept(name + ":{firm}:{generation}", firm, build)


def client_options(firm, chosen: str = "") -> str:
    """The `<option>`s of a filter by client, every client of the firm by name, the chosen
    one selected; escaped once and kept like the figures (a queue page shows them all)."""
    from clients.models import Client

    def build() -> list[tuple[str, str]]:
        clients = Client.objects.for_firm(firm).order_by("name").values_list("slug", "name")
        return [(s, f'<option value="{escape(s)}">{escape(n)}</option>') for s, n in clients]

    return mark_safe(  # noqa: S308 - escaped in build()
        "".join(
            html.replace('">', '" selected>', 1) if slug == chosen else html
            for slug, html in kept(OPTIONS, firm, build)
        )
    )


def forget(firm_id: int) -> None:
    """The firm's figures changed: the next view reads them afresh."""
    key = GENERATION.format(firm=firm_id)
    try:
        cache.incr(key)
    except ValueError:  # no generation yet
        cache.set(key, 1, None)
