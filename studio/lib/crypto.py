"""Secrets at rest (provider keys): Fernet tokens under keys from the environment.

``STUDIO_ENCRYPTION_KEYS`` lists keys newest first; MultiFernet decrypts with any of
them and encrypts with the first, so a key is rotated by prepending a new one and
running ``manage.py rotate_keys``.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings


def _fernet_key(secret: str) -> bytes:
    # Accept proper Fernet keys as they are; derive one from any other secret string.
    try:
        Fernet(secret.encode())
        return secret.encode()
    except ValueError:
        return base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest())


@cache
def _box() -> MultiFernet:
    return MultiFernet([Fernet(_fernet_key(k)) for k in settings.STUDIO_ENCRYPTION_KEYS])


def encrypt(plaintext: str) -> str:
    return _box().encrypt(plaintext.encode()).decode() if plaintext else ""


def decrypt(token: str) -> str:
    return _box().decrypt(token.encode()).decode() if token else ""


def rotate(token: str) -> str:
    return _box().rotate(token.encode()).decode() if token else ""
