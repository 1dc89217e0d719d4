"""Deployment records: which model version went to which device, when, by whom, and how.

Every over-the-air deployment is one PROV-O activity (a ``tr:Deployment``) in its own named
graph ``urn:tinyreg:deployment:<id>``, written in one transaction. The device's graph is
never modified: what runs where is the latest committed deployment of each device
(``registry/queries/deployments_running.rq``).

>>> from datetime import UTC, datetime
>>> when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
>>> record = DeploymentRecord("ab" * 16, "hello-world", "1.0", "urn:tinyreg:device:x", "ops",
...     when, when, "committed", None, 120.5, 3.25, 0.5, 1936)
>>> iri, graph = deployment_graph(record)
>>> str(iri)
'urn:tinyreg:deployment:abababababababababababababababab'
>>> record_from_row(graph_rows(iri, graph)[0]) == record
True
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from rdflib import RDF, Dataset, Graph, Literal, URIRef
from rdflib.namespace import PROV, RDFS, XSD
from rdflib.term import Node

from tinyreg.core.errors import InputError
from tinyreg.core.namespaces import MODEL_PREFIX, TR
from tinyreg.core.queries import load_query
from tinyreg.core.stores import GraphStore

__all__ = [
    "AGENT_PREFIX",
    "DEPLOYMENT_PREFIX",
    "OUTCOMES",
    "DeploymentRecord",
    "deployment_graph",
    "graph_rows",
    "list_deployments",
    "new_deployment_id",
    "record_deployment",
    "record_from_row",
    "running",
]

DEPLOYMENT_PREFIX = "urn:tinyreg:deployment:"
AGENT_PREFIX = "urn:tinyreg:agent:"
OUTCOMES = ("committed", "rolled_back", "refused", "failed")


@dataclass(frozen=True)
class DeploymentRecord:
    """One deployment of a model version to a device.

    Attributes:
        id: A uuid4 hex; the graph IRI is ``urn:tinyreg:deployment:<id>``.
        model: The model id (slug, as ``Registry.list_models()`` gives it).
        model_version: The version sent (from the signed manifest).
        device: The device id (as ``Registry.list_devices()`` gives it).
        agent: Who deployed (user or token name).
        started: When the deployment started (timezone-aware, UTC).
        ended: When it ended (timezone-aware, UTC).
        outcome: ``committed``, ``rolled_back``, ``refused`` or ``failed``.
        reason: Why, for anything but ``committed``.
        deploy_ms: Transfer start to the device's report of a verified image.
        load_ms: Interpreter construction and arena allocation on the device.
        inference_ms: Median self-test inference on the device.
        arena_used_bytes: Tensor arena the device allocated.

    """

    id: str
    model: str
    model_version: str
    device: str
    agent: str
    started: datetime
    ended: datetime
    outcome: str
    reason: str | None
    deploy_ms: float | None
    load_ms: float | None
    inference_ms: float | None
    arena_used_bytes: int | None

    @property
    def iri(self) -> str:
        """The deployment's IRI (also its graph name)."""
        return DEPLOYMENT_PREFIX + self.id

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-ready data (datetimes as ISO 8601 strings).

        ``model`` and ``device`` are the ids ``tinyreg list`` prints, with ``model_iri``
        and ``device_iri`` beside them.
        """
        data = asdict(self)
        data["started"] = self.started.isoformat()
        data["ended"] = self.ended.isoformat()
        keys = list(data)
        data["model_iri"] = str(_model_iri(self.model))
        data["device_iri"] = self.device
        order = [*keys[: keys.index("model") + 1], "model_iri"]
        order += [k for k in keys[len(order) - 1 :] if k != "model"]
        order.insert(order.index("device") + 1, "device_iri")
        return {k: data[k] for k in order}


def new_deployment_id() -> str:
    """A fresh deployment id (uuid4 hex)."""
    return uuid.uuid4().hex


def _model_iri(model: str) -> URIRef:
    return URIRef(model if model.startswith(MODEL_PREFIX) else MODEL_PREFIX + model)


def _utc(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None:
        raise InputError(f"deployment {what} time must be timezone-aware: {moment.isoformat()}")
    return moment.astimezone(UTC)


def _decimal(value: float) -> Literal:
    return Literal(Decimal(f"{value:.3f}"), datatype=XSD.decimal)


def deployment_graph(record: DeploymentRecord) -> tuple[URIRef, Graph]:
    """Describe a deployment in RDF (PROV-O and the tinyreg terms).

    Raises:
        InputError: If the outcome is unknown or a time is not timezone-aware.

    """
    if record.outcome not in OUTCOMES:
        raise InputError(f"unknown deployment outcome {record.outcome!r}; one of {OUTCOMES}")
    iri = URIRef(record.iri)
    agent = URIRef(AGENT_PREFIX + quote(record.agent, safe=""))
    g = Graph()
    g.add((iri, RDF.type, TR.Deployment))
    g.add((iri, PROV.used, _model_iri(record.model)))
    g.add((iri, TR.targetDevice, URIRef(record.device)))
    g.add((iri, TR.modelVersion, Literal(record.model_version)))
    started = _utc(record.started, "start")
    ended = _utc(record.ended, "end")
    g.add((iri, PROV.startedAtTime, Literal(started, datatype=XSD.dateTime)))
    g.add((iri, PROV.endedAtTime, Literal(ended, datatype=XSD.dateTime)))
    g.add((iri, PROV.wasAssociatedWith, agent))
    g.add((agent, RDF.type, PROV.Agent))
    g.add((agent, RDFS.label, Literal(record.agent)))
    g.add((iri, TR.outcome, Literal(record.outcome)))
    if record.reason is not None:
        g.add((iri, TR.outcomeReason, Literal(record.reason)))
    for predicate, value in (
        (TR.deployLatencyMs, record.deploy_ms),
        (TR.loadLatencyMs, record.load_ms),
        (TR.inferenceLatencyMs, record.inference_ms),
    ):
        if value is not None:
            g.add((iri, predicate, _decimal(value)))
    if record.arena_used_bytes is not None:
        g.add((iri, TR.arenaUsedBytes, Literal(record.arena_used_bytes, datatype=XSD.integer)))
    return iri, g


def graph_rows(iri: URIRef, graph: Graph) -> list[dict[str, Node]]:
    """Rows of the deployments query over one deployment's graph (for checks and doctests)."""
    dataset = Dataset()
    named = dataset.graph(iri)
    named += graph
    result = dataset.query(load_query("tinyreg.registry", "deployments"))
    return [
        {str(k): v for k, v in row.asdict().items() if v is not None}  # type: ignore[union-attr]
        for row in result
    ]


def _value(node: Node | None) -> Any:
    if node is None:
        return None
    return node.toPython() if isinstance(node, Literal) else str(node)


def _time(node: Node) -> datetime:
    value = _value(node)
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _float(node: Node | None) -> float | None:
    value = _value(node)
    return None if value is None else float(value)


def record_from_row(row: Mapping[str, Node]) -> DeploymentRecord:
    """Build a record from one row of ``deployments.rq``."""
    model = str(row["model"])
    arena = _value(row.get("arenaUsed"))
    return DeploymentRecord(
        id=str(row["deployment"]).removeprefix(DEPLOYMENT_PREFIX),
        model=model.removeprefix(MODEL_PREFIX),
        model_version=str(row["version"]),
        device=str(row["device"]),
        agent=str(row["agentLabel"]),
        started=_time(row["started"]),
        ended=_time(row["ended"]),
        outcome=str(row["outcome"]),
        reason=None if row.get("reason") is None else str(row["reason"]),
        deploy_ms=_float(row.get("deployMs")),
        load_ms=_float(row.get("loadMs")),
        inference_ms=_float(row.get("inferenceMs")),
        arena_used_bytes=None if arena is None else int(arena),
    )


def record_deployment(store: GraphStore, record: DeploymentRecord) -> str:
    """Write one deployment in its own named graph, atomically; returns its IRI."""
    iri, graph = deployment_graph(record)
    store.replace_graph(str(iri), graph)
    return str(iri)


def list_deployments(
    store: GraphStore, model: str | None = None, device: str | None = None
) -> list[DeploymentRecord]:
    """Recorded deployments, oldest first, optionally of one model and/or to one device.

    Args:
        store: The graph store.
        model: A model id or IRI.
        device: A device IRI (its TD id).

    """
    bindings: dict[str, Node] = {}
    if model is not None:
        bindings["model"] = _model_iri(model)
    if device is not None:
        bindings["device"] = URIRef(device)
    rows = store.select(load_query("tinyreg.registry", "deployments"), bindings or None)
    return [record_from_row(row) for row in rows]


def running(store: GraphStore) -> dict[str, tuple[str, str]]:
    """What runs where: device id -> (model id, version) of its latest committed deployment."""
    rows = store.select(load_query("tinyreg.registry", "deployments_running"))
    return {
        str(row["device"]): (str(row["model"]).removeprefix(MODEL_PREFIX), str(row["version"]))
        for row in rows
    }
