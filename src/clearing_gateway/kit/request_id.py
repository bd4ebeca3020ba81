"""One rule for a merchant's `requestId`, shared by the idempotency middleware and every
request schema: 1 to 128 characters, no leading or trailing whitespace.

A value the middleware would not claim is refused by the schema (422), and the schema
never strips, so no requestId can run without its idempotency claim and `"abc"` and
`"abc "` can never be two claims for one request id.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import StringConstraints

MAX_LENGTH = 128
PATTERN = r"^\S(?:.*\S)?$"
_VALID = re.compile(r"\S(?:.*\S)?", re.DOTALL)

RequestId = Annotated[str, StringConstraints(min_length=1, max_length=MAX_LENGTH, pattern=PATTERN)]


def claimable(value: Any) -> str | None:
    """The value itself when it is a valid requestId, else None (the schema refuses it)."""
    if isinstance(value, str) and len(value) <= MAX_LENGTH and _VALID.fullmatch(value):
        return value
    return None
