"""Webhook signatures the providers share (pure functions)."""

import base64
import hashlib
import hmac


def base64_hmac_valid(body: bytes, signature: str, key: str) -> bool:
    """Whether `signature` is base64(HMAC-SHA256(key, raw body)): how Intuit
    (`intuit-signature`) and Xero (`x-xero-signature`) sign. False without either."""
    if not signature or not key:
        return False
    expected = hmac.new(key.encode(), body, hashlib.sha256).digest()
    try:
        given = base64.b64decode(signature, validate=True)
    except ValueError:
        return False
    return hmac.compare_digest(expected, given)
