"""The application factory."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

from fastapi import FastAPI

from clearing_gateway import __version__
from clearing_gateway.api.context import RequestContextMiddleware, RequestMetrics
from clearing_gateway.api.errors import install_error_handlers
from clearing_gateway.api.middleware import MerchantApiMiddleware
from clearing_gateway.api.openapi import install_openapi
from clearing_gateway.api.runtime import Runtime
from clearing_gateway.api.shutdown import install_drain
from clearing_gateway.config import Settings, get_settings
from clearing_gateway.console.mount import install as install_console
from clearing_gateway.db import create_engine, create_sessionmaker
from clearing_gateway.debits.endpoints import router as debits_router
from clearing_gateway.deposits.endpoints import router as deposits_router
from clearing_gateway.handlers import load_callback_handlers
from clearing_gateway.health.endpoints import router as health_router
from clearing_gateway.instruments.endpoints import router as instruments_router
from clearing_gateway.jobs.worker import Worker
from clearing_gateway.kit import tracing
from clearing_gateway.kit.logging import configure_logging
from clearing_gateway.ledger.endpoints import router as ledger_router
from clearing_gateway.merchants.credentials import CredentialCache
from clearing_gateway.merchants.crypto import load_keys
from clearing_gateway.providers.endpoints import router as provider_callbacks_router
from clearing_gateway.providers.hub import build_providers
from clearing_gateway.providers.sandboxes import build_sandboxes, mount_sandboxes
from clearing_gateway.settlements.endpoints import router as settlements_router
from clearing_gateway.simulator.endpoints import router as simulator_router
from clearing_gateway.tasks import load_task_modules
from clearing_gateway.users.endpoints import router as users_router
from clearing_gateway.webhooks.endpoints import router as webhooks_router
from clearing_gateway.withdrawals.endpoints import router as withdrawals_router

T = TypeVar("T")

API_TITLE = "CACI Clearing Gateway API"
API_DESCRIPTION = (
    "Merchant-facing APIs exposed by CACI Clearing Gateway for PAKD needs: users with KYC, "
    "virtual accounts, deposits, withdrawals, balances and webhooks. Every /v1 request is "
    "signed: X-Api-Key, X-Timestamp (Unix ms) and X-Signature = lowercase hex "
    "HMAC-SHA512(secret, METHOD|PATH|BODY|TIMESTAMP)."
)


def build_runtime(settings: Settings) -> Runtime:
    engine = create_engine(settings)
    return Runtime(
        settings=settings,
        engine=engine,
        sessionmaker=create_sessionmaker(engine),
        providers=build_providers(settings),
    )


def run_with_runtime(
    work: Callable[[Runtime], Awaitable[T]], settings: Settings | None = None
) -> T:
    """Run `work` with a whole runtime (provider connectors included), for operator
    commands that talk to providers; everything is closed afterwards."""

    async def _main() -> T:
        runtime = build_runtime(settings or get_settings())
        try:
            return await work(runtime)
        finally:
            await runtime.aclose()

    return asyncio.run(_main())


def start_worker(runtime: Runtime) -> Worker:
    """The outbox worker inside the API process (sandbox default: `make run` delivers
    webhooks with nothing else running)."""
    load_task_modules()
    worker = Worker(runtime)
    worker.start()
    return worker


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    settings = settings or (runtime.settings if runtime else get_settings())
    configure_logging(settings.log_level, json=settings.log_json)
    tracing.configure(settings.otel_enabled, settings.otel_service_name)
    load_keys(settings)  # fail at start-up, not on the first request, if the key is missing
    runtime = runtime or build_runtime(settings)
    load_callback_handlers()
    if runtime.providers is None:
        runtime.providers = build_providers(runtime.settings)
    sandboxes = None if settings.is_production else build_sandboxes(runtime.providers.config)
    if runtime.credentials is None:
        runtime.credentials = CredentialCache(settings.auth_cache_ttl_seconds)
    credentials = runtime.credentials

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        restore_signals = install_drain(runtime, settings.drain_seconds)
        worker = start_worker(runtime) if settings.worker_in_process else None
        credentials.start(runtime.engine)
        try:
            yield
        finally:
            runtime.draining = True
            restore_signals()
            await credentials.stop()
            if worker is not None:
                await worker.stop(grace=settings.shutdown_timeout_seconds)
            if sandboxes is not None:
                await sandboxes.aclose()
            await runtime.aclose()

    app = FastAPI(
        title=API_TITLE,
        version=__version__,
        description=API_DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url="/redoc",
    )
    app.state.runtime = runtime
    install_error_handlers(app)
    install_openapi(app, path_prefix=settings.public_path_prefix)
    app.include_router(health_router)
    app.include_router(users_router)
    app.include_router(instruments_router)
    app.include_router(deposits_router)
    app.include_router(webhooks_router)
    app.include_router(provider_callbacks_router)
    if sandboxes is not None:
        app.state.sandboxes = sandboxes
        mount_sandboxes(app, sandboxes)
        app.include_router(simulator_router)
    app.include_router(ledger_router)
    app.include_router(debits_router)
    app.include_router(settlements_router)
    app.include_router(withdrawals_router)
    install_console(app)

    app.add_middleware(MerchantApiMiddleware, runtime=runtime)
    app.add_middleware(RequestContextMiddleware, metrics=RequestMetrics(runtime.registry))
    return app
