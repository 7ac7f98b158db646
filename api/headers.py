"""Headers every answer of the API carries: ``X-Content-Type-Options: nosniff`` everywhere, and
``Cache-Control: no-store`` on ``/api/`` answers that set no caching of their own (a login's
token, an occupant list, a person: nothing a shared computer's browser or a proxy should keep).
The same on ``/ogc`` (what it lists depends on the caller). Pages set both themselves; tiles
keep their own caching (private, ``Vary: Authorization, Cookie``)."""

from __future__ import annotations

from api.limits import ASGIApp, AsgiScope, Message, Receive, Send

NOSNIFF = (b"x-content-type-options", b"nosniff")
NO_STORE = (b"cache-control", b"no-store")


class ResponseHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        # OGC answers depend on who asks as much as the API's (a planner's buildings are the
        # city's, an officer's their grids'): not for a shared cache either
        private = path.startswith(("/api/", "/ogc/")) or path == "/ogc"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                if NOSNIFF[0] not in names:
                    headers.append(NOSNIFF)
                if private and NO_STORE[0] not in names:
                    headers.append(NO_STORE)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
