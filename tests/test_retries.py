"""The retry policy every adapter shares (pure; sleeping is recorded, not done)."""

import pytest

from connections import retries


def run(outcomes, **kwargs):
    """Call an operation that raises or returns the given outcomes in turn."""
    calls, waits, refreshes = [], [], []

    def operation():
        outcome = outcomes[len(calls)]
        calls.append(outcome)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    result = retries.call(
        operation,
        on_unauthorised=lambda: refreshes.append(1),
        describe="Listing things",
        sleep=waits.append,
        **kwargs,
    )
    return result, calls, waits, refreshes


def test_it_honours_retry_after_on_429():
    result, calls, waits, _ = run([retries.RateLimited("slow down", 7.0), "ok"])
    assert result == "ok" and len(calls) == 2
    assert waits == [7.0]


def test_it_backs_off_with_jitter_without_retry_after():
    _, _, waits, _ = run([retries.Transient("502"), retries.Transient("503"), "ok"])
    assert len(waits) == 2
    assert all(0 < w <= retries.MAX_WAIT_SECONDS for w in waits)


def test_it_caps_a_huge_retry_after():
    _, _, waits, _ = run([retries.RateLimited("later", 3600.0), "ok"])
    assert waits == [retries.MAX_WAIT_SECONDS]


def test_it_refreshes_once_on_401_then_retries():
    result, calls, _, refreshes = run([retries.Unauthorised("401"), "ok"])
    assert (result, len(calls), len(refreshes)) == ("ok", 2, 1)


def test_it_gives_up_loudly_when_401_persists():
    with pytest.raises(retries.ProviderError, match="refused our access twice"):
        run([retries.Unauthorised("401"), retries.Unauthorised("401")])


def test_it_gives_up_after_the_last_attempt_with_a_clear_message():
    with pytest.raises(retries.ProviderError, match="Listing things: still rate-limited after 3"):
        run([retries.RateLimited("no", 0.0)] * 3, attempts=3)


def test_it_does_not_retry_a_refusal():
    with pytest.raises(retries.ProviderError, match="bad request"):
        run([retries.ProviderError("bad request"), "never"])


def test_it_reads_retry_after_headers():
    assert retries.parse_retry_after("12") == 12.0
    assert retries.parse_retry_after("soon") is None
    assert retries.parse_retry_after(None) is None
