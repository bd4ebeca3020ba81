"""Graceful shutdown of an API process: drain, then stop.

uvicorn closes its listener as soon as it receives SIGTERM, so a load balancer that still
believes the process ready would send requests into a closed port. The gateway first
answers /readyz with 503 for SHUTDOWN_DRAIN_SECONDS while serving normally, then hands
the signal to uvicorn, which finishes the requests in flight (up to
SHUTDOWN_TIMEOUT_SECONDS) before the lifespan stops the in-process worker.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.kit.logging import get_logger

log = get_logger("gateway.shutdown")
_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def install_drain(runtime: Runtime, seconds: float) -> Callable[[], None]:
    """Wrap the current SIGTERM/SIGINT handlers (uvicorn's) with the drain; returns a
    function that puts them back. Only the main thread can own signals: elsewhere (an
    app served from a test thread) this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    loop = asyncio.get_running_loop()
    previous: dict[int, Any] = {sig: signal.getsignal(sig) for sig in _SIGNALS}

    def handler(signum: int, frame: FrameType | None) -> None:
        original = previous[signum]
        if runtime.draining or seconds <= 0:  # a second signal stops at once
            runtime.draining = True
            _hand_over(original, signum, frame)
            return
        runtime.draining = True
        log.info("shutdown requested: draining", signal=signum, drain_seconds=seconds)
        loop.call_soon_threadsafe(loop.call_later, seconds, _hand_over, original, signum, frame)

    for sig in _SIGNALS:
        signal.signal(sig, handler)

    def restore() -> None:
        for sig, original in previous.items():
            if signal.getsignal(sig) is handler:
                signal.signal(sig, original)

    return restore


def _hand_over(original: Any, signum: int, frame: FrameType | None) -> None:
    if callable(original):
        original(signum, frame)
        return
    # No server owned the signal: behave as if the gateway had not been there.
    signal.signal(signum, original)
    os.kill(os.getpid(), signum)
