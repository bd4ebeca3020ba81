"""Which coroutine runs each kind of job, how it is retried, and what runs on a timer."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from clearing_gateway.api.runtime import Runtime
    from clearing_gateway.jobs.models import Job

HandlerFn = Callable[["Runtime", "Job"], Awaitable[Any]]


class Retry(Exception):
    """Raised by a handler to be run again after `after` (its own schedule, e.g.
    Retry-After), instead of the registry's default backoff."""

    def __init__(self, after: dt.timedelta, reason: str) -> None:
        super().__init__(reason)
        self.after = after
        self.reason = reason


class GiveUp(Exception):
    """Raised by a handler when running again cannot help: the job is marked failed."""


def exponential_backoff(
    attempt: int, *, base: float = 5.0, cap: float = 3600.0, jitter: float = 0.2
) -> dt.timedelta:
    """base·2^(attempt-1) seconds, capped, ±jitter so failed jobs do not retry in step."""
    seconds = min(cap, base * 2 ** max(0, attempt - 1))
    seconds *= 1 + random.uniform(-jitter, jitter)
    return dt.timedelta(seconds=seconds)


@dataclass(frozen=True)
class HandlerSpec:
    kind: str
    fn: HandlerFn
    max_attempts: int = 10
    every: dt.timedelta | None = None  # set: also enqueued once per period by the worker

    def backoff(self, attempt: int) -> dt.timedelta:
        return exponential_backoff(attempt)


class JobRegistry:
    def __init__(self) -> None:
        self._handlers: dict[str, HandlerSpec] = {}

    def handler(
        self, kind: str, *, max_attempts: int = 10, every: dt.timedelta | None = None
    ) -> Callable[[HandlerFn], HandlerFn]:
        def register(fn: HandlerFn) -> HandlerFn:
            self._handlers[kind] = HandlerSpec(kind, fn, max_attempts=max_attempts, every=every)
            return fn

        return register

    def get(self, kind: str) -> HandlerSpec | None:
        return self._handlers.get(kind)

    def periodic(self) -> list[HandlerSpec]:
        return [spec for spec in self._handlers.values() if spec.every is not None]

    def kinds(self) -> list[str]:
        return sorted(self._handlers)


# The process-wide registry the `@jobs.handler` decorator fills.
registry = JobRegistry()
handler = registry.handler
