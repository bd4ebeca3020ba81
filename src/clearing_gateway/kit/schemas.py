"""Envelope models, used to document responses in the OpenAPI schema."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, model_validator

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


class BlankIsAbsent(BaseModel):
    """A request model in which `""` for an optional field means the field was not sent.

    The API document is silent on empty strings, and many clients send `""` for a field
    they have no value for: reading it as "absent" is harmless (an update leaves the field
    as it is), refusing it is not. Required fields are untouched: a blank one stays a 422.
    """

    @model_validator(mode="before")
    @classmethod
    def _blank_optional_fields_are_absent(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        fields = cls.model_fields
        return {
            key: value
            for key, value in data.items()
            if not (
                isinstance(value, str)
                and not value.strip()
                and key in fields
                and not fields[key].is_required()
            )
        }
