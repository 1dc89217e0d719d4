"""The records ``tinyreg list`` and ``show`` print, built from query rows of plain values.

:class:`ModelRecord` and :class:`DeviceRecord` are what the catalogue answers for a model
and a device. They are built here, from the rows of the packaged queries ``models``,
``model_lists``, ``devices`` and ``device_sensors`` with every term already a plain
Python value (IRIs as text, literals as rdflib's ``toPython`` gives them), by both read
paths: the catalogue over any graph store (:mod:`tinyreg.registry.catalogue`) and the
command line's light reader of an embedded store (:mod:`tinyreg.registry.reader`). One
builder keeps their answers identical.

>>> _local("https://w3id.org/tinyreg#PDMMicrophone")
'PDMMicrophone'
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from tinyreg.core.errors import AmbiguousIdError, NotFoundError
from tinyreg.core.iris import DEVICE_PREFIX, MODEL_PREFIX, TR_IRI

__all__ = [
    "DeviceRecord",
    "ModelRecord",
    "device_details",
    "device_records",
    "iri_like",
    "locate_id",
    "model_records",
    "model_tensors",
    "resolve_id",
]

Row = Mapping[str, Any]
"""One query row: variable names to plain values; unbound variables absent."""


def _local(iri: Any) -> str | None:
    if iri is None:
        return None
    text = str(iri)
    return text.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def _model_id_of(iri: str) -> str:
    return iri[len(MODEL_PREFIX) :] if iri.startswith(MODEL_PREFIX) else iri


def _version_number(recorded: Any, card: Any) -> int:
    """A model's version number: the version record's, else the card's, else 1.

    >>> _version_number(None, "3"), _version_number(None, "2.1"), _version_number(2, None)
    (3, 1, 2)
    """
    for value in (recorded, card):
        text = str(value).strip() if value is not None else ""
        if text.isdigit() and int(text) >= 1:
            return int(text)
    return 1


_TASKS = {
    "Classification": "classification",
    "ObjectDetection": "object-detection",
    "FeatureExtraction": "feature-extraction",
    "AnomalyDetection": "anomaly-detection",
    "Regression": "regression",
    "Unsupervised": "unsupervised",
    "OtherTask": "other",
}
_MODALITIES = {
    "Audio": "audio",
    "Image": "image",
    "Motion": "motion",
    "Vibration": "vibration",
    "Environmental": "environmental",
    "TimeSeries": "time-series",
    "OtherModality": "other",
}


def _task_slug(iri: str | None) -> str | None:
    return _TASKS.get(_local(iri) or "") if iri else None


def _modality_slug(iri: str | None) -> str | None:
    return _MODALITIES.get(_local(iri) or "") if iri else None


@dataclass(frozen=True)
class ModelRecord:
    """What the registry knows of a model (one row of ``tinyreg list models``).

    Attributes:
        id: The model id (a slug); its IRI is ``https://w3id.org/tinyreg/model/<id>``.
        iri: The model's IRI.
        name: The card's name.
        arena_bytes: Minimal tensor arena the TFLM runtime accepts, or ``None`` if it
            refuses the model.
        flash_bytes: Flash the model itself occupies (the flatbuffer).
        macs: Multiply-accumulates of one inference.
        runnable: Whether the TFLM runtime accepts the model (builds it at its arena).
        reason: Why not, in the runtime's words (``None`` when runnable).
        inference_checked: Whether the assessment also ran one inference with all-zero
            inputs (``add_model(..., infer=True)``), so that ``runnable`` says it runs.
        family: The model family (``docs/loop.md``): its version record's, else the id.
        version: The version number: its version record's, else the card's ``version``
            when that is a whole number, else 1.

    """

    id: str
    iri: str
    name: str
    arena_bytes: int | None
    flash_bytes: int
    macs: int
    runnable: bool
    reason: str | None
    model_bytes: int
    parameters: int
    quantization: str | None
    task: str | None
    input_modality: str | None
    required_sensors: list[str]
    operators: list[dict[str, Any]]
    recorded_arena_bytes: int | None
    arena_bytes_32bit_estimate: int | None
    runtime: str | None
    metric: dict[str, Any] | None
    dataset: str | None
    creator: str | None
    description: str | None
    sha256: str
    family: str = ""
    version: int = 1
    inference_checked: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-ready data (the documented public keys come first)."""
        return asdict(self)


@dataclass(frozen=True)
class DeviceRecord:
    """What the registry knows of a device (one row of ``tinyreg list devices``).

    Attributes:
        id: The TD's id, e.g. ``urn:tinyreg:device:arduino-nano-33-ble-sense``.
        title: The TD's title.
        ram_bytes: Total RAM.
        flash_bytes: Total flash.
        sensors: Sensor types (ontology class names), one per sensor.

    """

    id: str
    title: str
    ram_bytes: int
    flash_bytes: int
    sensors: list[str]
    reserved_ram_bytes: int
    reserved_flash_bytes: int
    core: str
    core_family: str | None
    clock_hz: int
    fpu: bool
    dsp: bool
    runtime: str | None
    runtime_version: str | None
    manufacturer: str | None
    description: str | None
    sensor_parts: list[str]

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-ready data."""
        return asdict(self)


def model_records(rows: Iterable[Row], lists: Iterable[Row]) -> list[ModelRecord]:
    """Models from the rows of ``models.rq`` and ``model_lists.rq``, in the rows' order."""
    sensors: dict[str, list[str]] = {}
    operators: dict[str, list[dict[str, Any]]] = {}
    for row in lists:
        model = str(row["model"])
        if "sensor" in row:
            sensors.setdefault(model, []).append(_local(row["sensor"]) or "")
        if "operator" in row:
            operators.setdefault(model, []).append(
                {"name": str(row["operator"]), "version": row.get("version")}
            )
    records = []
    for value in rows:
        iri = str(value["model"])
        records.append(
            ModelRecord(
                id=_model_id_of(iri),
                iri=iri,
                name=value["name"],
                arena_bytes=value.get("arena"),
                flash_bytes=value["flashBytes"],
                macs=value["macs"],
                runnable=bool(value.get("runnable", False)),
                reason=value.get("reason"),
                model_bytes=value["modelBytes"],
                parameters=value["parameters"],
                quantization=value.get("quantization"),
                task=_task_slug(value.get("task")),
                input_modality=_modality_slug(value.get("modality")),
                required_sensors=sorted(sensors.get(iri, [])),
                operators=operators.get(iri, []),
                recorded_arena_bytes=value.get("recorded"),
                arena_bytes_32bit_estimate=value.get("arena32"),
                runtime=value.get("runtime"),
                metric=(
                    {"name": value["metricName"], "value": value["metricValue"]}
                    if "metricName" in value
                    else None
                ),
                dataset=value.get("dataset"),
                creator=value.get("creator"),
                description=value.get("description"),
                sha256=value["sha256"],
                family=str(value.get("family") or _model_id_of(iri)),
                version=_version_number(value.get("versionNumber"), value.get("cardVersion")),
                inference_checked=bool(value.get("inferred", False)),
            )
        )
    return records


def device_records(rows: Iterable[Row], sensor_rows: Iterable[Row]) -> list[DeviceRecord]:
    """Devices from the rows of ``devices.rq`` and ``device_sensors.rq``, in the rows' order."""
    sensors: dict[str, list[tuple[str, str | None]]] = {}
    for row in sensor_rows:
        sensors.setdefault(str(row["device"]), []).append(
            (_local(row["type"]) or "", row.get("part"))
        )
    records = []
    for value in rows:
        iri = str(value["device"])
        mine = sorted(sensors.get(iri, []), key=lambda s: (s[0], s[1] or ""))
        records.append(
            DeviceRecord(
                id=iri,
                title=value["title"],
                ram_bytes=value["ram"],
                flash_bytes=value["flash"],
                sensors=[s[0] for s in mine],
                reserved_ram_bytes=value.get("ramReserved", 0),
                reserved_flash_bytes=value.get("flashReserved", 0),
                core=value["core"],
                core_family=value.get("coreFamily"),
                clock_hz=value["clock"],
                fpu=bool(value["fpu"]),
                dsp=bool(value["dsp"]),
                runtime=value.get("runtimeName"),
                runtime_version=value.get("runtimeVersion"),
                manufacturer=value.get("manufacturer"),
                description=value.get("description"),
                sensor_parts=[s[1] or "" for s in mine],
            )
        )
    return records


def model_tensors(rows: Iterable[Row]) -> dict[str, list[dict[str, Any]]]:
    """A model's input and output tensors from the rows of ``model_tensors.rq``."""
    tensors: dict[str, list[dict[str, Any]]] = {"input": [], "output": []}
    for value in rows:
        shape = str(value["shape"])
        tensor: dict[str, Any] = {
            "index": value["index"],
            "name": value.get("name"),
            "dtype": value["dtype"],
            "shape": [int(d) for d in shape.split(",")] if shape else [],
            "quantization": value.get("scheme"),
        }
        if value.get("scheme") == "per-tensor":
            tensor["scale"] = value.get("scale")
            tensor["zero_point"] = value.get("zeroPoint")
        elif value.get("scheme") is not None:
            tensor["channels"] = value.get("channels")
            tensor["quantized_dimension"] = value.get("dimension")
        tensors[str(value["role"])].append(tensor)
    return tensors


def device_details(
    record: DeviceRecord, sensors: Iterable[Row], operators: Iterable[Row]
) -> dict[str, Any]:
    """What ``tinyreg show`` prints of a device: its record, sensors and firmware operators.

    ``sensors`` are the device's rows of ``device_sensors.rq``, ``operators`` those of
    ``device_operators.rq``.
    """
    operator_rows = list(operators)
    return {
        **record.to_dict(),
        "sensor_list": [{"type": _local(row["type"]), "part": row.get("part")} for row in sensors],
        "firmware_operators": sorted({_local(row["operator"]) or "" for row in operator_rows}),
        "firmware_operators_declared": any(bool(row["declared"]) for row in operator_rows),
    }


def iri_like(text: str) -> bool:
    """Whether text can be an IRI: a colon, no character IRIs exclude, no control character.

    >>> iri_like("urn:tinyreg:device:x"), iri_like("hello world")
    (True, False)
    """
    return ":" in text and not any(c in text for c in '<>"{}|^`\\ ') and text.isprintable()


def resolve_id(
    kind: str,
    ident: str,
    is_a: Callable[[str, str], bool],
    named: Callable[[str, str], Iterable[str]],
) -> str:
    """Turn what a user typed (IRI, id, short id or name) into a resource IRI.

    The one resolution rule of every read path: ``ident`` itself, then the kind's prefix
    plus ``ident`` when it is an IRI of a resource of the kind, else the one resource of
    the kind whose name or title is ``ident`` (in any case).

    Args:
        kind: ``"model"`` or ``"device"``.
        ident: What the user typed.
        is_a: Whether an IRI is a resource of a class (``tr:Model``, ``tr:Device``).
        named: The IRIs of resources of a class named or titled by a text.

    Raises:
        NotFoundError: If nothing matches.
        AmbiguousIdError: If a name matches several resources.

    """
    prefix = MODEL_PREFIX if kind == "model" else DEVICE_PREFIX
    cls = TR_IRI + ("Model" if kind == "model" else "Device")
    for candidate in (ident, prefix + ident):
        if iri_like(candidate) and is_a(candidate, cls):
            return candidate
    found = sorted(set(named(cls, ident.strip())))
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise AmbiguousIdError(kind, ident, found)
    raise NotFoundError(kind, ident)


def locate_id(ident: str, kind: str | None, resolve: Callable[[str, str], str]) -> str:
    """Resolve an id or name that may denote a model or a device (``kind`` restricts it).

    Raises:
        NotFoundError: If nothing matches.
        AmbiguousIdError: If it matches both a model and a device.

    """
    kinds = [kind] if kind else ["model", "device"]
    found: list[str] = []
    for k in kinds:
        try:
            found.append(resolve(k, ident))
        except NotFoundError:
            continue
    if not found:
        raise NotFoundError(kind or "model or device", ident)
    if len(found) > 1:
        raise AmbiguousIdError(kind or "resource", ident, found)
    return found[0]
