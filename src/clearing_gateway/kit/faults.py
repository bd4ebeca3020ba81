"""Named pause points for the crash tests: a real process stops at a chosen point so a
test can `kill -9` it exactly there.

Inert unless `GATEWAY_FAULT_PAUSE` names the point (comma-separated names) and
`GATEWAY_FAULT_DIR` is a directory, and never in production. On reaching a point the
process creates `<dir>/<point>.reached` and waits until `<dir>/<point>.go` exists: the
test kills it while it waits, or lets it go on (to pause the provider next, say).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

PAUSE_VARIABLE = "GATEWAY_FAULT_PAUSE"
DIRECTORY_VARIABLE = "GATEWAY_FAULT_DIR"


async def pause_point(name: str) -> None:
    points = os.environ.get(PAUSE_VARIABLE, "")
    if not points or name not in points.split(","):
        return  # the production path: one environment look-up, nothing else
    go = await asyncio.to_thread(_announce, name)
    if go is None:
        return
    # Another process (the test) releases us by creating a file: nothing to await.
    while not await asyncio.to_thread(go.exists):  # noqa: ASYNC110
        await asyncio.sleep(0.05)


def _announce(name: str) -> Path | None:
    if os.environ.get("GATEWAY_ENV", "").lower() == "production":
        return None
    directory = Path(os.environ.get(DIRECTORY_VARIABLE, ""))
    if not directory.is_dir():
        return None
    (directory / f"{name}.reached").touch()
    return directory / f"{name}.go"
