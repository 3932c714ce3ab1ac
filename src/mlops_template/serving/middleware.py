"""The service's own ASGI middleware, added to BentoML's stack (`add_asgi_middleware`)."""

from __future__ import annotations

from collections.abc import Collection

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send


class JsonOnly:
    """The JSON endpoints take `application/json` and nothing else: a 415 names what to send.

    BentoML would also parse form and multipart bodies there (and, for a form field that
    is a URL, download it); a malformed multipart body then ended in a 500.
    """

    def __init__(self, app: ASGIApp, paths: Collection[str]) -> None:
        self.app = app
        self.paths = frozenset(paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in self.paths:
            content_type = dict(scope["headers"]).get(b"content-type", b"application/json")
            media_type = content_type.split(b";", 1)[0].strip().lower()
            if media_type not in (b"application/json", b""):
                sent = media_type.decode(errors="replace")
                error = f"unsupported content type {sent!r}: send application/json"
                response = JSONResponse({"error": error}, status_code=415)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
