"""ASGI middleware: a request body limit and security headers."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from veiviser.web.errors import error_body

# The chat page loads its own script and style only; nothing inline, no CDN.
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# Swagger UI sets inline styles on its elements.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
API_CSP = "default-src 'none'; frame-ancestors 'none'"


class BodyLimit:
    """Rejects request bodies over ``limit`` bytes with 413 before the app runs.

    The body is read up front (it is small by definition) and handed to the
    app from memory, so a client that sends no Content-Length, or a false
    one, is held to the same limit.
    """

    def __init__(
        self,
        app: ASGIApp,
        limit: int,
        larger: dict[str, int] | None = None,
        page: tuple[str, str] | None = None,
    ) -> None:
        self.app = app
        self.limit = limit
        # Paths that take bigger bodies (a knowledge-base upload in the admin).
        self.larger = larger or {}
        # (prefix, page): a refused form post under the prefix is shown the
        # app's own page at ``page`` (a GET, with ``?limit=`` and ``&kind=``
        # ``file`` or ``form``) instead of JSON, so a staff member who sent
        # too much reads why in Norwegian.
        self.page = page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.larger.get(scope.get("path", ""), self.limit)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await self._reject(scope, send, limit)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._reject(scope, send, limit)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        await self.app(scope, _replay(b"".join(chunks), receive), send)

    async def _reject(self, scope: Scope, send: Send, limit: int) -> None:
        if self.page is not None and scope.get("path", "").startswith(self.page[0]):
            await self._show_page(scope, send, limit)
            return
        body = json.dumps(
            error_body("request_too_large", {"limit_bytes": limit}),
            ensure_ascii=False,
        ).encode("utf-8")
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                    *_security_headers(API_CSP),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _show_page(self, scope: Scope, send: Send, limit: int) -> None:
        assert self.page is not None
        path = self.page[1]
        # A path with its own, larger limit takes a file; the others, forms.
        kind = "file" if scope.get("path", "") in self.larger else "form"
        page_scope = {
            **scope,
            "method": "GET",
            "path": path,
            "raw_path": path.encode(),
            "query_string": f"limit={limit}&kind={kind}".encode(),
        }

        async def nothing() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def closing(message: Message) -> None:
            # The rest of the body is never read, so the connection must end.
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    (b"connection", b"close"),
                ]
            await send(message)

        await self.app(page_scope, nothing, closing)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


def _security_headers(csp: str) -> list[tuple[bytes, bytes]]:
    return [
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"content-security-policy", csp.encode()),
        (b"x-frame-options", b"DENY"),
    ]


class SecurityHeaders:
    """Adds nosniff, a referrer policy, framing rules and a CSP to responses."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        csp = DOCS_CSP if path.startswith("/docs") else PAGE_CSP
        if path.startswith("/api/"):
            csp = API_CSP

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [h for h in _security_headers(csp) if h[0] not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)
