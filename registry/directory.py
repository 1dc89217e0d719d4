"""A W3C WoT Thing Description Directory over the registry.

The directory keeps Thing Descriptions (TD 1.1) with their registration
information (created, modified, time to live, expiry), serves them back in id order a
page at a time, and purges expired ones. Every TD written is checked against the W3C TD
1.1 JSON Schema (when a schema is given) and against tinyreg's SHACL shapes. A TD that
declares tinyreg's ``Device`` type or uses its device members (``mcu``, ``ram``,
``flash``, ``runtime``, ``sensors``) is a device, and must pass the device shapes; any
other TD (a lamp, a thermostat) is kept as a plain ``td:Thing``, served, paged and
searched like a device but never matched as one. A refused TD raises
:class:`~tinyreg.core.errors.TDValidationError` naming each offending field, and leaves
the store as it was.

The registration information lives in the Thing's own named graph (W3C WoT Discovery
terms), so writing a TD and its registration is one transaction, and paging, counting and
expiry are SPARQL queries run by the store (``registry/queries/directory_*.rq``).

>>> from tinyreg.registry import Registry
>>> with Registry.open(in_memory=True) as reg:
...     Directory(reg).page(limit=10).things
[]
"""

from __future__ import annotations

import copy
import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rdflib import RDF, BNode, Graph, Literal, URIRef
from rdflib.namespace import XSD

from tinyreg.core.errors import (
    ConfigError,
    FieldError,
    InputError,
    NotFoundError,
    TDValidationError,
    ThingDescriptionError,
    ValidationError,
)
from tinyreg.core.namespaces import DISCOVERY
from tinyreg.core.queries import load_query, values_block
from tinyreg.registry.catalogue import Catalogue
from tinyreg.registry.td import json_pointer

__all__ = [
    "Directory",
    "Page",
    "Registration",
    "TDSchema",
    "Thing",
    "apply_merge_patch",
    "merge_diff",
]

MAX_PAGE = 10_000
STATE_GRAPH = "urn:tinyreg:directory"
_MESSAGE_LIMIT = 300


def _now() -> datetime:
    return datetime.now(UTC)


def _lexical(moment: datetime) -> str:
    """An aware datetime as an ``xsd:dateTime`` lexical form in UTC (``...Z``)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_time(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _date_literal(moment: datetime) -> Literal:
    return Literal(_lexical(moment), datatype=XSD.dateTime)


@dataclass(frozen=True)
class Registration:
    """Registration information the directory keeps with a TD.

    Attributes:
        created: When the TD was first registered.
        modified: When it was last written.
        ttl: Seconds the registration lives after ``modified``, or ``None`` for ever.
        expires: When it expires (``modified + ttl``), or ``None``.

    """

    created: datetime
    modified: datetime
    ttl: int | None = None
    expires: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """The ``registration`` member of a TD served by the directory."""
        data: dict[str, Any] = {
            "created": _lexical(self.created),
            "modified": _lexical(self.modified),
        }
        if self.ttl is not None:
            data["ttl"] = self.ttl
        if self.expires is not None:
            data["expires"] = _lexical(self.expires)
        return data


@dataclass(frozen=True)
class Thing:
    """A Thing Description held by the directory.

    Attributes:
        id: The TD's ``id``.
        td: The TD as registered (without ``registration``).
        registration: Its registration information, or ``None`` for a TD registered by
            another path (``tinyreg add device``), which has none.

    """

    id: str
    td: dict[str, Any]
    registration: Registration | None

    def document(self) -> dict[str, Any]:
        """The TD as the directory serves it: with its ``registration`` member."""
        document = dict(self.td)
        if self.registration is not None:
            document["registration"] = self.registration.to_dict()
        return document


@dataclass(frozen=True)
class Page:
    """One page of the directory, in id order.

    Attributes:
        things: The TDs of the page.
        offset: Position of the first one.
        limit: The page size asked for.
        etag: The entity tag of the whole collection when the page was read.
        more: Whether TDs follow this page.
        total: How many TDs the whole collection holds.

    """

    things: list[Thing]
    offset: int
    limit: int
    etag: str
    more: bool
    total: int


class TDSchema:
    """The W3C TD 1.1 JSON Schema, as a validator.

    Args:
        schema: The schema document (JSON Schema draft-07).

    """

    def __init__(self, schema: dict[str, Any]) -> None:
        from jsonschema import Draft7Validator

        Draft7Validator.check_schema(schema)
        self.schema = schema
        self.title = str(schema.get("title", "Thing Description"))
        self.version = str(schema.get("version", ""))
        self._validator = Draft7Validator(schema)

    @classmethod
    def load(cls, path: Path) -> TDSchema:
        """Read the schema from a file.

        Raises:
            ConfigError: If the file is missing or not a JSON Schema.

        """
        try:
            document = json.loads(path.read_text("utf-8"))
        except OSError as exc:
            raise ConfigError(
                f"TD JSON Schema {path}: cannot read it ({exc.strerror}). A plain pip install "
                "does not bring it: `bash scripts/setup.sh` installs it from a checkout; or save "
                "the W3C TD 1.1 validation schema (td-json-schema-validation.json) and give it "
                "with TINYREG_TD_SCHEMA=FILE; or set TINYREG_VALIDATE_TD_SCHEMA=false to check "
                "TDs with the SHACL shapes alone"
            ) from exc
        except json.JSONDecodeError as exc:
            raise ConfigError(f"TD JSON Schema {path}: not JSON: {exc}") from exc
        try:
            return cls(document)
        except Exception as exc:
            raise ConfigError(f"TD JSON Schema {path}: not a valid JSON Schema: {exc}") from exc

    def errors(self, td: dict[str, Any]) -> list[FieldError]:
        """Every way the TD departs from the schema, each at a JSON pointer.

        >>> TDSchema({"type": "object", "required": ["title"]}).errors({})
        [FieldError(field='/', description="'title' is a required property")]
        """
        found = []
        for error in sorted(self._validator.iter_errors(td), key=lambda e: list(e.absolute_path)):
            pointer = "/" + "/".join(str(p) for p in error.absolute_path)
            message = error.message
            if len(message) > _MESSAGE_LIMIT:
                message = message[: _MESSAGE_LIMIT - 3] + "..."
            found.append(FieldError(pointer, message))
        return found


def apply_merge_patch(target: Any, patch: Any) -> Any:
    """Apply a JSON Merge Patch (RFC 7396) and return the result; inputs are not changed.

    >>> apply_merge_patch({"a": 1, "b": {"c": 2}}, {"b": {"c": None, "d": 3}})
    {'a': 1, 'b': {'d': 3}}
    """
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = apply_merge_patch(result.get(key), value)
    return result


def merge_diff(old: Any, new: Any) -> Any:
    """The JSON Merge Patch that turns ``old`` into ``new``.

    >>> merge_diff({"a": 1, "b": 2}, {"a": 1, "c": 3})
    {'b': None, 'c': 3}
    """
    if not isinstance(old, dict) or not isinstance(new, dict):
        return copy.deepcopy(new)
    patch: dict[str, Any] = {}
    for key in old:
        if key not in new:
            patch[key] = None
    for key, value in new.items():
        if key not in old:
            patch[key] = copy.deepcopy(value)
        elif old[key] != value:
            patch[key] = merge_diff(old[key], value)
    return patch


class Directory:
    """The Thing Description Directory over a :class:`~tinyreg.registry.Registry`.

    Args:
        registry: The registry whose store holds the TDs.
        schema: The TD 1.1 JSON Schema every TD written must pass; ``None`` checks the
            SHACL shapes only.
        default_ttl: Seconds a registration lives when the TD does not ask for a
            ``registration.ttl``; ``None`` keeps it until it is deleted.
        clock: Returns the current time (aware); for tests of expiry.

    """

    def __init__(
        self,
        registry: Catalogue,
        schema: TDSchema | None = None,
        *,
        default_ttl: int | None = None,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.registry = registry
        self.schema = schema
        self.default_ttl = default_ttl
        self.clock = clock
        self._order: tuple[str, list[str]] | None = None

    # ------------------------------------------------------------------ reads

    def _thing(self, row: dict[str, Any]) -> Thing:
        td: dict[str, Any] = json.loads(row["doc"])
        registration = None
        if "created" in row and "modified" in row:
            registration = Registration(
                created=_parse_time(row["created"]),
                modified=_parse_time(row["modified"]),
                ttl=int(row["ttl"]) if "ttl" in row else None,
                expires=_parse_time(row["expires"]) if "expires" in row else None,
            )
        return Thing(str(row["device"]), td, registration)

    def find(self, ident: str) -> Thing | None:
        """The TD with this id, or ``None`` (also when its registration has expired)."""
        if not _is_iri(ident):
            return None
        rows = self.registry.store.select_values(
            load_query("tinyreg.registry", "directory_thing"), {"device": URIRef(ident)}
        )
        if not rows:
            return None
        thing = self._thing(rows[0])
        reg = thing.registration
        if reg is not None and reg.expires is not None and reg.expires <= self.clock():
            return None
        return thing

    def get(self, ident: str) -> Thing:
        """The TD with this id.

        Raises:
            NotFoundError: If the directory has no (unexpired) TD with that id.

        """
        thing = self.find(ident)
        if thing is None:
            raise NotFoundError("thing", ident)
        return thing

    def page(self, limit: int = 100, offset: int = 0) -> Page:
        """TDs in id order, ``limit`` of them from ``offset``; expired ones left out.

        The order of ids is kept per collection version (its entity tag): after a write,
        the next page reads the ids again (one query) and sorts them; the page's TDs are
        then read by one query bound to the page's ids. Oxigraph's ``ORDER BY`` over
        every id costs 30 µs an id (310 ms at 10,000 TDs, against 28 ms for reading and
        sorting the ids), so the store does not sort the whole collection on each page.

        Raises:
            InputError: If ``limit`` is not in 1..10,000 or ``offset`` is negative.

        """
        if not 1 <= limit <= MAX_PAGE or offset < 0:
            raise InputError(f"limit must be in 1..{MAX_PAGE} and offset >= 0")
        etag, expired = self._state()
        order = self._order
        if order is None or order[0] != etag:
            rows = self.registry.store.select_values(
                load_query("tinyreg.registry", "directory_ids")
            )
            ids = sorted({str(row["device"]) for row in rows} - set(expired))
            order = (etag, ids)
            self._order = order
        chosen = order[1][offset : offset + limit]
        things: list[Thing] = []
        if chosen:
            values = values_block("device", map(URIRef, chosen))
            sparql = load_query("tinyreg.registry", "directory_page").replace("#PAGE#", values, 1)
            found: dict[str, dict[str, Any]] = {}
            fields = {
                str(DISCOVERY.dateCreated): "created",
                str(DISCOVERY.dateModified): "modified",
                str(DISCOVERY.expires): "expires",
                str(DISCOVERY.ttl): "ttl",
            }
            for row in self.registry.store.select_values(sparql):
                entry = found.setdefault(str(row["device"]), {"device": row["device"]})
                if "doc" in row:
                    entry["doc"] = row["doc"]
                elif str(row.get("p")) in fields:
                    entry[fields[str(row["p"])]] = row["o"]
            things = [self._thing(found[i]) for i in chosen if "doc" in found.get(i, {})]
        return Page(things, offset, limit, etag, offset + limit < len(order[1]), len(order[1]))

    def _state(self) -> tuple[str, list[str]]:
        rows = self.registry.store.select_values(
            load_query("tinyreg.registry", "directory_state"), {"directory": URIRef(STATE_GRAPH)}
        )
        expired = [
            str(row["device"])
            for row in self.registry.store.select_values(
                load_query("tinyreg.registry", "directory_expired"),
                {"now": _date_literal(self.clock())},
            )
        ]
        row = rows[0] if rows else {}
        state = f"{row.get('count', 0)}|{row.get('written', '')}|{'|'.join(expired)}"
        return hashlib.sha256(state.encode()).hexdigest()[:32], expired

    def next_expiry(self) -> datetime | None:
        """When the next registration expires (the earliest expiry still to come), or ``None``.

        Until then, and as long as nothing is written, every read of the directory gives
        the same answer: caches of pages use it as their end of validity.
        """
        rows = self.registry.store.select_values(
            load_query("tinyreg.registry", "directory_next_expiry"),
            {"now": _date_literal(self.clock())},
        )
        value = rows[0].get("next") if rows else None
        if value is None:
            return None
        return value if isinstance(value, datetime) else _parse_time(str(value))

    def etag(self) -> str:
        """An entity tag of the collection: it changes with every write or expiry.

        Made of the number of TDs in the store, the time of the directory's last write
        (kept in its own graph, written in the same transaction as each TD) and the ids
        of expired TDs not yet purged. A device registered or deleted by another path
        (``tinyreg add device``, ``tinyreg delete``) changes the count; replacing one that
        way does not change the tag.
        """
        return self._state()[0]

    # ------------------------------------------------------------------ writes

    def validate(self, td: dict[str, Any]) -> tuple[str, dict[str, Graph]]:
        """Check a TD against the JSON Schema and the shapes, and build its graphs.

        A device TD (see :meth:`~tinyreg.registry.Registry.describe_thing`) must also
        pass the device shapes; any other TD is kept as a plain ``td:Thing``.

        Returns:
            The TD's id and the graphs to write.

        Raises:
            TDValidationError: With every error found, each naming the field.

        """
        subject = str(td.get("id") or "<anonymous TD>")
        if self.schema is not None:
            errors = self.schema.errors(td)
            if errors:
                raise TDValidationError(subject, errors)
        try:
            described = self.registry.describe_thing(td)
        except ThingDescriptionError as exc:
            field = exc.field if exc.field else "/"
            pointer = field if field.startswith("/") else "/" + field
            raise TDValidationError(subject, [FieldError(pointer, exc.detail)]) from exc
        except ValidationError as exc:
            # one form for every field: a JSON pointer into the submitted TD; the SHACL
            # path (or focus node) stays in the description
            errors = [
                FieldError(
                    json_pointer(td, v.steps) if v.root == td.get("id") else "/",
                    f"{v.path or v.focus}: {v.message}"
                    + (f" (value: {v.value})" if v.value else ""),
                )
                for v in exc.violations
            ]
            raise TDValidationError(subject, errors) from exc
        return described.iri, described.graphs

    def _ttl(self, td: dict[str, Any]) -> int | None:
        registration = td.get("registration")
        if isinstance(registration, dict) and "ttl" in registration:
            ttl = registration["ttl"]
            if isinstance(ttl, bool) or not isinstance(ttl, int | float) or ttl <= 0:
                raise TDValidationError(
                    str(td.get("id") or "<anonymous TD>"),
                    [FieldError("/registration/ttl", "must be a number of seconds > 0")],
                )
            return int(ttl)
        return self.default_ttl

    def put(self, td: dict[str, Any], ident: str | None = None) -> tuple[Thing, Thing | None]:
        """Create or replace a TD (``PUT /things/{id}``).

        Args:
            td: The TD; its ``registration`` member is read for ``ttl`` only and the
                directory writes its own.
            ident: The id the TD is written under; the TD's ``id`` must equal it (it is
                set when the TD has none).

        Returns:
            The TD as stored, and the TD it replaced (``None`` when it was created).

        Raises:
            TDValidationError: If the TD is refused; the store is unchanged.

        """
        if not isinstance(td, dict):
            raise TDValidationError("<document>", [FieldError("/", "a TD must be a JSON object")])
        td = dict(td)
        if ident is not None:
            if "id" not in td:
                td["id"] = ident
            elif td["id"] != ident:
                raise TDValidationError(
                    ident, [FieldError("/id", f"{td['id']!r} differs from the id in the URL")]
                )
        ttl = self._ttl(td)
        td.pop("registration", None)
        iri, graphs = self.validate(td)
        previous = self.find(iri)
        now = self.clock()
        created = (
            previous.registration.created
            if previous is not None and previous.registration is not None
            else now
        )
        registration = Registration(
            created=created,
            modified=now,
            ttl=ttl,
            expires=now + timedelta(seconds=ttl) if ttl is not None else None,
        )
        _add_registration(graphs[iri], URIRef(iri), registration)
        self.registry.write_device_graphs({**graphs, STATE_GRAPH: _state_graph(now)})
        return Thing(iri, td, registration), previous

    def create(self, td: dict[str, Any]) -> Thing:
        """Register an anonymous TD (``POST /things``) under a new ``urn:uuid`` id.

        Raises:
            TDValidationError: If the TD has an ``id`` or is refused.

        """
        if not isinstance(td, dict):
            raise TDValidationError("<document>", [FieldError("/", "a TD must be a JSON object")])
        if "id" in td:
            raise TDValidationError(
                str(td["id"]),
                [
                    FieldError(
                        "/id",
                        f"POST /things registers a TD without an id, and this one has the "
                        f"id {str(td['id'])[:200]!r}: register it under that id with "
                        'PUT /things/{id}, or leave out "id" to get a new urn:uuid id',
                    )
                ],
            )
        thing, _ = self.put({**td, "id": f"urn:uuid:{uuid.uuid4()}"})
        return thing

    def patch(self, ident: str, patch: dict[str, Any]) -> tuple[Thing, Thing]:
        """Apply a JSON Merge Patch to a TD and validate the result.

        Returns:
            The TD as stored and the TD before the patch.

        Raises:
            NotFoundError: If there is no such TD.
            TDValidationError: If the patched TD is refused (store unchanged).

        """
        previous = self.get(ident)
        if not isinstance(patch, dict):
            raise TDValidationError(ident, [FieldError("/", "a merge patch must be an object")])
        patched = apply_merge_patch(previous.td, patch)
        if patched.get("id") != ident:
            raise TDValidationError(ident, [FieldError("/id", "a patch cannot change the id")])
        kept = previous.registration
        if "registration" not in patched and kept is not None and kept.ttl is not None:
            patched["registration"] = {"ttl": kept.ttl}
        thing, _ = self.put(patched, ident)
        return thing, previous

    def delete(self, ident: str) -> Thing:
        """Delete a TD and all said of it; returns it as it was.

        Raises:
            NotFoundError: If there is no such TD.

        """
        thing = self.get(ident)
        self.registry.store.replace_graphs(
            {thing.id: Graph(), STATE_GRAPH: _state_graph(self.clock())}
        )
        return thing

    def purge_expired(self) -> list[str]:
        """Delete every TD whose registration has expired; returns their ids."""
        rows = self.registry.store.select_values(
            load_query("tinyreg.registry", "directory_expired"),
            {"now": _date_literal(self.clock())},
        )
        purged = [str(row["device"]) for row in rows]
        if purged:
            graphs = {ident: Graph() for ident in purged}
            self.registry.store.replace_graphs({**graphs, STATE_GRAPH: _state_graph(self.clock())})
        return purged


def _is_iri(text: str) -> bool:
    return ":" in text and not any(c in text for c in '<>"{}|^`\\ \n\t')


def _state_graph(moment: datetime) -> Graph:
    """The directory's own graph: when it last wrote (part of the collection's etag)."""
    graph = Graph()
    graph.add((URIRef(STATE_GRAPH), DISCOVERY.dateModified, _date_literal(moment)))
    return graph


def _add_registration(graph: Graph, device: URIRef, registration: Registration) -> None:
    node = BNode()
    graph.add((device, DISCOVERY.hasRegistrationInformation, node))
    graph.add((node, RDF.type, DISCOVERY.RegistrationInformation))
    graph.add((node, DISCOVERY.dateCreated, _date_literal(registration.created)))
    graph.add((node, DISCOVERY.dateModified, _date_literal(registration.modified)))
    if registration.ttl is not None:
        graph.add((node, DISCOVERY.ttl, Literal(registration.ttl, datatype=XSD.integer)))
    if registration.expires is not None:
        graph.add((node, DISCOVERY.expires, _date_literal(registration.expires)))
