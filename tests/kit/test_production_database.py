"""Production refuses SQLite unless told explicitly."""

from __future__ import annotations

import pytest

from clearing_gateway.db import DatabaseRefused, create_engine
from tests.conftest import PRODUCTION_SETTINGS, make_settings


def production(url: str, **overrides: object) -> dict[str, object]:
    values = {**PRODUCTION_SETTINGS, "allow_sqlite_in_production": False, **overrides}
    return {"database_url": url, **values}


async def test_production_refuses_sqlite() -> None:
    settings = make_settings(**production("sqlite:///./prod.sqlite3"))  # type: ignore[arg-type]
    with pytest.raises(DatabaseRefused, match="ALLOW_SQLITE_IN_PRODUCTION"):
        create_engine(settings)


@pytest.mark.parametrize(
    ("url", "overrides"),
    [
        ("sqlite:///./prod.sqlite3", {"allow_sqlite_in_production": True}),
        ("postgresql://gateway@db.invalid/gateway", {}),
        ("sqlite:///./sandbox.sqlite3", {"gateway_env": "sandbox"}),
    ],
)
async def test_allowed_databases(url: str, overrides: dict[str, object]) -> None:
    settings = make_settings(**production(url, **overrides))  # type: ignore[arg-type]
    engine = create_engine(settings)
    await engine.dispose()
