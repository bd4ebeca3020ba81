"""Rules of the users API. Services never commit: the request is the unit of work."""

from __future__ import annotations

import uuid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.kit.clock import isoformat, utcnow
from clearing_gateway.kit.errors import ErrorCode, GatewayError, not_found
from clearing_gateway.users.models import User
from clearing_gateway.users.repository import UserRepository
from clearing_gateway.users.schemas import CreateUserRequest, UpdateUserRequest, UserOut


def user_out(user: User) -> dict[str, object]:
    return UserOut(
        id=str(user.id),
        userId=user.user_id,
        kycName=user.kyc_name,
        phone=user.phone,
        email=user.email,
        type=user.type,
        nationality=user.nationality,
        idType=user.id_type,
        idNumber=user.id_number,
        whitelistedKycNames=list(user.whitelisted_kyc_names),
        whitelistedWithdrawalAccounts=list(user.whitelisted_withdrawal_accounts),
        status="deleted" if user.is_deleted else "active",
        createdAt=isoformat(user.created_at) or "",
        updatedAt=isoformat(user.updated_at) or "",
    ).model_dump()


async def get_active_user(session: AsyncSession, merchant_id: uuid.UUID, user_id: str) -> User:
    """The merchant's live user, or 404: deleted users and other merchants' are invisible."""
    user = await UserRepository(session).find(merchant_id, user_id)
    if user is None or user.is_deleted:
        raise not_found(f"userId {user_id!r}")
    return user


async def create_user(
    session: AsyncSession, merchant_id: uuid.UUID, request: CreateUserRequest
) -> User:
    repository = UserRepository(session)
    if await repository.find(merchant_id, request.userId) is not None:
        raise GatewayError(409, ErrorCode.DUPLICATE, f"userId: {request.userId!r} already exists")
    user = User(
        merchant_id=merchant_id,
        user_id=request.userId,
        kyc_name=request.kycName,
        type=request.type.value,
        phone=request.phone,
        email=request.email,
        nationality=request.nationality,
        id_type=request.idType,
        id_number=request.idNumber,
        whitelisted_kyc_names=list(request.whitelistedKycNames or []),
        whitelisted_withdrawal_accounts=[
            a.model_dump() for a in request.whitelistedWithdrawalAccounts or []
        ],
    )
    try:
        async with session.begin_nested():
            return await repository.add(user)
    except IntegrityError:
        # Lost a race with a concurrent create of the same userId.
        raise GatewayError(
            409, ErrorCode.DUPLICATE, f"userId: {request.userId!r} already exists"
        ) from None


async def update_user(
    session: AsyncSession, merchant_id: uuid.UUID, user_id: str, request: UpdateUserRequest
) -> User:
    user = await get_active_user(session, merchant_id, user_id)
    given = request.model_fields_set
    simple = {
        "kycName": "kyc_name",
        "phone": "phone",
        "email": "email",
        "nationality": "nationality",
        "idType": "id_type",
        "idNumber": "id_number",
    }
    for wire, column in simple.items():
        if wire in given:
            value = getattr(request, wire)
            if wire == "kycName" and value is None:
                raise GatewayError(422, ErrorCode.VALIDATION_ERROR, "kycName: must not be null")
            setattr(user, column, value)
    if "type" in given:
        if request.type is None:
            raise GatewayError(422, ErrorCode.VALIDATION_ERROR, "type: must not be null")
        user.type = request.type.value
    if "whitelistedKycNames" in given:
        user.whitelisted_kyc_names = list(request.whitelistedKycNames or [])
    if "whitelistedWithdrawalAccounts" in given:
        user.whitelisted_withdrawal_accounts = [
            a.model_dump() for a in request.whitelistedWithdrawalAccounts or []
        ]
    user.updated_at = utcnow()
    await session.flush()
    return user


async def delete_user(session: AsyncSession, merchant_id: uuid.UUID, user_id: str) -> None:
    user = await get_active_user(session, merchant_id, user_id)
    user.deleted_at = user.updated_at = utcnow()
    await session.flush()
