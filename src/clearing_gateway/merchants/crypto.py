"""Encryption at rest for merchant API secrets, webhook secrets and sealed idempotent
responses (Fernet: AES-128-CBC + HMAC-SHA256) with a key ring.

GATEWAY_ENCRYPTION_KEY holds one key or several, comma-separated, newest first: the
first encrypts, every one decrypts (MultiFernet). Rotation (docs/operations.md): put a
new key in front, restart, run `clearing-gateway keys reencrypt`, then drop the old key.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from clearing_gateway.config import Settings


class SecretBoxError(RuntimeError):
    pass


class SecretBox:
    def __init__(self, keys: tuple[bytes, ...]) -> None:
        if not keys:
            raise SecretBoxError("no encryption key")
        self._primary = Fernet(keys[0])
        self._ring = MultiFernet([Fernet(key) for key in keys])

    def seal(self, plaintext: str) -> str:
        return self._primary.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def open(self, ciphertext: str) -> str:
        try:
            return self._ring.decrypt(ciphertext.encode("ascii")).decode("utf-8")
        except InvalidToken as exc:
            raise SecretBoxError("a stored secret cannot be decrypted with any key") from exc

    def is_current(self, ciphertext: str) -> bool:
        """Sealed with the primary key (nothing to re-encrypt)."""
        try:
            self._primary.decrypt(ciphertext.encode("ascii"))
        except InvalidToken:
            return False
        return True

    def reseal(self, ciphertext: str) -> str:
        """The same secret sealed with the primary key (MultiFernet.rotate)."""
        try:
            return self._ring.rotate(ciphertext.encode("ascii")).decode("ascii")
        except InvalidToken as exc:
            raise SecretBoxError("a stored secret cannot be decrypted with any key") from exc


def load_keys(settings: Settings) -> tuple[bytes, ...]:
    """The key ring, newest first; a malformed key is refused by its position."""
    if settings.gateway_encryption_key is not None:
        text = settings.gateway_encryption_key.get_secret_value()
    elif settings.is_production:
        raise SecretBoxError("GATEWAY_ENCRYPTION_KEY is required in production")
    else:
        text = _sandbox_key_file(settings.encryption_key_file).decode("ascii")
    keys = tuple(part.strip().encode("ascii") for part in text.split(",") if part.strip())
    if not keys:
        raise SecretBoxError("GATEWAY_ENCRYPTION_KEY is empty")
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError:
            raise SecretBoxError(
                f"GATEWAY_ENCRYPTION_KEY: key {position} of {len(keys)} is not a Fernet key "
                "(32 url-safe base64-encoded bytes; `clearing-gateway keys generate`)"
            ) from None
    return keys


def load_key(settings: Settings) -> bytes:
    """The primary key (the one new secrets are sealed with)."""
    return load_keys(settings)[0]


def _sandbox_key_file(path: Path) -> bytes:
    if path.exists():
        return path.read_bytes().strip()
    key = Fernet.generate_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key


@lru_cache(maxsize=8)
def _box_for(keys: tuple[bytes, ...]) -> SecretBox:
    return SecretBox(keys)


def secret_box(settings: Settings) -> SecretBox:
    return _box_for(load_keys(settings))
