"""Request plumbing of the console: templates, the session cookie, who is logged in,
CSRF on every form, and the refusals (login page, 403, 404) rendered as HTML.

Each request opens its own database session (the console is outside /v1, so the merchant
API middleware does not touch it); an action commits before it answers."""

from __future__ import annotations

import hmac
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from clearing_gateway.api.runtime import Runtime
from clearing_gateway.console import service
from clearing_gateway.console.service import Principal
from clearing_gateway.kit.ids import parse_uuid
from clearing_gateway.merchants.auth import client_address

HERE = Path(__file__).parent
COOKIE = "cgw_console"
LOGIN_CSRF_COOKIE = "cgw_login_csrf"
templates = Jinja2Templates(directory=HERE / "templates")
# Pages are private and change with every action: never cached, never framed.
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}

OPS_NAV = [
    ("Overview", "/console/ops"),
    ("Deposits", "/console/ops/deposits"),
    ("Withdrawals", "/console/ops/withdrawals"),
    ("Exceptions", "/console/ops/queues/exceptions"),
    ("Stuck", "/console/ops/queues/withdrawals"),
    ("Breaks", "/console/ops/queues/breaks"),
    ("Callbacks", "/console/ops/queues/callbacks"),
    ("Jobs", "/console/ops/queues/jobs"),
    ("Webhooks", "/console/ops/queues/webhooks"),
    ("Merchants", "/console/ops/merchants"),
    ("Audit", "/console/ops/audit"),
]
MERCHANT_NAV = [
    ("Overview", "/console/m"),
    ("Deposits", "/console/m/deposits"),
    ("Withdrawals", "/console/m/withdrawals"),
    ("Users", "/console/m/users"),
    ("VAs", "/console/m/virtual-accounts"),
    ("Webhooks", "/console/m/webhooks"),
    ("API keys", "/console/m/keys"),
    ("Team", "/console/m/team"),
]


class LoginRequired(Exception):
    pass


class ConsoleRefusal(Exception):
    def __init__(self, status: int, heading: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.heading = heading
        self.message = message


def forbidden(message: str = "This page is not yours to see.") -> ConsoleRefusal:
    return ConsoleRefusal(403, "Forbidden", message)


def missing(what: str) -> ConsoleRefusal:
    # The same answer whether the row does not exist or belongs to someone else.
    return ConsoleRefusal(404, "Not found", f"No {what} here.")


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def db_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with runtime_of(request).sessionmaker() as session:
        yield session


DbDep = Annotated[AsyncSession, Depends(db_session)]


async def current_principal(request: Request, session: DbDep) -> Principal:
    principal = await service.principal_for(session, request.cookies.get(COOKIE))
    if principal is None:
        raise LoginRequired()
    # Read-only pages end their transaction here: no long-lived snapshot during rendering.
    await session.rollback()
    return principal


async def operator(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    if not principal.is_operator:
        raise forbidden("Operator pages are for operators only.")
    return principal


async def merchant_member(
    principal: Annotated[Principal, Depends(current_principal)],
) -> Principal:
    if principal.merchant_id is None:
        raise forbidden("Merchant pages are for a merchant's users.")
    return principal


OperatorDep = Annotated[Principal, Depends(operator)]
MemberDep = Annotated[Principal, Depends(merchant_member)]


async def checked_form(request: Request, principal: Principal) -> FormData:
    """The posted form, once its CSRF token matches the session's."""
    form = await request.form()
    sent = form.get("csrf_token")
    if not isinstance(sent, str) or not hmac.compare_digest(
        sent.encode(), principal.csrf_token.encode()
    ):
        raise ConsoleRefusal(
            403, "Form refused", "The form's security token is missing or stale: reload the page."
        )
    return form


def text(form: FormData, name: str, limit: int = 2000) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def uuid_or_404(value: str, what: str) -> uuid.UUID:
    parsed = parse_uuid(value)
    if parsed is None:
        raise missing(what)
    return parsed


def client_ip(request: Request) -> str | None:
    """The browser's address (X-Forwarded-For only from TRUSTED_PROXIES), for the login
    throttle and the audit log."""
    peer = request.client.host if request.client else None
    return client_address(
        peer,
        request.headers.get("x-forwarded-for"),
        runtime_of(request).settings.trusted_proxy_networks,
    )


def render(
    request: Request,
    principal: Principal | None,
    title: str,
    sections: list[dict[str, Any]],
    *,
    active: str | None = None,
    subtitle: str | None = None,
    status_code: int = 200,
    query: str | None = None,
) -> Response:
    nav: list[tuple[str, str]] = []
    if principal is not None:
        nav = OPS_NAV if principal.is_operator else MERCHANT_NAV
    flash = request.query_params.get("flash")
    response = templates.TemplateResponse(
        request,
        "page.html",
        {
            "title": title,
            "subtitle": subtitle,
            "sections": sections,
            "principal": principal,
            "nav": nav,
            "active": active,
            "flash": flash[:300] if flash else None,
            "flash_kind": request.query_params.get("kind"),
            "query": query,
            "env": runtime_of(request).settings.gateway_env.value,
        },
        status_code=status_code,
    )
    response.headers.update(SECURITY_HEADERS)
    return response


def done(url: str, flash: str, *, error: bool = False) -> Response:
    """After an action: back to a page (303, so reloading does not post again)."""
    from urllib.parse import urlencode

    separator = "&" if "?" in url else "?"
    params = {"flash": flash[:300]}
    if error:
        params["kind"] = "error"
    response = RedirectResponse(f"{url}{separator}{urlencode(params)}", status_code=303)
    response.headers.update(SECURITY_HEADERS)
    return response
