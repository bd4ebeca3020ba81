"""The seed's response envelope: `{code, message, timestamp, data}` (+ reason, requestId).

`timestamp` is always an integer of Unix milliseconds (the seed shows both that and a
string of seconds; docs/api-conventions.md records the choice).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

from clearing_gateway.kit.clock import now_ms

SUCCESS = "SUCCESS"


def dumps(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def envelope(
    code: int,
    message: str,
    *,
    data: Any = None,
    reason: str | None = None,
    request_id: str | None = None,
    include_data: bool = True,
) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if reason is not None:
        body["reason"] = reason
    if request_id is not None:
        body["requestId"] = request_id
    body["timestamp"] = now_ms()
    if include_data and data is not None:
        body["data"] = data
    return body


class EnvelopeResponse(Response):
    media_type = "application/json"

    def __init__(
        self,
        data: Any = None,
        *,
        code: int = 200,
        message: str = SUCCESS,
        reason: str | None = None,
        request_id: str | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        body = envelope(code, message, data=data, reason=reason, request_id=request_id)
        if extra:
            body.update(extra)
        super().__init__(content=dumps(body), status_code=code, headers=headers)


def error_response(
    status: int, message: str, reason: str, *, request_id: str | None = None
) -> Response:
    body = envelope(status, message, reason=reason, request_id=request_id)
    return Response(dumps(body), status_code=status, media_type="application/json")
