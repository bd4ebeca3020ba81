"""Encryption at rest for merchant API secrets (Fernet: AES-128-CBC + HMAC-SHA256)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from clearing_gateway.config import Settings


class SecretBoxError(RuntimeError):
    pass


class SecretBox:
    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def open(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode("ascii")).decode("utf-8")
        except InvalidToken as exc:
            raise SecretBoxError("merchant secret cannot be decrypted with this key") from exc


def load_key(settings: Settings) -> bytes:
    if settings.gateway_encryption_key is not None:
        return settings.gateway_encryption_key.get_secret_value().encode("ascii")
    if settings.is_production:
        raise SecretBoxError("GATEWAY_ENCRYPTION_KEY is required in production")
    return _sandbox_key_file(settings.encryption_key_file)


def _sandbox_key_file(path: Path) -> bytes:
    if path.exists():
        return path.read_bytes().strip()
    key = Fernet.generate_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key


@lru_cache(maxsize=8)
def _box_for(key: bytes) -> SecretBox:
    return SecretBox(key)


def secret_box(settings: Settings) -> SecretBox:
    return _box_for(load_key(settings))
