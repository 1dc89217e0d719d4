"""Every error as RFC 9457 Problem Details (``application/problem+json``), mapped once.

The status and title come from the exception class (``status``, ``title`` of
:mod:`tinyreg.core.errors`); the data an error carries becomes extension members
(``validationErrors`` for refused TDs, ``violations`` for SHACL, ...). Anything else is a
500 Problem whose body says nothing of the cause; the traceback is logged server-side.
A store failure (:class:`~tinyreg.core.errors.StoreError`) or a configuration error
answers with a fixed sentence too: their messages name store paths, endpoint URLs and
remote statuses, which stay in the server log.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tinyreg.core.errors import (
    AuthError,
    CardError,
    ConfigError,
    ConflictError,
    MediaTypeError,
    NotAcceptableError,
    PayloadTooLargeError,
    RateLimitError,
    StoreError,
    TDValidationError,
    ThingDescriptionError,
    TinyregError,
    ValidationError,
)

__all__ = ["BodyLimit", "install_handlers", "problem"]

PROBLEM = "application/problem+json"
log = logging.getLogger("tinyreg.rest")


def problem(
    status: int,
    title: str,
    detail: str | None = None,
    *,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    """A Problem Details response."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    body.update(extra)
    return Response(json.dumps(body), status_code=status, media_type=PROBLEM, headers=headers or {})


def _extras(exc: TinyregError) -> dict[str, Any]:
    """The data an error carries, as Problem extension members."""
    if isinstance(exc, TDValidationError):
        return {
            "validationErrors": [
                {"field": e.field, "description": e.description} for e in exc.errors
            ]
        }
    if isinstance(exc, ThingDescriptionError):
        return {"validationErrors": [{"field": exc.field or "/", "description": exc.detail}]}
    if isinstance(exc, ValidationError):
        return {
            "violations": [
                {"focus": v.focus, "path": v.path, "message": v.message, "value": v.value}
                for v in exc.violations
            ]
        }
    if isinstance(exc, CardError):
        return {"field": exc.field}
    if isinstance(exc, MediaTypeError):
        return {"accepted": exc.accepted}
    if isinstance(exc, NotAcceptableError):
        return {"offered": exc.offered}
    if isinstance(exc, ConflictError):
        return {"id": exc.ident}
    if isinstance(exc, PayloadTooLargeError):
        return {"limit": exc.limit}
    return {}


def install_handlers(app: FastAPI) -> None:
    """Map tinyreg's errors, request validation, HTTP errors and the rest to Problems."""

    @app.exception_handler(TinyregError)
    async def tinyreg_error(request: Request, exc: TinyregError) -> Response:
        headers = {}
        if isinstance(exc, AuthError):
            headers["WWW-Authenticate"] = f'{exc.scheme} realm="tinyreg"'
        if isinstance(exc, RateLimitError):
            headers["Retry-After"] = str(max(1, round(exc.retry_after)))
        detail = exc.message
        if exc.status >= 500:
            log.error("%s %s: %s", request.method, request.url.path, exc.message)
        if isinstance(exc, StoreError):
            detail = "the graph store failed or is unreachable; the cause is in the server log"
        elif isinstance(exc, ConfigError):
            detail = "the server is misconfigured; the cause is in its log"
        return problem(
            exc.status,
            exc.title,
            detail,
            instance=request.url.path,
            headers=headers,
            **_extras(exc),
        )

    @app.exception_handler(RequestValidationError)
    async def request_error(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {
                "field": "/" + "/".join(str(p) for p in error.get("loc", ())),
                "description": str(error.get("msg", "invalid")),
            }
            for error in exc.errors()
        ]
        return problem(
            400,
            "Invalid request",
            "the request's parameters or body are invalid",
            instance=request.url.path,
            validationErrors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return problem(
            exc.status_code,
            _reason(exc.status_code),
            str(exc.detail) if exc.detail else None,
            instance=request.url.path,
            headers=dict(exc.headers or {}),
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem(
            500,
            "Internal Server Error",
            "the server failed to answer; the cause is in its log",
            instance=request.url.path,
        )


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class BodyLimit:
    """ASGI middleware refusing request bodies over a size limit with a 413 Problem.

    The ``Content-Length`` header is checked first; a body sent without one (chunked) is
    counted as it arrives and cut off at the limit.

    Args:
        app: The application.
        limit: Largest body in bytes.
        upload_limit: Largest body for paths under ``upload_prefix``.
        upload_prefix: Paths of upload routes.

    """

    def __init__(self, app: ASGIApp, limit: int, upload_limit: int, upload_prefix: str) -> None:
        self.app = app
        self.limit = limit
        self.upload_limit = upload_limit
        self.upload_prefix = upload_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection, refusing an oversized body."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        limit = self.upload_limit if path.startswith(self.upload_prefix) else self.limit
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    length = -1
                if length < 0 or length > limit:
                    error = PayloadTooLargeError(limit) if length >= 0 else None
                    response = (
                        problem(413, error.title, error.message, limit=limit)
                        if error is not None
                        else problem(400, "Bad Request", "invalid Content-Length")
                    )
                    await response(scope, receive, send)
                    return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise PayloadTooLargeError(limit)
            return message

        await self.app(scope, counted, send)
