"""Encryption at rest for OAuth tokens: Fernet keys from FIELD_ENCRYPTION_KEYS.

MultiFernet encrypts with the first key and decrypts with any, so keys rotate by putting a
new key first, running `manage.py rotate_encryption_keys`, then dropping the old key.
"""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@cache
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty: tokens cannot be stored.")
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as error:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS must be Fernet keys (Fernet.generate_key())."
        ) from error


def fernet() -> MultiFernet:
    return _fernet_for(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plain: str) -> str:
    return fernet().encrypt(plain.encode()).decode()


def decrypt(cipher: str) -> str:
    try:
        return fernet().decrypt(cipher.encode()).decode()
    except InvalidToken as error:
        # Never include the value: the message may reach a log.
        raise ImproperlyConfigured(
            "A stored token cannot be decrypted with FIELD_ENCRYPTION_KEYS (key removed?)."
        ) from error


SERIALIZED_PREFIX = "fernet:"


class EncryptedTextField(models.TextField):
    """A text column holding Fernet ciphertext; Python code sees the plain value.

    Empty values stay empty (no ciphertext), so "no token" is visible in the database.
    """

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return encrypt(value)

    # Serialization (`dumpdata`, fixtures) carries the ciphertext, marked, never the plain
    # token; `loaddata` with the same keys turns it back into the token it stood for.
    def value_to_string(self, obj) -> str:
        value = self.value_from_object(obj)
        if value in (None, ""):
            return value or ""
        return SERIALIZED_PREFIX + encrypt(value)

    def to_python(self, value):
        if isinstance(value, str) and value.startswith(SERIALIZED_PREFIX):
            return decrypt(value.removeprefix(SERIALIZED_PREFIX))
        return super().to_python(value)
