"""What the REST routers share: the app's state, the read/write guards and small helpers.

The state (:class:`AppState`) lives in ``app.state.tinyreg`` from the app's start to its
stop; routes reach it through the :data:`Reader` and :data:`Writer` dependencies, which
also check the bearer token.
"""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from tinyreg.core.errors import AuthError, ForbiddenError, MediaTypeError
from tinyreg.registry import Registry
from tinyreg.registry.directory import Directory, TDSchema
from tinyreg.registry.rest.cache import Answer, AnswerCache, etag_matches
from tinyreg.registry.rest.events import EventLog
from tinyreg.registry.rest.inputs import parse_json
from tinyreg.registry.rest.metrics import RequestMetrics
from tinyreg.registry.rest.reports import ReportCache
from tinyreg.registry.rest.search import SparqlSearch
from tinyreg.registry.rest.settings import Settings

__all__ = [
    "TD_JSON",
    "AppState",
    "Reader",
    "Writer",
    "base_url",
    "cached",
    "call",
    "json_body",
    "json_response",
    "local_ok",
    "media_type",
    "ok",
    "readable",
    "send",
    "token_ok",
]

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])
TD_JSON = "application/td+json"


class AppState:
    """What the routes share: the service, its directory, the event log, the settings.

    Args:
        settings: The app's settings.
        registry: The open registry served.
        schema: The TD JSON Schema the directory checks TDs against.
        metrics: The process's request counts (``/metrics``); default: new ones.

    """

    def __init__(
        self,
        settings: Settings,
        registry: Registry,
        schema: TDSchema | None,
        metrics: RequestMetrics | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics if metrics is not None else RequestMetrics()
        self._started = time.monotonic()
        self.registry = registry
        self.directory: Directory = registry.directory(
            schema=schema, default_ttl=settings.default_ttl_s
        )
        self.events = EventLog(
            settings.event_log_size,
            max_streams=settings.sse_max_streams,
            per_client=settings.sse_per_client,
            queue_size=settings.event_log_size,
        )
        self.search = SparqlSearch(settings, registry)
        self.reports = ReportCache(
            registry, settings.report_max_age_s, persist=settings.writer_url is None
        )
        self.answers = AnswerCache(
            registry.store, settings.cache_entries, clock=self.directory.clock
        )
        self.writes = 0
        self.warm_done = False

    def warm(self, batch: int = 500) -> int:
        """Encode the directory's TDs into the answer cache, a page at a time.

        Run in a thread when the app starts, so that the first read of each TD is as fast
        as the next ones; stops at the cache's size or when a write lands meanwhile (the
        routes fill the cache from then on).

        Returns:
            The TDs encoded.

        """
        done = 0
        offset = 0
        while done < self.settings.cache_entries:
            generation = self.answers.generation()
            if generation is None:
                break
            page = self.directory.page(batch, offset)
            for thing in page.things:
                expires = thing.registration.expires if thing.registration is not None else None
                body = json.dumps(thing.document()).encode()
                self.answers.put(
                    ("thing", thing.id), Answer(body, TD_JSON, valid_until=expires), generation
                )
            done += len(page.things)
            if not page.more or self.answers.generation() != generation:
                break
            offset += batch
        self.warm_done = True
        return done

    def report_generation(self) -> int:
        """What a served report must reflect (the store's write generation, else app writes).

        The store's generation counts every write, by any path; a remote store keeps
        none, and then the app's own count of writes is used.
        """
        generation = self.answers.generation()
        return self.writes if generation is None else generation

    def uptime(self) -> float:
        """Seconds since the app started."""
        return time.monotonic() - self._started


def ok(*media: str, status: int = 200) -> dict[int | str, dict[str, Any]]:
    """An answer's media types, for the OpenAPI document."""
    return {status: {"description": "OK", "content": {m: {} for m in media}}}


def readable(router: APIRouter, path: str, **options: Any) -> Callable[[F], F]:
    """Register a GET route, and HEAD on it (left out of the OpenAPI document)."""

    def register(fn: F) -> F:
        router.head(path, include_in_schema=False, **options)(fn)
        return router.get(path, **options)(fn)

    return register


def json_response(
    data: Any, status: int = 200, media: str = "application/json", **headers: str
) -> Response:
    """``data`` as a JSON answer."""
    return Response(json.dumps(data), status_code=status, media_type=media, headers=headers)


async def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking service call in a worker thread."""
    return await run_in_threadpool(fn, *args, **kwargs)


def media_type(request: Request) -> str:
    """The request body's media type, lower case, without parameters."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def json_body(request: Request, accepted: tuple[str, ...], label: str) -> Any:
    """The request body parsed as JSON, after checking its media type.

    Raises:
        MediaTypeError: If the body is of another media type.
        ThingDescriptionError: If it is not JSON, or nested or numbered past the bounds.

    """
    media = media_type(request)
    if media not in accepted:
        raise MediaTypeError(media or "(none)", accepted)
    return parse_json(await request.body(), label)  # bounded: depth, numbers


def base_url(request: Request) -> str:
    """The service's base URL as clients see it (no trailing slash)."""
    state: AppState = request.app.state.tinyreg
    return (state.settings.public_url or str(request.base_url)).rstrip("/")


def token_ok(settings: Settings, request: Request) -> bool:
    """Whether the request carries the write token (or the local credential's token)."""
    given = request.headers.get("authorization", "")
    scheme, _, value = given.partition(" ")
    if scheme.lower() != "bearer":
        return False
    offered = value.strip().encode()
    found = False
    for secret in (settings.token, settings.local_token):
        if secret is not None:  # both compared: no timing tells which one matched
            found |= hmac.compare_digest(offered, secret.get_secret_value().encode())
    return found


def local_ok(settings: Settings, request: Request) -> bool:
    """Whether the request carries the local credential's token (the same machine's user)."""
    given = request.headers.get("authorization", "")
    scheme, _, value = given.partition(" ")
    secret = settings.local_token
    return (
        secret is not None
        and scheme.lower() == "bearer"
        and hmac.compare_digest(value.strip().encode(), secret.get_secret_value().encode())
    )


async def cached(s: AppState, key: tuple[Any, ...], read: Callable[[], Answer]) -> Answer:
    """The answer kept for ``key``, or ``read()`` in a worker thread (then kept).

    The store's generation is taken before the read, so an answer read while a write
    landed is not kept (see :mod:`tinyreg.registry.rest.cache`).
    """
    answer = s.answers.get(key)
    if answer is None:
        generation = s.answers.generation()
        answer = await run_in_threadpool(read)
        s.answers.put(key, answer, generation)
    return answer


def send(answer: Answer, request: Request) -> Response:
    """An answer with its ``ETag``, or ``304 Not Modified`` when ``If-None-Match`` names it."""
    headers = {**answer.headers, "ETag": f'"{answer.etag}"'}
    if etag_matches(request.headers.get("if-none-match"), answer.etag):
        return Response(status_code=304, headers=headers)
    return Response(answer.body, media_type=answer.media, headers=headers)


async def _reader(request: Request) -> AppState:  # async: no worker thread for a check
    state: AppState = request.app.state.tinyreg
    if state.settings.auth_reads and not token_ok(state.settings, request):
        raise AuthError("this directory needs a bearer token for reads")
    return state


async def _writer(request: Request) -> AppState:
    state: AppState = request.app.state.tinyreg
    settings = state.settings
    if settings.read_only:
        raise ForbiddenError("this directory is read-only")
    if settings.token is None and not local_ok(settings, request):
        raise ForbiddenError("this directory has no write token configured; writes are off")
    if not token_ok(settings, request):
        raise AuthError("writes need the bearer token (Authorization: Bearer ...)")
    state.writes += 1  # the served report is stale from now on
    return state


Reader = Annotated[AppState, Depends(_reader)]
"""A route parameter: the app's state, once the request may read."""
Writer = Annotated[AppState, Depends(_writer)]
"""A route parameter: the app's state, once the request may write."""
