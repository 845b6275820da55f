"""Who may use the review app, and forms no other site can submit.

Bound to loopback, the app trusts the machine's own user.  Bound anywhere else it
needs a token: given once as ``?token=…`` it is kept in a cookie.  Every form carries a
CSRF token equal to a cookie the app set (double submit, cookies SameSite=Strict), so a
page elsewhere cannot post corrections.  Report text is untrusted (hijacked mirrors
inject markup): templates autoescape it, and the Content-Security-Policy allows no
inline script, so even a missed escape runs nothing.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

TOKEN_COOKIE = "nianbao_token"
CSRF_COOKIE = "nianbao_csrf"
CSRF_FIELD = "csrf"
CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def new_token() -> str:
    return secrets.token_urlsafe(24)


def csrf_token(request: Request) -> str:
    """The CSRF token of this browser (set as a cookie by the middleware)."""
    return str(request.scope.get("nianbao.csrf", ""))


def csrf_ok(request: Request, form_value: object) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    return bool(cookie) and isinstance(form_value, str) and hmac.compare_digest(cookie, form_value)


class Guard:
    """ASGI middleware: the access token (when one is set), the CSRF cookie, security headers."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        set_cookies: list[str] = []
        if self.token is not None:
            given = request.query_params.get("token")
            if given is not None and hmac.compare_digest(given, self.token):
                # Keep it in a cookie and drop it from the address bar.
                response: Response = RedirectResponse(request.url.remove_query_params("token"), status_code=303)
                response.set_cookie(TOKEN_COOKIE, self.token, httponly=True, samesite="strict")
                await response(scope, receive, send)
                return
            if not hmac.compare_digest(request.cookies.get(TOKEN_COOKIE, ""), self.token):
                await PlainTextResponse("a token is required: open the address the review command printed", status_code=401)(scope, receive, send)
                return
        csrf = request.cookies.get(CSRF_COOKIE)
        if not csrf:
            csrf = secrets.token_urlsafe(24)
            set_cookies.append(f"{CSRF_COOKIE}={csrf}; Path=/; HttpOnly; SameSite=Strict")
        scope["nianbao.csrf"] = csrf

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = CSP
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "no-referrer"
                for cookie in set_cookies:
                    headers.append("set-cookie", cookie)
            await send(message)

        await self.app(scope, receive, send_with_headers)
