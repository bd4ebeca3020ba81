"""Envelope models, used to document responses in the OpenAPI schema."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel

T = TypeVar("T")


class Envelope(BaseModel, Generic[T]):
    code: int
    message: str
    reason: str | None = None
    requestId: str | None = None
    timestamp: int
    data: T | None = None


class ErrorEnvelope(BaseModel):
    code: int
    message: str
    reason: str
    requestId: str | None = None
    timestamp: int


def documented(model: Any, status: int = 200) -> dict[int | str, dict[str, Any]]:
    """`responses=` for an endpoint answering `Envelope[model]` (plus the error shape)."""
    return {
        status: {"model": Envelope[model]},
        "4XX": {"model": ErrorEnvelope, "description": "Error in the same envelope"},
    }
