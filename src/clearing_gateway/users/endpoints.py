from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from starlette.responses import Response

from clearing_gateway.api.deps import MerchantDep, SessionDep
from clearing_gateway.kit.envelope import EnvelopeResponse
from clearing_gateway.kit.schemas import documented
from clearing_gateway.users import service
from clearing_gateway.users.schemas import (
    USER_ID_PATTERN,
    CreateUserRequest,
    DeleteRequest,
    UpdateUserRequest,
    UserOut,
)

router = APIRouter(prefix="/v1/users", tags=["User Management"])
UserIdPath = Annotated[str, Path(pattern=USER_ID_PATTERN, description="Merchant user identifier")]


@router.post("", status_code=201, responses=documented(UserOut, 201), summary="Create User")
async def create_user(
    body: CreateUserRequest, session: SessionDep, merchant: MerchantDep
) -> Response:
    user = await service.create_user(session, merchant.id, body)
    return EnvelopeResponse(service.user_out(user), code=201, request_id=body.requestId)


@router.get("/{userId}", responses=documented(UserOut), summary="Get User")
async def get_user(userId: UserIdPath, session: SessionDep, merchant: MerchantDep) -> Response:
    user = await service.get_active_user(session, merchant.id, userId)
    return EnvelopeResponse(service.user_out(user))


# PUT as the seed documents it; PATCH accepted too, with the same partial-update meaning.
@router.put("/{userId}", responses=documented(UserOut), summary="Update User")
@router.patch("/{userId}", responses=documented(UserOut), summary="Update User (PATCH)")
async def update_user(
    userId: UserIdPath, body: UpdateUserRequest, session: SessionDep, merchant: MerchantDep
) -> Response:
    user = await service.update_user(session, merchant.id, userId, body)
    return EnvelopeResponse(
        service.user_out(user), reason="User updated successfully", request_id=body.requestId
    )


@router.delete("/{userId}", responses=documented(None), summary="Delete User")
async def delete_user(
    userId: UserIdPath, body: DeleteRequest, session: SessionDep, merchant: MerchantDep
) -> Response:
    await service.delete_user(session, merchant.id, userId)
    return EnvelopeResponse(reason="User deleted successfully", request_id=body.requestId)
