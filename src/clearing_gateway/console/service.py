"""Console accounts, login, sessions and the audit trail (never commits).

Sessions are random 256-bit tokens in an HttpOnly cookie; the database keeps only their
sha256. Each session carries its own CSRF token, which every form posts back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import time
import uuid
from collections import deque
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.config import Settings
from clearing_gateway.console.models import (
    ConsoleAccount,
    ConsoleAuditEntry,
    ConsoleSession,
    Role,
)
from clearing_gateway.console.passwords import hash_password, verify_password
from clearing_gateway.console.repository import ConsoleRepository
from clearing_gateway.kit.clock import utcnow
from clearing_gateway.kit.logging import get_logger
from clearing_gateway.merchants.repository import MerchantRepository

log = get_logger("gateway.console")


class AccountError(ValueError):
    pass


@dataclass(frozen=True)
class Principal:
    """Who is logged in, as every page and action sees it."""

    account_id: uuid.UUID
    email: str
    role: str
    merchant_id: uuid.UUID | None
    csrf_token: str
    session_hash: str

    @property
    def is_operator(self) -> bool:
        return self.role == Role.OPERATOR and self.merchant_id is None

    @property
    def is_merchant_admin(self) -> bool:
        return self.role == Role.MERCHANT_ADMIN and self.merchant_id is not None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def normalise_email(email: str) -> str:
    value = email.strip().lower()
    local, _, domain = value.partition("@")
    if not local or "." not in domain or len(value) > 254 or any(c.isspace() for c in value):
        raise AccountError(f"not an email address: {email!r}")
    return value


async def create_account(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    role: str,
    merchant_id: uuid.UUID | None = None,
) -> ConsoleAccount:
    if role not in Role.ALL:
        raise AccountError(f"unknown role {role!r}")
    if (role == Role.OPERATOR) != (merchant_id is None):
        raise AccountError("operators have no merchant; merchants' users need one")
    address = normalise_email(email)
    repository = ConsoleRepository(session)
    if merchant_id is not None and await MerchantRepository(session).get(merchant_id) is None:
        raise AccountError(f"unknown merchant {merchant_id}")
    if await repository.account_by_email(address) is not None:
        raise AccountError(f"an account for {address} already exists")
    try:
        hashed = hash_password(password)
    except ValueError as exc:
        raise AccountError(str(exc)) from None
    account = ConsoleAccount(
        email=address, password_hash=hashed, role=role, merchant_id=merchant_id
    )
    await repository.add(account)
    return account


async def log_in(
    session: AsyncSession, settings: Settings, email: str, password: str
) -> tuple[str, ConsoleAccount] | None:
    """A new session token for good credentials, else None (same cost either way)."""
    try:
        address = normalise_email(email)
    except AccountError:
        address = ""
    repository = ConsoleRepository(session)
    account = await repository.account_by_email(address) if address else None
    usable = account is not None and account.disabled_at is None
    if not verify_password(account.password_hash if usable and account else None, password):
        return None
    assert account is not None
    now = utcnow()
    token = secrets.token_urlsafe(32)
    await repository.purge_expired_sessions(now)
    await repository.add(
        ConsoleSession(
            token_sha256=token_hash(token),
            account_id=account.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + dt.timedelta(hours=settings.console_session_hours),
        )
    )
    account.last_login_at = now
    return token, account


async def principal_for(session: AsyncSession, token: str | None) -> Principal | None:
    if not token or len(token) > 200:
        return None
    found = await ConsoleRepository(session).session_with_account(token_hash(token), utcnow())
    if found is None:
        return None
    row, account = found
    return Principal(
        account_id=account.id,
        email=account.email,
        role=account.role,
        merchant_id=account.merchant_id,
        csrf_token=row.csrf_token,
        session_hash=row.token_sha256,
    )


async def log_out(session: AsyncSession, principal: Principal) -> None:
    await ConsoleRepository(session).end_session(principal.session_hash)


async def audit(
    session: AsyncSession,
    principal: Principal | None,
    action: str,
    *,
    target: str | None = None,
    detail: str | None = None,
    merchant_id: uuid.UUID | None = None,
    source_ip: str | None = None,
    actor_email: str | None = None,
    quiet: bool = False,
) -> None:
    """One audit row in the action's own transaction: no action without its record.
    `quiet`: no log line (the command line's stdout carries only its JSON result)."""
    entry = ConsoleAuditEntry(
        actor_id=principal.account_id if principal else None,
        actor_email=principal.email if principal else (actor_email or "-"),
        merchant_id=merchant_id or (principal.merchant_id if principal else None),
        action=action,
        target=target[:200] if target else None,
        detail=detail[:2000] if detail else None,
        source_ip=source_ip,
        created_at=utcnow(),
    )
    await ConsoleRepository(session).add(entry)
    if quiet:
        return
    log.info(
        "console.action",
        action=action,
        actor=entry.actor_email,
        target=entry.target,
        merchant_id=str(entry.merchant_id) if entry.merchant_id else None,
    )


class LoginThrottle:
    """Failed logins per key (address, email) in a sliding window, in this process.

    In memory on purpose: it must keep working when the database is what is being
    hammered; several API processes each allow the budget, which stays small."""

    def __init__(self, failures: int, window_seconds: float) -> None:
        self.failures = failures
        self.window = window_seconds
        self._seen: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._seen.setdefault(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._seen[key]
            return deque()
        return times

    def blocked(self, *keys: str) -> bool:
        now = time.monotonic()
        return any(len(self._recent(k, now)) >= self.failures for k in keys)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        if len(self._seen) > 100_000:  # bounded memory under a spray of addresses
            self._seen.clear()
        for key in keys:
            self._seen.setdefault(key, deque()).append(now)

    def succeeded(self, email_key: str) -> None:
        self._seen.pop(email_key, None)
