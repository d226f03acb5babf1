"""The matching weights a client's runs learn, kept per client and used again by runs too
small to learn from (a webhook's record, a handful of changes): decision 0026."""

import logging
from collections.abc import Sequence

from django.utils import timezone

from clients.models import Client

from .client_matching import binned, vocabulary
from .linkage import Decision, Matcher, Model, Party
from .linkage.duplicates import LIKELY
from .linkage.matcher import FEW, LEAST_SHARE, SURE, SURE_UNTRAINED
from .linkage.model import StoredModelUnusable
from .models import LearntMatching, SyncRun, SyncSettings

log = logging.getLogger(__name__)


def stored(client: Client) -> tuple[LearntMatching | None, Model | None]:
    """The client's kept weights; (row, None) when they no longer fit today's comparisons
    or are damaged: ignored, and learnt again by the next run with enough records."""
    row = LearntMatching.objects.filter(client=client).first()
    if row is None:
        return None, None
    try:
        return row, usable(row)
    except StoredModelUnusable as error:
        log.warning("learnt matching of client %s ignored: %s", client.pk, error)
        return row, None


def usable(row: LearntMatching) -> Model:
    """The kept model, or StoredModelUnusable saying why runs ignore it."""
    # What a fit can keep (NaN fails too); a damaged tiny share would make every record new.
    if not LEAST_SHARE * 0.999 <= row.partner_share <= 1:
        raise StoredModelUnusable(f"the share of partners is {row.partner_share!r}")
    return Model.from_dict(row.model)


def thresholds(settings: SyncSettings) -> tuple[float, float]:
    """(link without review from, review from), as probabilities."""
    return float(settings.link_sure_percent) / 100, float(settings.review_from_percent) / 100


def duplicate_search(client: Client, settings: SyncSettings) -> dict:
    """How the client's duplicate search within one system weighs pairs (keywords of
    `find_duplicates`): its words; its kept weights, m and u (the prior is the set's own:
    the kept one is about partners across two systems); a finding from its link threshold
    (on the priors never below 99 %); listed from its review threshold, but never below
    50 %: within one system nothing is created, so a less likely pair asks no question."""
    words, _ = vocabulary(settings.match_abbreviations, settings.match_legal_forms)
    _, kept = stored(client)
    sure, review = thresholds(settings)
    return {"vocabulary": words, "kept": kept, "sure": sure, "near": max(review, LIKELY)}


def books_matcher(client: Client, settings: SyncSettings, customers: Sequence[Party]) -> Matcher:
    """The matcher of the client's customers, with the client's words."""
    words, _ = vocabulary(settings.match_abbreviations, settings.match_legal_forms)
    return Matcher(customers, vocabulary=words, country=client.country)


def matcher_for(
    client: Client,
    settings: SyncSettings,
    matcher: Matcher,
    unlinked: Sequence[Party],
) -> tuple[Matcher, bool]:
    """The books' matcher (`books_matcher`) with the client's thresholds and weights, and
    whether its weights were learnt in this run (to be kept). A run with enough records on
    both sides learns; a smaller one uses the kept weights, its prior worked out for today's
    book; with none kept, the priors need the stricter threshold of decision 0025."""
    sure, matcher.near = thresholds(settings)
    row, kept = stored(client)
    books, incoming = len(matcher.features), len(unlinked)
    if kept is not None and not (books >= FEW and incoming >= FEW):
        matcher.model = kept.with_prior(min(0.5, row.partner_share / max(books, incoming, 1)))
        matcher.sure = sure
        return matcher, False
    matcher.fit(unlinked)
    learnt = matcher.sure == SURE  # the matcher trusts its fit (≥ FEW on each side)
    matcher.sure = sure if learnt else max(sure, SURE_UNTRAINED)
    return matcher, learnt


def keep(
    client: Client,
    settings: SyncSettings,
    run: SyncRun,
    matcher: Matcher,
    decisions: Sequence[Decision],
) -> LearntMatching:
    """Keep what this run learnt: the weights, the prior's basis, the records on each side,
    the words in use, and every record's best probability (the settings page reads what
    a threshold would do from them, without refitting)."""
    books, incoming = len(matcher.features), len(decisions)
    # The fitted prior is the partners' share over the larger side (matcher.fit).
    share = min(1.0, matcher.model.prior * max(books, incoming))
    _, added = vocabulary(settings.match_abbreviations, settings.match_legal_forms)
    row, _ = LearntMatching.objects.update_or_create(
        client=client,
        defaults={
            "model": matcher.model.to_dict(),
            "partner_share": share,
            "books_records": books,
            "crm_records": incoming,
            "vocabulary": added,
            "best_pairs": binned(d.probability for d in decisions),
            "run": run,
            "learnt_at": timezone.now(),
        },
    )
    return row
