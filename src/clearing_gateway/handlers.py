"""Every domain's provider-callback handlers; importing a module registers its handlers."""

from __future__ import annotations

import importlib

CALLBACK_MODULES = ("clearing_gateway.deposits.callbacks",)


def load_callback_handlers() -> None:
    for module in CALLBACK_MODULES:
        importlib.import_module(module)
