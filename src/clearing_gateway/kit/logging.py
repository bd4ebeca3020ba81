"""Structured JSON logs; every line of a request carries its request id.

Libraries log through the standard library (uvicorn, SQLAlchemy, httpx, asyncio); a root
handler renders their records with the same processors as structlog's own lines, so the
output is one JSON format whoever wrote the line, with the request id bound at the time.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

_SENSITIVE = ("secret", "signature", "password", "authorization", "token", "key", "pass_code")
# Libraries that are chatty at INFO (one line per query or request): warnings only.
_QUIET = (
    "sqlalchemy",
    "alembic",
    "httpx",
    "httpcore",
    "uvicorn.access",
    "asyncio",
    "aiosqlite",
)
_HANDLER_NAME = "clearing-gateway"


def _redact(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for field in list(event):
        if any(word in field.lower() for word in _SENSITIVE):
            event[field] = "[redacted]"
    return event


class _CurrentStdout:
    """Writes to whatever sys.stdout is now, so cached loggers follow redirection."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


class _StdoutHandler(logging.StreamHandler):
    """A stream handler bound to the current sys.stdout at each record (tests and CLI
    runners swap it)."""

    @property
    def stream(self) -> Any:
        return sys.stdout

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def configure_logging(level: str = "INFO", *, json: bool = True) -> None:
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    )
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _redact,
    ]
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(_CurrentStdout()),  # type: ignore[arg-type]
        cache_logger_on_first_use=True,
    )
    _bridge_standard_logging(numeric, shared, renderer)


def _bridge_standard_logging(
    level: int, shared: list[structlog.typing.Processor], renderer: structlog.typing.Processor
) -> None:
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.stdlib.add_logger_name,
            structlog.stdlib.ExtraAdder(),
            *shared,
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == _HANDLER_NAME:
            root.removeHandler(handler)
    handler = _StdoutHandler()
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter)
    root.addHandler(handler)
    root.setLevel(level)
    # uvicorn's loggers (when `serve` passes log_config=None) and any library that added
    # its own handler hand their records to the root handler instead.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        named = logging.getLogger(name)
        named.handlers.clear()
        named.propagate = True
        # The level too: a uvicorn.Config made earlier in this process (a test's live
        # server with log_level="error") set its own; LOG_LEVEL decides from here.
        named.setLevel(logging.NOTSET)
    for name in _QUIET:  # after the reset above: uvicorn.access stays quiet
        logging.getLogger(name).setLevel(max(level, logging.WARNING))


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(name)
    return logger
