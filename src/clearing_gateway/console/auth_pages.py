"""Login, logout and the console's front door."""

from __future__ import annotations

import hmac
import secrets

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from clearing_gateway.console import service
from clearing_gateway.console.web import (
    COOKIE,
    LOGIN_CSRF_COOKIE,
    SECURITY_HEADERS,
    DbDep,
    client_ip,
    current_principal,
    runtime_of,
    templates,
)

router = APIRouter(prefix="/console", include_in_schema=False)
_THROTTLE_KEY = "console.login_throttle"


def _throttle(request: Request) -> service.LoginThrottle:
    runtime = runtime_of(request)
    throttle = runtime.extras.get(_THROTTLE_KEY)
    if throttle is None:
        settings = runtime.settings
        throttle = runtime.extras[_THROTTLE_KEY] = service.LoginThrottle(
            settings.console_login_failures, settings.console_login_window_seconds
        )
    assert isinstance(throttle, service.LoginThrottle)
    return throttle


def _login_page(
    request: Request, *, error: str | None = None, email: str = "", status_code: int = 200
) -> Response:
    # Before a session exists the CSRF token is a double-submit cookie: a form posted
    # from another site cannot read it, and SameSite=Strict keeps it from being sent.
    token = secrets.token_urlsafe(32)
    response = templates.TemplateResponse(
        request,
        "login.html",
        {
            "title": "Sign in",
            "principal": None,
            "nav": [],
            "csrf_token": token,
            "error": error,
            "email": email,
        },
        status_code=status_code,
    )
    response.headers.update(SECURITY_HEADERS)
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        secure=runtime_of(request).settings.is_production,
        samesite="strict",
        path="/console/login",
    )
    return response


@router.get("")
@router.get("/")
async def front_door(request: Request, session: DbDep) -> Response:
    principal = await service.principal_for(session, request.cookies.get(COOKIE))
    if principal is None:
        return RedirectResponse("/console/login", status_code=303)
    return RedirectResponse(
        "/console/ops" if principal.is_operator else "/console/m", status_code=303
    )


@router.get("/login")
async def login_form(request: Request) -> Response:
    return _login_page(request)


@router.post("/login")
async def login(request: Request, session: DbDep) -> Response:
    form = await request.form()
    email = str(form.get("email") or "")[:254]
    password = str(form.get("password") or "")[:1024]
    sent = str(form.get("csrf_token") or "")
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    if not sent or not hmac.compare_digest(sent.encode(), cookie.encode()):
        return _login_page(
            request, error="The form expired: please sign in again.", status_code=403
        )
    throttle = _throttle(request)
    keys = (f"ip:{client_ip(request)}", f"email:{email.strip().lower()}")
    if throttle.blocked(*keys):
        return _login_page(
            request,
            error="Too many failed sign-ins: wait a few minutes and try again.",
            email=email,
            status_code=429,
        )
    settings = runtime_of(request).settings
    result = await service.log_in(session, settings, email, password)
    if result is None:
        throttle.failed(*keys)
        await service.audit(
            session,
            None,
            "login.failed",
            target=email.strip().lower()[:200],
            source_ip=client_ip(request),
            actor_email=email.strip().lower()[:254] or "-",
        )
        await session.commit()
        return _login_page(request, error="Wrong email or password.", email=email, status_code=401)
    token, account = result
    throttle.succeeded(keys[1])
    principal = await service.principal_for(session, token)
    await service.audit(session, principal, "login", source_ip=client_ip(request))
    await session.commit()
    response = RedirectResponse(
        "/console/ops" if account.is_operator else "/console/m", status_code=303
    )
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(settings.console_session_hours * 3600),
        httponly=True,
        secure=settings.is_production,
        samesite="strict",
        path="/console",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/console/login")
    return response


@router.post("/logout")
async def logout(request: Request, session: DbDep) -> Response:
    from clearing_gateway.console.web import checked_form

    principal = await current_principal(request, session)
    await checked_form(request, principal)
    await service.log_out(session, principal)
    await service.audit(session, principal, "logout", source_ip=client_ip(request))
    await session.commit()
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(COOKIE, path="/console")
    return response
