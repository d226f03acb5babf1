"""What the outboxes of exactly-once writes share (invoices, payments): whether a failed
write may have landed, and the idempotency key a retried write sends again."""

import hashlib

from connections import retries


def unknown_outcome(error: Exception) -> bool:
    """A write that failed on the way (a timeout, a 5xx, throttling) may have landed; a
    refusal (a validation error) did not."""
    unknown = (retries.Transient, retries.RateLimited)
    return isinstance(error, unknown) or isinstance(error.__cause__, unknown)


def request_id(prefix: str, keys: list[str]) -> str:
    """The same records, the same key: a retry replays the provider's first answer."""
    digest = hashlib.sha256("|".join(sorted(keys)).encode()).hexdigest()[:20]
    return f"sf-{prefix}-{digest}"[:50]
