"""The gateway and its sandboxes over real HTTP (fixtures shared with tests/deposits)."""

from tests.deposits.conftest import live_merchant  # noqa: F401  (fixtures)
from tests.providers.conftest import (  # noqa: F401  (fixtures)
    gateway,
    live_socket,
    settings_overrides,
)
