"""Mounting the console on the gateway: its pages' routers, static files and refusal
pages. Kept apart from web.py, which every page module imports, so imports flow one way
(pages → web; mount → pages)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.responses import RedirectResponse, Response

from clearing_gateway.console.auth_pages import router as auth_router
from clearing_gateway.console.merchant_pages import router as merchant_router
from clearing_gateway.console.ops_pages import router as ops_router
from clearing_gateway.console.settlement_pages import merchant_router as own_settlement
from clearing_gateway.console.settlement_pages import ops_router as settlement_router
from clearing_gateway.console.web import (
    HERE,
    SECURITY_HEADERS,
    ConsoleRefusal,
    LoginRequired,
    templates,
)


def install(app: FastAPI) -> None:
    """Mount the console's routes, static files and refusal pages on the gateway."""
    app.mount("/console/static", StaticFiles(directory=HERE / "static"), name="console-static")
    app.include_router(auth_router)
    app.include_router(ops_router)
    app.include_router(merchant_router)
    app.include_router(settlement_router)
    app.include_router(own_settlement)

    async def _login_required(request: Request, _exc: Exception) -> Response:
        if request.method == "GET":
            return RedirectResponse("/console/login", status_code=303)
        return _refusal_page(request, ConsoleRefusal(401, "Signed out", "Sign in again."))

    async def _refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ConsoleRefusal)
        return _refusal_page(request, exc)

    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(ConsoleRefusal, _refused)


def _refusal_page(request: Request, refusal: ConsoleRefusal) -> Response:
    response = templates.TemplateResponse(
        request,
        "error.html",
        {
            "title": refusal.heading,
            "status": refusal.status,
            "heading": refusal.heading,
            "message": refusal.message,
            "principal": None,
            "nav": [],
        },
        status_code=refusal.status,
    )
    response.headers.update(SECURITY_HEADERS)
    return response
