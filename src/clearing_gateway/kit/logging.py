"""Structured JSON logs; every line of a request carries its request id."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator, MutableMapping
from typing import Any

import structlog

_SENSITIVE = ("secret", "signature", "password", "authorization", "token", "key")


def _redact(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for field in list(event):
        if any(word in field.lower() for word in _SENSITIVE):
            event[field] = "[redacted]"
    return event


class _CurrentStdout:
    """Writes to whatever sys.stdout (or sys.stderr, once a command asks for it) is now,
    so cached loggers follow redirection."""

    to_stderr = False

    def write(self, text: str) -> int:
        return (sys.stderr if self.to_stderr else sys.stdout).write(text)

    def flush(self) -> None:
        (sys.stderr if self.to_stderr else sys.stdout).flush()


_stream = _CurrentStdout()


@contextlib.contextmanager
def logs_to_stderr() -> Iterator[None]:
    """For commands whose stdout is their output (one JSON document scripts parse):
    every logger, cached ones included, writes to stderr meanwhile."""
    before, _CurrentStdout.to_stderr = _CurrentStdout.to_stderr, True
    try:
        yield
    finally:
        _CurrentStdout.to_stderr = before


def configure_logging(level: str = "INFO", *, json: bool = True) -> None:
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
        ),
        logger_factory=structlog.PrintLoggerFactory(_stream),  # type: ignore[arg-type]
        cache_logger_on_first_use=True,
    )


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(name)
    return logger
