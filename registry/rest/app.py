"""The REST app: a W3C WoT Thing Description Directory plus models, matching and SPARQL.

A thin shell over :class:`~tinyreg.registry.Registry`: each resource's routes
(:mod:`tinyreg.registry.rest.routes`) read the request, call one service method in a
worker thread, and shape the answer. Errors become Problem Details in one place
(:mod:`tinyreg.registry.rest.problems`).
"""

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.concurrency import run_in_threadpool

from tinyreg.registry import Registry
from tinyreg.registry.directory import TDSchema
from tinyreg.registry.rest.fast import FastReads
from tinyreg.registry.rest.funnel import Funnel
from tinyreg.registry.rest.metrics import MetricsMiddleware, RequestMetrics
from tinyreg.registry.rest.problems import BodyLimit, install_handlers
from tinyreg.registry.rest.relay import EventRelay, relay_key
from tinyreg.registry.rest.routes import ROUTERS
from tinyreg.registry.rest.settings import Settings
from tinyreg.registry.rest.shared import AppState

__all__ = ["create_app"]

log = logging.getLogger("tinyreg.rest")

_PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "validationErrors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "description": {"type": "string"}},
            },
        },
    },
}
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {
        "description": text,
        "content": {"application/problem+json": {"schema": _PROBLEM_SCHEMA}},
    }
    for code, text in (
        (400, "Refused input (Problem Details, with validationErrors for a TD)"),
        (401, "The bearer token is missing or wrong"),
        (403, "Writes are off (read-only, or no token configured)"),
        (404, "No such resource"),
        (409, "An ambiguous name"),
        (413, "The request body is over the limit"),
        (415, "A request body of another media type"),
        (422, "A description that violates the shapes"),
        (503, "The graph store failed, or the query ran past its deadline"),
    )
}


def create_app(settings: Settings | None = None, registry: Registry | None = None) -> FastAPI:
    """Build the REST app.

    Args:
        settings: The settings; default: read from ``TINYREG_*`` environment variables.
        registry: An open registry to serve (the caller closes it); default: the store
            of ``settings.store`` is opened when the app starts and closed when it stops.

    Returns:
        The ASGI app (run it with uvicorn, or ``tinyreg serve``).

    Raises:
        ConfigError: If the TD JSON Schema is asked for and cannot be read.

    """
    settings = settings if settings is not None else Settings()
    metrics = RequestMetrics()
    schema = TDSchema.load(settings.schema_path()) if settings.validate_td_schema else None

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = registry is None
        reg = (
            Registry.open(settings.store, model_store=settings.model_store)
            if registry is None
            else registry
        )
        state = AppState(settings, reg, schema, metrics)
        app.state.tinyreg = state
        relay = _relay(settings, state)
        try:
            if relay is not None:
                await run_in_threadpool(relay.start)
        except BaseException:
            if own:
                reg.close()
            raise
        reader = settings.writer_url is not None  # SPARQL, purges: the writer's
        if not reader:
            state.search.start()
        purger = None if reader else asyncio.create_task(_purge_loop(state))
        warming = asyncio.create_task(_warm(state))
        report = None if reader else asyncio.create_task(_first_report(state))
        if settings.freeze_heap:
            freeze_heap()
        try:
            yield
        finally:
            if purger is not None:
                purger.cancel()
            warming.cancel()
            if report is not None:
                report.cancel()
            state.reports.close()  # a report process still writing would outlive the server
            if relay is not None:
                relay.stop()
            if not reader:
                state.search.close()
            if own:
                reg.close()

    app = FastAPI(
        title="tinyreg",
        summary="W3C WoT Thing Description Directory of TinyML devices, models and matching.",
        version="0.1.0",
        lifespan=lifespan,
        responses=_ERRORS,
    )
    install_handlers(app)
    _problems_only(app)
    app.add_middleware(
        BodyLimit,
        limit=settings.max_body_bytes,
        upload_limit=settings.max_upload_bytes,
        upload_prefix="/models",
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "HEAD", "PUT", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Last-Event-ID"],
            expose_headers=["Location", "Link", "ETag", "X-Total-Count"],
        )
    app.add_middleware(MetricsMiddleware, metrics=metrics)  # times everything below
    if settings.writer_url is not None and settings.local_token is not None:
        app.add_middleware(  # a reader process: all but plain reads go to the writer
            Funnel,
            writer_url=settings.writer_url,
            local_token=settings.local_token.get_secret_value(),
        )
    app.add_middleware(FastReads, metrics=metrics)  # outermost: cached TDs, nothing else
    for router in ROUTERS:
        app.include_router(router)
    return app


def _problems_only(app: FastAPI) -> None:
    """Drop FastAPI's own 422 schema from the OpenAPI document: request errors are 400.

    A 422 stays documented where it is the shapes' answer (the app-wide responses).
    """
    from fastapi.openapi.utils import get_openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                routes=app.routes,
            )
            for item in document.get("paths", {}).values():
                for operation in item.values():
                    answer = operation.get("responses", {}).get("422", {})
                    content = answer.get("content", {})
                    content.pop("application/json", None)
            schemas = document.get("components", {}).get("schemas", {})
            for name in ("HTTPValidationError", "ValidationError"):
                schemas.pop(name, None)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _relay(settings: Settings, state: AppState) -> EventRelay | None:
    """The relay sharing directory events with the other replicas, when configured."""
    secret = settings.events_secret()
    if settings.events_broker is None or secret is None:
        return None

    def stale() -> None:
        state.writes += 1  # another replica wrote: the served report is stale

    return EventRelay(
        state.events, settings.events_broker, settings.events_topic, relay_key(secret), stale
    )


async def _warm(state: AppState) -> None:
    """Encode the directory's TDs into the cache in a worker thread (see AppState.warm)."""
    try:
        count = await run_in_threadpool(state.warm)
    except Exception:
        log.exception("warming the TD cache failed (reads fill it instead)")
        return
    log.info("TD cache warm: %d TDs encoded", count)
    if state.settings.freeze_heap:
        await run_in_threadpool(freeze_heap)


def freeze_heap() -> None:
    """Keep the objects alive now out of every later garbage collection.

    A server process holds a large, long-lived heap (rdflib, the shapes, the store layer,
    the answer cache: about a million objects); Python's full collection walks all of it
    and, measured under ``benchmarks/http_load.py``, stopped a process for 60-350 ms,
    which was the tail of ``GET /things/{id}``. ``gc.freeze`` moves every object alive
    into a permanent generation that collections skip; requests' own garbage is
    collected as before. Objects frozen are never freed if they later become cyclic
    garbage: run it only when what is alive is meant to stay (after start-up, after the
    cache is warm).
    """
    gc.collect()
    gc.freeze()


async def _first_report(state: AppState) -> None:
    """Load the kept report, or write one in a worker thread, so the first request waits less.

    A request that comes meanwhile shares this build (the report cache is single-flight).
    """
    try:
        generation = state.report_generation()
        if await run_in_threadpool(state.reports.load, generation):
            log.info("report: the one kept beside the store is current")
            return
        state.reports.start_background()  # a low-priority process, on an embedded store
        await run_in_threadpool(state.reports.latest, generation)
    except Exception:
        log.exception("writing the first report failed (a request will try again)")


async def _purge_loop(state: AppState) -> None:
    """Delete expired TDs every ``purge_interval_s`` and publish ``thing_deleted``."""
    while True:
        await asyncio.sleep(state.settings.purge_interval_s)
        try:
            purged = await run_in_threadpool(state.directory.purge_expired)
        except Exception:
            log.exception("purging expired Thing Descriptions failed")
            continue
        for ident in purged:
            state.events.publish("thing_deleted", ident, {"id": ident})
