"""Links emailed to people who have no account (a contractor): the path carries a token,
signed with Django's signer, naming one row by its id and its random nonce. Every such link
lives as long (`LINK_LIFETIME`); each kind signs with its own salt, so a token made for one
kind of link (an invitation) is refused by another (a question), and a row's id cannot be
swapped without breaking the signature.
"""

from datetime import timedelta

from django.core import signing
from django.db.models import Model, QuerySet

LINK_LIFETIME = timedelta(days=7)


class LinkRefused(Exception):
    """The link cannot be used; the message says why, in words for the person holding it."""

    status = 404
    heading = "This link cannot be used"


class LinkWithdrawn(LinkRefused):
    """A genuine link that the firm withdrew."""

    status = 410
    heading = "This link was withdrawn"


NOT_VALID = "This link is not valid. Check it was copied whole."


def link_token(row: Model, salt: str) -> str:
    """The token of a row that has a `nonce`."""
    return signing.dumps({"i": row.pk, "n": row.nonce}, salt=salt, compress=True)


def linked_row[M: Model](
    token: str,
    rows: QuerySet[M],
    salt: str,
    *,
    expired: str,
    refused: type[LinkRefused] = LinkRefused,
) -> M | None:
    """The row a genuine, unexpired token names, or None when no such row is left (deleted,
    or its nonce changed); `refused` with the reason for an expired or forged token."""
    try:
        data = signing.loads(token, salt=salt, max_age=LINK_LIFETIME)
    except signing.SignatureExpired as error:
        raise refused(expired) from error
    except signing.BadSignature as error:
        raise refused(NOT_VALID) from error
    if not isinstance(data, dict) or not isinstance(data.get("i"), int):
        raise refused(NOT_VALID)
    return rows.filter(pk=data["i"], nonce=str(data.get("n"))).first()
