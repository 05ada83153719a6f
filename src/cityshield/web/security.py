"""Security headers on every response of the web page, error pages and files included.

The page runs no script at all, so the Content-Security-Policy allows none: an injected
``<script>`` or event attribute (were escaping ever missed) does nothing. Styles and
images come only from the hub itself; forms post only to it; no other site may frame the
page (clickjacking) or learn its URLs from a Referer. Pages hold member data, so no cache
(the browser's, a proxy's) keeps them: ``no-store``; only the static files are cacheable.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cityshield.config import Settings

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "style-src 'self'",
        "img-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}
HSTS = "max-age=31536000"
STATIC_CACHE = "public, max-age=3600"


def served_over_https(settings: Settings) -> bool:
    """Whether browsers reach the hub over https (its public URL says so): then cookies
    are ``Secure`` and HSTS is sent. Without a public URL the hub cannot know, and a
    ``Secure`` cookie would never come back over plain http."""
    url = settings.public_url
    return url is not None and url.scheme == "https"


class SecurityHeaders:
    """ASGI middleware of the web sub-application; ``https``: the hub's public URL is
    https, so browsers are also told to use nothing else (HSTS)."""

    def __init__(self, app: ASGIApp, *, https: bool, static_path: str = "/static/") -> None:
        self.app = app
        self.https = https
        self.static_path = static_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith(scope.get("root_path", "") + self.static_path)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers[name] = value
                headers["Cache-Control"] = STATIC_CACHE if static else "no-store"
                if self.https:
                    headers["Strict-Transport-Security"] = HSTS
            await send(message)

        await self.app(scope, receive, with_headers)
