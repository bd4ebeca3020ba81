"""Wire models of the users API (seed 000, User Management)."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

from clearing_gateway.kit.countries import ISO_3166_ALPHA2
from clearing_gateway.kit.request_id import RequestId
from clearing_gateway.kit.schemas import BlankIsAbsent

USER_ID_PATTERN = r"^[A-Za-z0-9._:@-]{1,64}$"
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}")

UserId = Annotated[str, StringConstraints(pattern=USER_ID_PATTERN)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
# Written as people write them ("+62 812-3456-7890", "(021) 555 0100"): the separators
# are dropped before the check, and the number is stored as digits (with its "+").
_PHONE_SEPARATORS = str.maketrans("", "", " -()")


def _phone_digits(value: object) -> object:
    return value.translate(_PHONE_SEPARATORS) if isinstance(value, str) else value


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


Phone = Annotated[
    str,
    BeforeValidator(_phone_digits),
    StringConstraints(pattern=r"^\+?[0-9]{6,20}$"),
]
BankCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{2,8}$")]
AccountNo = Annotated[str, StringConstraints(pattern=r"^[0-9]{4,34}$")]


def _email(value: str) -> str:
    if not _EMAIL.fullmatch(value) or len(value) > 254:
        raise ValueError("not a valid email address")
    return value


def _country(value: str) -> str:
    if value not in ISO_3166_ALPHA2:
        raise ValueError("must be an ISO 3166-1 alpha-2 code such as ID")
    return value


Email = Annotated[str, AfterValidator(_email)]
# "id" is read as "ID": ISO 3166 codes are case-insensitive in practice.
Country = Annotated[str, BeforeValidator(_upper), AfterValidator(_country)]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)]


class UserType(StrEnum):
    INSTITUTIONAL = "institutional"
    RETAIL = "retail"
    OTHER = "other"


class WhitelistedWithdrawalAccount(BlankIsAbsent):
    model_config = ConfigDict(extra="ignore")

    bankCode: BankCode
    accountNo: AccountNo
    accountName: Name | None = None


class _UserFields(BlankIsAbsent):
    model_config = ConfigDict(extra="ignore")

    phone: Phone | None = None
    email: Email | None = None
    nationality: Country | None = None
    idType: Annotated[str, StringConstraints(max_length=32, strip_whitespace=True)] | None = None
    idNumber: ShortText | None = None
    whitelistedKycNames: list[Name] | None = Field(default=None, max_length=20)
    whitelistedWithdrawalAccounts: list[WhitelistedWithdrawalAccount] | None = Field(
        default=None, max_length=20
    )


class CreateUserRequest(_UserFields):
    requestId: RequestId
    userId: UserId
    kycName: Name
    type: UserType


class UpdateUserRequest(_UserFields):
    requestId: RequestId
    kycName: Name | None = None
    type: UserType | None = None


class DeleteRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    requestId: RequestId


class UserOut(BaseModel):
    id: str
    userId: str
    kycName: str
    phone: str | None
    email: str | None
    type: str
    nationality: str | None
    idType: str | None
    idNumber: str | None
    whitelistedKycNames: list[str]
    whitelistedWithdrawalAccounts: list[dict[str, Any]]
    status: str
    createdAt: str
    updatedAt: str
