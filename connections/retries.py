"""One retry policy for every provider call: respect 429 and Retry-After, back off with
jitter on 5xx and dropped connections, refresh once on 401, then give up loudly.

tenacity does the waiting and counting; adapters only translate their client library's
errors into `RateLimited` / `Transient` / `Unauthorised`.
"""

from collections.abc import Callable

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from syncfirm import metrics

MAX_ATTEMPTS = 6
MAX_WAIT_SECONDS = 30.0
_backoff = wait_exponential_jitter(multiplier=0.5, max=MAX_WAIT_SECONDS, jitter=0.5)


class ProviderError(Exception):
    """A provider call failed for good; the message is safe to show an accountant. `code`
    and `detail` keep the provider's own error code and explanation, when it gave them, so
    a page can say in words what was refused."""

    def __init__(self, message: str, *, code: str = "", detail: str = "", refusal: str = ""):
        super().__init__(message)
        self.code, self.detail = code, detail
        self.refusal = refusal  # a `contract.Refusal`, when the provider said which


class Stale(ProviderError):
    """The record changed since it was read (QuickBooks' SyncToken): read it again, decide
    again; never repeat the write blindly."""


class NotFound(ProviderError):
    """The record asked for is not in the provider (deleted, archived, another company's)."""


class RateLimited(Exception):
    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class Transient(Exception):
    """A 5xx or a dropped connection: worth trying again. For a write sent once this means
    "outcome unknown": the caller looks for what landed before anything is sent again."""


class Unauthorised(Exception):
    """401: the access token was refused; refresh once and try again."""


def parse_retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def _wait(state: RetryCallState) -> float:
    error = state.outcome.exception() if state.outcome else None
    wait = (
        min(error.retry_after, MAX_WAIT_SECONDS)
        if isinstance(error, RateLimited) and error.retry_after is not None
        else _backoff(state)
    )
    if isinstance(error, RateLimited):
        metrics.rate_limit_wait(wait)
    return wait


def call[T](
    operation: Callable[[], T],
    *,
    on_unauthorised: Callable[[], None],
    describe: str,
    attempts: int = MAX_ATTEMPTS,
    sleep: Callable[[float], None] | None = None,
    retry_transient: bool = True,
) -> T:
    """Run `operation` under the policy above; `describe` names it in the final error.

    `retry_transient=False` is for writes that are not safe to repeat blindly: a timeout,
    a 5xx or a cut connection may come after the provider committed, so the caller settles
    the outcome itself (a 429 is still waited out: a throttled request was not processed).
    """
    refreshed = False

    def attempt() -> T:
        nonlocal refreshed
        try:
            return operation()
        except Unauthorised:
            if refreshed:
                raise ProviderError(f"{describe}: the provider refused our access twice.") from None
            refreshed = True
            on_unauthorised()
            try:
                return operation()
            except Unauthorised:
                raise ProviderError(f"{describe}: the provider refused our access twice.") from None

    options = {"sleep": sleep} if sleep else {}
    retrying = Retrying(
        retry=retry_if_exception_type((RateLimited, Transient) if retry_transient else RateLimited),
        wait=_wait,
        stop=stop_after_attempt(attempts),
        reraise=True,
        **options,
    )
    try:
        return retrying(attempt)
    except RateLimited as error:
        raise ProviderError(f"{describe}: still rate-limited after {attempts} tries.") from error
    except Transient as error:
        raise ProviderError(f"{describe}: the provider kept failing ({error}).") from error
