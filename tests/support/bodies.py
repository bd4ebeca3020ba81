"""Request bodies many API tests start from, in the seed's sample values."""

from __future__ import annotations

import uuid
from typing import Any


def user_body(**overrides: Any) -> dict[str, Any]:
    """A Create User body with a fresh requestId and userId; `overrides` replace fields."""
    body: dict[str, Any] = {
        "requestId": str(uuid.uuid4()),
        "userId": uuid.uuid4().hex[:8],
        "kycName": "Jhon Doe",
        "type": "retail",
    }
    body.update(overrides)
    return body
