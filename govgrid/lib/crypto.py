"""Field encryption and blind indexes for personal information (PIPL).

Values are encrypted with Fernet (AES-128-CBC + HMAC-SHA256) under the keys in
`GOVGRID_PII_KEYS`: the first key encrypts, every key decrypts, so keys rotate by putting a
new one in front and re-encrypting (`manage.py pii_rotate`). Exact-match search uses a keyed
hash (HMAC-SHA256 under `GOVGRID_PII_INDEX_KEY`), so the database never holds a value that
can be looked up without the key.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed


@lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    keys = [k for k in settings.GOVGRID_PII_KEYS if k]
    if not keys:
        raise ImproperlyConfigured("GOVGRID_PII_KEYS is empty: personal data cannot be stored.")
    return MultiFernet([Fernet(k) for k in keys])


@lru_cache(maxsize=1)
def _index_key() -> bytes:
    key = settings.GOVGRID_PII_INDEX_KEY
    if not key:
        raise ImproperlyConfigured("GOVGRID_PII_INDEX_KEY is empty: no blind index possible.")
    return key.encode()


def keys_reset(**kwargs) -> None:
    """Forget the cached keys (settings changed in a test, or a rotation in this process)."""
    _fernet.cache_clear()
    _index_key.cache_clear()


setting_changed.connect(keys_reset)


def encrypt(value: str) -> str:
    """Ciphertext (url-safe text) of `value`; the empty string stays empty."""
    if not value:
        return ""
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        # No key of GOVGRID_PII_KEYS opens it: a key was dropped before `pii_rotate` ran.
        raise ImproperlyConfigured("A personal-data value cannot be decrypted.") from exc


def reencrypt(token: str) -> str:
    """The same value under the current first key (MultiFernet.rotate)."""
    if not token:
        return ""
    return _fernet().rotate(token.encode()).decode()


def encrypt_bytes(data: bytes) -> bytes:
    """A whole file (an uploaded ledger) under the current key."""
    return _fernet().encrypt(data)


def decrypt_bytes(token: bytes) -> bytes:
    return _fernet().decrypt(token)


def blind_index(value: str) -> str:
    """Keyed hash for exact search: 64 hex digits, or "" for an empty value."""
    if not value:
        return ""
    return hmac.new(_index_key(), value.encode(), hashlib.sha256).hexdigest()
