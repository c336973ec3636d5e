"""Links that carry a row's identity: the row id signed with SECRET_KEY.

Invitations and guest review links use these instead of a random secret stored in the
table: a copy of the database alone cannot produce a working link, the owner can copy
a pending link again at any time, and whether it still works is decided by the row
(revoked, expired, used), so the token itself never needs to expire. Rotating
SECRET_KEY voids every outstanding link, which is the safe way to fail.
"""

from __future__ import annotations

import uuid

from django.core import signing

# Not in the URL-safe base64 alphabet of the signature, and unremarkable in a URL.
SEPARATOR = "."


def _signer(salt: str) -> signing.Signer:
    return signing.Signer(salt=salt, sep=SEPARATOR)


def sign_id(pk: uuid.UUID, salt: str) -> str:
    return _signer(salt).sign(pk.hex)


def unsign_id(token: str, salt: str) -> uuid.UUID | None:
    """The id inside a token, or None when the token was not made by us for this salt."""
    try:
        return uuid.UUID(hex=_signer(salt).unsign(token))
    except (signing.BadSignature, ValueError):
        return None
