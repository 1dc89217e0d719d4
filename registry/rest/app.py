"""The REST app: a W3C WoT Thing Description Directory plus models, matching and SPARQL.

A thin shell over :class:`~tinyreg.registry.Registry`,
:class:`~tinyreg.registry.directory.Directory` and
:class:`~tinyreg.matchmaker.Matchmaker`: routes read the request, call one of them in a
worker thread, and shape the answer. Errors become Problem Details in one place
(:mod:`tinyreg.registry.rest.problems`).
"""

import asyncio
import contextlib
import hmac
import json
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from email.utils import format_datetime
from pathlib import PurePath
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

import yaml
from fastapi import Depends, FastAPI, File, Form, Query, Request, UploadFile
from fastapi.middleware.cors import CORSMiddleware
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from tinyreg.core.errors import (
    AuthError,
    CardError,
    ForbiddenError,
    InputError,
    MediaTypeError,
)
from tinyreg.matchmaker import Match, Matchmaker
from tinyreg.registry.cards import ModelCard, card_from_mapping, slugify
from tinyreg.registry.directory import Directory, Page, TDSchema, Thing, merge_diff
from tinyreg.registry.facade import Registry
from tinyreg.registry.rest.events import EVENT_TYPES, EventLog
from tinyreg.registry.rest.inputs import location, parse_json
from tinyreg.registry.rest.problems import BodyLimit, install_handlers
from tinyreg.registry.rest.reports import ReportCache
from tinyreg.registry.rest.search import SparqlSearch
from tinyreg.registry.rest.settings import Settings
from tinyreg.registry.rest.wot import directory_td

__all__ = ["create_app"]

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])
TD_JSON = "application/td+json"
TD_TYPES = (TD_JSON, "application/json", "application/ld+json")
MERGE_PATCH = "application/merge-patch+json"
SPARQL_QUERY = "application/sparql-query"
FORM = "application/x-www-form-urlencoded"
log = logging.getLogger("tinyreg.rest")

_TD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {media: {"schema": {"type": "object"}} for media in TD_TYPES},
    }
}
_PATCH_BODY: dict[str, Any] = {
    "requestBody": {"required": True, "content": {MERGE_PATCH: {"schema": {"type": "object"}}}}
}
_SPARQL_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            SPARQL_QUERY: {"schema": {"type": "string"}},
            FORM: {
                "schema": {
                    "type": "object",
                    "properties": {"query": {"type": "string"}},
                    "required": ["query"],
                }
            },
        },
    }
}


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


def _ok(*media: str, status: int = 200) -> dict[int | str, dict[str, Any]]:
    """An answer's media types, for the OpenAPI document."""
    return {status: {"description": "OK", "content": {m: {} for m in media}}}


_SPARQL_OK = _ok(
    "application/sparql-results+json",
    "application/json",
    "application/ld+json",
    "text/turtle",
    "application/n-triples",
)


class _State:
    """What the routes share: the registry, the directory, the event log, the settings."""

    def __init__(self, settings: Settings, registry: Registry, directory: Directory) -> None:
        self.settings = settings
        self.registry = registry
        self.directory = directory
        self.matchmaker = Matchmaker(registry)
        self.events = EventLog(settings.event_log_size)
        self.search = SparqlSearch(settings, registry)
        self.reports = ReportCache(registry, settings.report_max_age_s)
        self.writes = 0


def _json(
    data: Any, status: int = 200, media: str = "application/json", **headers: str
) -> Response:
    return Response(json.dumps(data), status_code=status, media_type=media, headers=headers)


async def _match_page(found: Sequence[Match], offset: int, limit: int | None) -> Response:
    """A page of a ranked answer as JSON, with the answer's size in ``X-Total-Count``.

    A ranked answer read from the fit index fetches the page's devices and verdicts
    only, in a worker thread like every store call.
    """

    def page() -> list[dict[str, Any]]:
        stop = len(found) if limit is None else offset + limit
        return [m.to_dict() for m in found[offset:stop]]

    body = json.dumps(await run_in_threadpool(page))
    headers = {"X-Total-Count": str(len(found))}
    return Response(body, media_type="application/json", headers=headers)


def _media(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def _json_body(request: Request, accepted: tuple[str, ...], label: str) -> Any:
    media = _media(request)
    if media not in accepted:
        raise MediaTypeError(media or "(none)", accepted)
    return parse_json(await request.body(), label)  # bounded: depth, numbers


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
    schema = TDSchema.load(settings.schema_path()) if settings.validate_td_schema else None
    holder: dict[str, _State] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = registry is None
        reg = Registry.open(settings.store) if registry is None else registry
        state = _State(settings, reg, Directory(reg, schema, default_ttl=settings.default_ttl_s))
        holder["state"] = state
        state.search.start()
        purger = asyncio.create_task(_purge_loop(state))
        try:
            yield
        finally:
            purger.cancel()
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

    def readable(path: str, **options: Any) -> Callable[[F], F]:
        """Register a GET route, and HEAD on it (left out of the OpenAPI document)."""

        def register(fn: F) -> F:
            app.head(path, include_in_schema=False, **options)(fn)
            return app.get(path, **options)(fn)

        return register

    def state() -> _State:
        return holder["state"]

    def _token_ok(request: Request) -> bool:
        token = settings.token.get_secret_value() if settings.token is not None else None
        given = request.headers.get("authorization", "")
        scheme, _, value = given.partition(" ")
        return (
            token is not None
            and scheme.lower() == "bearer"
            and hmac.compare_digest(value.strip().encode(), token.encode())
        )

    def reader(request: Request) -> _State:
        if settings.auth_reads and not _token_ok(request):
            raise AuthError("this directory needs a bearer token for reads")
        return state()

    def writer(request: Request) -> _State:
        if settings.read_only:
            raise ForbiddenError("this directory is read-only")
        if settings.token is None:
            raise ForbiddenError("this directory has no write token configured; writes are off")
        if not _token_ok(request):
            raise AuthError("writes need the bearer token (Authorization: Bearer ...)")
        current = state()
        current.writes += 1  # the served report is stale from now on
        return current

    Reader = Annotated[_State, Depends(reader)]
    Writer = Annotated[_State, Depends(writer)]

    async def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await run_in_threadpool(fn, *args, **kwargs)

    def base(request: Request) -> str:
        return (settings.public_url or str(request.base_url)).rstrip("/")

    # -------------------------------------------------------------- directory

    @readable("/.well-known/wot", tags=["directory"], responses=_ok(TD_JSON))
    async def well_known(request: Request, s: Reader) -> Response:
        """The directory's own Thing Description."""
        return _json(
            directory_td(base(request), reads_need_token=settings.auth_reads), media=TD_JSON
        )

    @readable("/things", tags=["directory"], responses=_ok("application/ld+json"))
    async def list_things(
        request: Request,
        s: Reader,
        limit: Annotated[int | None, Query(ge=1, le=10_000)] = None,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> Response:
        """The TDs in id order, a page at a time (``Link: rel=next``, ``rel=canonical``)."""
        size = limit if limit is not None else settings.page_size
        page: Page = await call(s.directory.page, size, offset)
        links = [f'<{base(request)}/things>; rel="canonical"; etag="{page.etag}"']
        if page.more:
            query = urlencode({"offset": offset + size, "limit": size})
            links.append(f'<{base(request)}/things?{query}>; rel="next"')
        return _json(
            [t.document() for t in page.things],
            media="application/ld+json",
            Link=", ".join(links),
            ETag=f'"{page.etag}"',
        )

    @readable("/things/{ident:path}", tags=["directory"], responses=_ok(TD_JSON))
    async def get_thing(ident: str, s: Reader) -> Response:
        """One TD with its registration information."""
        thing: Thing = await call(s.directory.get, ident)
        return _json(thing.document(), media=TD_JSON)

    @app.put(
        "/things/{ident:path}",
        tags=["directory"],
        openapi_extra=_TD_BODY,
        status_code=201,
        responses={204: {"description": "Replaced"}},
    )
    async def put_thing(ident: str, request: Request, s: Writer) -> Response:
        """Create (201) or replace (204) a TD under its id."""
        td = await _json_body(request, TD_TYPES, ident)
        thing, previous = await call(s.directory.put, td, ident)
        if previous is None:
            s.events.publish("thing_created", thing.id, thing.document())
            return Response(status_code=201, headers={"Location": location("/things/", thing.id)})
        s.events.publish(
            "thing_updated", thing.id, {**merge_diff(previous.td, thing.td), "id": thing.id}
        )
        return Response(status_code=204)

    @app.post("/things", tags=["directory"], openapi_extra=_TD_BODY, status_code=201)
    async def post_thing(request: Request, s: Writer) -> Response:
        """Register an anonymous TD; its new id (``urn:uuid:...``) is in ``Location``."""
        td = await _json_body(request, TD_TYPES, "<anonymous TD>")
        thing: Thing = await call(s.directory.create, td)
        s.events.publish("thing_created", thing.id, thing.document())
        return Response(status_code=201, headers={"Location": location("/things/", thing.id)})

    @app.patch(
        "/things/{ident:path}", tags=["directory"], openapi_extra=_PATCH_BODY, status_code=204
    )
    async def patch_thing(ident: str, request: Request, s: Writer) -> Response:
        """Apply a JSON Merge Patch (``application/merge-patch+json``) to a TD."""
        patch = await _json_body(request, (MERGE_PATCH,), ident)
        thing, previous = await call(s.directory.patch, ident, patch)
        s.events.publish(
            "thing_updated", thing.id, {**merge_diff(previous.td, thing.td), "id": thing.id}
        )
        return Response(status_code=204)

    @app.delete("/things/{ident:path}", tags=["directory"], status_code=204)
    async def delete_thing(ident: str, s: Writer) -> Response:
        """Delete a TD."""
        thing: Thing = await call(s.directory.delete, ident)
        s.events.publish("thing_deleted", thing.id, {"id": thing.id})
        return Response(status_code=204)

    # -------------------------------------------------------------- events

    def _events(
        request: Request, s: _State, types: set[str], diff: bool, last: str | None
    ) -> Response:
        headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        if request.method == "HEAD":
            return Response(media_type="text/event-stream", headers=headers)
        last_id = int(last) if last is not None and last.strip().isdigit() else None
        return StreamingResponse(
            s.events.stream(types, diff, last_id), media_type="text/event-stream", headers=headers
        )

    @readable("/events", tags=["events"])
    async def events(
        request: Request,
        s: Reader,
        diff: bool = False,
        last_event_id: Annotated[
            str | None, Query(alias="lastEventId", include_in_schema=False)
        ] = None,
    ) -> Response:
        """Server-Sent Events of every kind; ``Last-Event-ID`` replays what followed it."""
        last = request.headers.get("last-event-id", last_event_id)
        return _events(request, s, set(EVENT_TYPES), diff, last)

    @readable("/events/{kind}", tags=["events"])
    async def events_of(request: Request, kind: str, s: Reader, diff: bool = False) -> Response:
        """Server-Sent Events of one kind (``thing_created``, ``_updated``, ``_deleted``)."""
        if kind not in EVENT_TYPES:
            raise InputError(f"unknown event type {kind!r}; use one of {', '.join(EVENT_TYPES)}")
        return _events(request, s, {kind}, diff, request.headers.get("last-event-id"))

    # -------------------------------------------------------------- SPARQL

    async def _sparql(request: Request, s: _State, query: str) -> Response:
        client = request.client.host if request.client is not None else "-"
        media, body = await s.search.answer(query, request.headers.get("accept"), client)
        return Response(body, media_type=media)

    @readable("/search/sparql", tags=["search"], responses=_SPARQL_OK)
    async def sparql_get(
        request: Request, s: Reader, query: Annotated[str, Query(min_length=1)]
    ) -> Response:
        """SPARQL 1.1 Protocol query (SELECT/ASK/CONSTRUCT/DESCRIBE); updates are refused."""
        return await _sparql(request, s, query)

    @app.post("/search/sparql", tags=["search"], openapi_extra=_SPARQL_BODY, responses=_SPARQL_OK)
    async def sparql_post(request: Request, s: Reader) -> Response:
        """SPARQL 1.1 Protocol query by POST (``application/sparql-query`` or a form)."""
        media = _media(request)
        if media == "application/sparql-update":
            raise ForbiddenError("SPARQL updates are not accepted; write through /things")
        if media == SPARQL_QUERY:
            raw = await request.body()
            try:
                query = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InputError("the query is not UTF-8 text") from exc
        elif media == FORM:
            form = await request.form()
            if "update" in form:
                raise ForbiddenError("SPARQL updates are not accepted; write through /things")
            value = form.get("query")
            if not isinstance(value, str) or not value:
                raise InputError("the form has no 'query'")
            query = value
        else:
            raise MediaTypeError(media or "(none)", (SPARQL_QUERY, FORM))
        return await _sparql(request, s, query)

    # -------------------------------------------------------------- models

    @readable("/models", tags=["models"])
    async def list_models(
        s: Reader,
        task: str | None = None,
        runnable: bool | None = None,
        q: Annotated[str | None, Query(description="text in id, name or dataset")] = None,
    ) -> Response:
        """The models (as ``tinyreg list models --format json``), optionally filtered."""
        records = await call(s.registry.list_models)
        needle = q.lower() if q else None
        out = [
            r.to_dict()
            for r in records
            if (task is None or r.task == task)
            and (runnable is None or r.runnable == runnable)
            and (
                needle is None
                or any(needle in (v or "").lower() for v in (r.id, r.name, r.dataset))
            )
        ]
        return _json(out)

    @readable("/models/{ident}", tags=["models"])
    async def get_model(ident: str, s: Reader) -> Response:
        """One model."""
        return _json((await call(s.registry.get_model, ident)).to_dict())

    @app.post("/models", tags=["models"], status_code=201)
    async def add_model(
        s: Writer,
        file: Annotated[UploadFile, File(description="the .tflite model")],
        card: Annotated[UploadFile | None, File(description="its card, YAML or JSON")] = None,
        ident: Annotated[str | None, Form(alias="id")] = None,
        replace: bool = False,
    ) -> Response:
        """Register a .tflite with its card: parsed, arena measured by TFLM, validated.

        The id is a slug (lowercase letters, digits, ``-``, ``.``, ``_``); a model with
        the same id is replaced only with ``replace=true`` (else 409).
        """
        data = await file.read()
        stem = PurePath(file.filename or "model.tflite").stem or "model"
        model_card: ModelCard
        if card is not None:
            label = card.filename or "<card>"
            text = await card.read()
            try:
                mapping = yaml.safe_load(text)
            except (yaml.YAMLError, UnicodeDecodeError, RecursionError, ValueError) as exc:
                raise CardError(label, None, f"not YAML or JSON: {exc}") from exc
            if not isinstance(mapping, dict):
                raise CardError(label, None, "a card must be a mapping")
            model_card = card_from_mapping(mapping, label)
        else:
            model_card = ModelCard(name=stem)
        name = ident or model_card.id or slugify(stem)
        record = await call(s.registry.add_model, data, model_card, ident=name, replace=replace)
        return _json(record.to_dict(), 201, Location=f"/models/{record.id}")

    @app.delete("/models/{ident}", tags=["models"], status_code=204)
    async def delete_model(ident: str, s: Writer) -> Response:
        """Delete a model."""
        await call(s.registry.delete_model, ident)
        return Response(status_code=204)

    # -------------------------------------------------------------- matching

    @readable("/match/devices", tags=["match"])
    async def match_devices(
        s: Reader,
        model: Annotated[str, Query(min_length=1)],
        all_verdicts: bool = False,
        max_latency_ms: Annotated[float | None, Query(gt=0)] = None,
        limit: Annotated[int | None, Query(ge=1, le=100_000)] = None,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> Response:
        """Devices that can run a model, best first (``Match.to_dict()`` objects).

        ``offset`` and ``limit`` choose a page of the ranking; ``X-Total-Count`` gives the
        number of matches.
        """
        found = await call(
            s.matchmaker.devices_for,
            model,
            all_verdicts=all_verdicts,
            max_latency_ms=max_latency_ms,
        )
        return await _match_page(found, offset, limit)

    @readable("/match/models", tags=["match"])
    async def match_models(
        s: Reader,
        device: Annotated[str, Query(min_length=1)],
        task: str | None = None,
        min_metric: float | None = None,
        max_latency_ms: Annotated[float | None, Query(gt=0)] = None,
        text: str | None = None,
        dataset: str | None = None,
        all_verdicts: bool = False,
        limit: Annotated[int | None, Query(ge=1, le=100_000)] = None,
        order: Annotated[str, Query(pattern="^(rank|metric)$")] = "rank",
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> Response:
        """Models that fit a device, best first (``Match.to_dict()`` objects).

        ``offset`` and ``limit`` choose a page of the ranking; ``X-Total-Count`` gives the
        number of matches.
        """
        found = await call(
            s.matchmaker.models_for,
            device,
            task=task,
            min_metric=min_metric,
            max_latency_ms=max_latency_ms,
            text=text,
            dataset=dataset,
            all_verdicts=all_verdicts,
            order=order,
        )
        return await _match_page(found, offset, limit)

    @readable("/match/explain", tags=["match"])
    async def match_explain(
        s: Reader,
        model: Annotated[str, Query(min_length=1)],
        device: Annotated[str, Query(min_length=1)],
    ) -> Response:
        """The verdict on one pair, constraint by constraint, with ``text`` as printed."""
        match = await call(s.matchmaker.explain, model, device)
        return _json({**match.to_dict(), "text": match.explain()})

    # -------------------------------------------------------------- reports

    @readable(
        "/reports/latest",
        tags=["reports"],
        responses=_ok("text/html", "application/json", "text/markdown"),
    )
    async def latest_report(request: Request, s: Reader, refresh: bool = False) -> Response:
        """The report of the graph: HTML, or by ``Accept`` its figures (JSON) or Markdown.

        The report is written again after a write, after ``report_max_age_s``, or on
        ``refresh`` with the token (an anonymous ``refresh`` gets the cached report).
        """
        refresh = refresh and _token_ok(request)  # anonymous: the cached report
        report = await call(s.reports.latest, s.writes, refresh=refresh)
        accept = request.headers.get("accept", "")
        headers = {"Last-Modified": format_datetime(report.generated_at, usegmt=True)}
        headers["ETag"] = f'"{report.etag}"'
        if "text/html" not in accept and "application/json" in accept:
            return Response(report.json, media_type="application/json", headers=headers)
        if "text/html" not in accept and "text/markdown" in accept:
            return Response(report.markdown, media_type="text/markdown", headers=headers)
        return Response(report.html, media_type="text/html; charset=utf-8", headers=headers)

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


async def _purge_loop(state: _State) -> None:
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
