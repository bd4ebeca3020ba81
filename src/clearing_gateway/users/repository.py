from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clearing_gateway.users.models import User


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def find(self, merchant_id: uuid.UUID, user_id: str) -> User | None:
        """The user, deleted or not."""
        return await self.session.scalar(
            select(User).where(User.merchant_id == merchant_id, User.user_id == user_id)
        )

    async def add(self, user: User) -> User:
        self.session.add(user)
        await self.session.flush()
        return user
