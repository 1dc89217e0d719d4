"""A synthetic, reproducible fleet of devices and catalogue of models for benchmarks.

The fleet is written as N-Quads in exactly the shape the registry stores (one named graph
per resource, graph name = resource IRI), ready for ``store.bulk_load(path,
rdf_format="nq")``:

* **Board types** (device profiles, default 300): variants of the 14 real boards of
  ``kg_data/devices/*.td.jsonld`` — same cores, core families, clocks, FPU/DSP — with
  RAM scaled into 64 KiB–8 MiB, flash into 256 KiB–16 MiB, other application
  reservations, 1–4 typed sensors (ontology sensor classes, favouring the template's own)
  and a runtime: mostly the release with an operator table (``tflite-micro
  0.dev20261023182759``), about 10 % firmware builds with a fixed operator set
  (``runtime.operators``) and about 10 % a release without a table
  (``tflite-micro 0.dev20250601000000``), which the matchmaker rejects. Each profile graph
  is built with :func:`tinyreg.registry.profile.profile_graph`, so it is exactly what
  ``Registry.add_device`` writes.
* **Devices** (``urn:tinyreg:device:synthetic-<i>``) pick a board type with a Zipf-like
  skew (a few popular boards, a long tail). Each device graph holds the device's own
  description (``tr:Device``, ``td:title``, MCU, RAM, flash, runtime installation, sensors;
  enough for ``Registry.list_devices``) and its ``tr:hasProfile`` link.
* **Models** (``https://w3id.org/tinyreg/model/synthetic-<i>``) hold what the matchmaker's
  verdict query reads, mirroring a registered model's graph: name, size, quantisation
  (int8 ~75 %, float32 ~20 %, int16x8/uint8 the rest), MACs (log-uniform 1e4–5e7), task,
  a metric, 3–7 operator codes drawn from the common TFLite Micro kernels with realistic
  frequencies, 0–2 required sensor types and a runtime assessment on the release (arena
  log-uniform 2 KiB–2 MiB; about 3 % refused with a reason), plus what
  ``Registry.add_model`` derives at registration from the release tables
  (:func:`tinyreg.registry.requirements.requirements_graph`: operators offered by the
  release, kernel flash per core family). Load the file into a store on which a
  ``Registry`` is already open, so that opening it does not derive them again.

Board types, devices and models come from separate seeded random streams, so the first
``k`` devices (or models) of a fleet are the same whatever its size: a small fleet is a
subset of a large one with the same seed.

>>> import os
>>> info = write_fleet(Path(os.devnull), devices=20, models=5)
>>> (info.devices, info.models, info.profiles <= 20)
(20, 5, True)
"""

from __future__ import annotations

import bisect
import functools
import itertools
import json
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TypeVar

from tinyreg.core.namespaces import runtime_iri
from tinyreg.registry import Registry
from tinyreg.registry.model_rdf import runtime_to_graph
from tinyreg.registry.profile import ProfileFacts, profile_graph
from tinyreg.registry.requirements import OperatorUse, ReleaseTable, requirements_graph

__all__ = [
    "NO_TABLE_VERSION",
    "RELEASE_VERSION",
    "RUNTIME_NAME",
    "BoardType",
    "FleetInfo",
    "board_types",
    "device_iri",
    "model_iri",
    "write_fleet",
]

TR = "https://w3id.org/tinyreg#"
TD = "https://www.w3.org/2019/wot/td#"
SCHEMA = "https://schema.org/"
OP = "https://w3id.org/tinyreg/op/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD = "http://www.w3.org/2001/XMLSchema#"
DEVICE_PREFIX = "urn:tinyreg:device:synthetic-"
MODEL_PREFIX = "https://w3id.org/tinyreg/model/synthetic-"

RUNTIME_NAME = "tflite-micro"
RELEASE_VERSION = "0.dev20261023182759"
"""The release with an operator table, code sizes and RAM overhead in ``kg_data/runtimes``."""
NO_TABLE_VERSION = "0.dev20250601000000"
"""A release the registry has no operator table for (the matchmaker must reject it)."""

T = TypeVar("T")
KIB = 1024
MIB = 1024 * KIB
RAM_RANGE = (64 * KIB, 8 * MIB)
FLASH_RANGE = (256 * KIB, 16 * MIB)
RAM_FACTORS = ([0.5, 1, 2, 4, 8], [2, 6, 3, 2, 1])
FLASH_FACTORS = ([0.5, 1, 2, 4, 8], [1, 6, 3, 2, 1])
ZIPF_EXPONENT = 1.1

# sensor classes of the ontology, with how often a board carries one
SENSOR_CLASSES: list[tuple[str, int]] = [
    ("IMU", 14),
    ("IMU9DoF", 8),
    ("Accelerometer", 10),
    ("Gyroscope", 3),
    ("Magnetometer", 3),
    ("PDMMicrophone", 10),
    ("I2SMicrophone", 6),
    ("AnalogMicrophone", 3),
    ("Camera", 8),
    ("Thermometer", 10),
    ("HumiditySensor", 8),
    ("Barometer", 6),
    ("GasSensor", 4),
    ("LightSensor", 4),
    ("ColorSensor", 3),
    ("ProximitySensor", 3),
    ("GestureSensor", 2),
]
SENSOR_COUNTS = ([1, 2, 3, 4], [30, 35, 20, 15])

# firmware builds that register a fixed operator set (runtime.operators in the TD)
FIRMWARE_OPERATOR_SETS: list[tuple[str, ...]] = [
    ("AVERAGE_POOL_2D", "CONV_2D", "DEPTHWISE_CONV_2D", "RESHAPE", "SOFTMAX"),
    ("DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "RESHAPE", "SOFTMAX"),
    (
        "ADD",
        "AVERAGE_POOL_2D",
        "CONV_2D",
        "DEPTHWISE_CONV_2D",
        "FULLY_CONNECTED",
        "MAX_POOL_2D",
        "MEAN",
        "PAD",
        "QUANTIZE",
        "RESHAPE",
        "SOFTMAX",
    ),
    (
        "FULLY_CONNECTED",
        "LOGISTIC",
        "QUANTIZE",
        "DEQUANTIZE",
        "RELU",
        "RESHAPE",
        "SOFTMAX",
        "TANH",
        "UNIDIRECTIONAL_SEQUENCE_LSTM",
    ),
]
# runtime kind of a board type: release with a table / firmware build / release without one.
# The most popular board types run the release; the others are dealt in shuffled blocks of
# 20 (14 / 3 / 3), which puts about 10 % of the devices on a release without a table.
POPULAR_ON_RELEASE = 3
KIND_BLOCK = ["release"] * 14 + ["build"] * 3 + ["no-table"] * 3

# common TFLite Micro kernels: (operator, relative frequency, version in integer models)
OPERATORS: list[tuple[str, int, int]] = [
    ("FULLY_CONNECTED", 35, 4),
    ("CONV_2D", 30, 3),
    ("SOFTMAX", 28, 2),
    ("RESHAPE", 25, 1),
    ("DEPTHWISE_CONV_2D", 22, 3),
    ("ADD", 14, 2),
    ("AVERAGE_POOL_2D", 12, 2),
    ("MAX_POOL_2D", 12, 2),
    ("QUANTIZE", 10, 1),
    ("MUL", 8, 2),
    ("DEQUANTIZE", 8, 2),
    ("MEAN", 8, 2),
    ("PAD", 6, 2),
    ("CONCATENATION", 6, 2),
    ("LOGISTIC", 6, 2),
    ("RELU", 5, 2),
    ("RELU6", 4, 2),
    ("STRIDED_SLICE", 4, 2),
    ("TANH", 3, 2),
    ("SUB", 3, 2),
    ("TRANSPOSE", 3, 2),
    ("HARD_SWISH", 2, 1),
    ("LEAKY_RELU", 2, 2),
    ("EXPAND_DIMS", 2, 1),
    ("SQUEEZE", 2, 1),
    ("UNIDIRECTIONAL_SEQUENCE_LSTM", 2, 1),
    ("RESIZE_NEAREST_NEIGHBOR", 1, 3),
    ("SVDF", 1, 2),
]
OPERATOR_COUNTS = ([3, 4, 5, 6, 7], [15, 25, 25, 20, 15])
QUANTIZATIONS = (["int8", "float32", "int16x8", "uint8"], [75, 20, 3, 2])
# task (card name), metric name, metric range, relative frequency
TASKS: list[tuple[str, str, str, tuple[float, float], int]] = [
    ("classification", "Classification", "top-1 accuracy", (0.60, 0.995), 60),
    ("anomaly-detection", "AnomalyDetection", "AUC", (0.70, 0.99), 12),
    ("object-detection", "ObjectDetection", "mAP@0.5", (0.20, 0.65), 8),
    ("regression", "Regression", "R2", (0.50, 0.98), 8),
    ("feature-extraction", "FeatureExtraction", "cosine similarity", (0.60, 0.95), 6),
    ("unsupervised", "Unsupervised", "silhouette", (0.20, 0.80), 3),
    ("other", "OtherTask", "accuracy", (0.50, 0.95), 3),
]
# sensor classes a model may require, with relative frequency
REQUIRED_SENSORS: list[tuple[str, int]] = [
    ("Microphone", 25),
    ("Accelerometer", 20),
    ("Camera", 15),
    ("IMU", 8),
    ("Gyroscope", 6),
    ("Thermometer", 8),
    ("HumiditySensor", 5),
    ("Barometer", 4),
    ("GasSensor", 4),
    ("LightSensor", 3),
    ("Magnetometer", 2),
    ("ProximitySensor", 2),
]
SENSOR_NEEDS = ([0, 1, 2], [45, 45, 10])
REFUSALS = [
    "AllocateTensors() failed: Failed to resize buffer",
    "Didn't find op for builtin opcode 'CUSTOM'",
    "Type INT64 (4) not supported",
]
REFUSED_SHARE = 0.03


# ------------------------------------------------------------------------------ terms


def _iri(value: str) -> str:
    return f"<{value}>"


def _str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _int(value: int) -> str:
    return f'"{value}"^^<{XSD}integer>'


def _double(value: float) -> str:
    return f'"{value!r}"^^<{XSD}double>'


def _bool(value: bool) -> str:
    return f'"{"true" if value else "false"}"^^<{XSD}boolean>'


def device_iri(i: int) -> str:
    """The IRI (and graph name) of synthetic device ``i``."""
    return f"{DEVICE_PREFIX}{i}"


def model_iri(i: int) -> str:
    """The IRI (and graph name) of synthetic model ``i``."""
    return f"{MODEL_PREFIX}{i}"


def _log_uniform(rng: random.Random, low: float, high: float) -> float:
    return math.exp(rng.uniform(math.log(low), math.log(high)))


def _weighted(rng: random.Random, table: tuple[list[T], list[int]]) -> T:
    values, weights = table
    return rng.choices(values, weights=weights)[0]


# ------------------------------------------------------------------------------ boards


@dataclass(frozen=True)
class Template:
    """A real board of ``kg_data/devices`` that board types are varied from."""

    title: str
    manufacturer: str
    core: str
    core_family: str
    clock_hz: int
    fpu: bool
    dsp: bool
    ram: int
    ram_reserved: int
    flash: int
    flash_reserved: int
    sensors: tuple[str, ...]


@dataclass(frozen=True)
class BoardType:
    """One kind of board of the synthetic fleet: a device profile and a name.

    Attributes:
        facts: The profile figures (as ``profile_facts`` would read them from a TD).
        title: A human-readable name.
        manufacturer: The template board's manufacturer.
        runtime_kind: ``release``, ``build`` (fixed operator set) or ``no-table``.

    """

    facts: ProfileFacts
    title: str
    manufacturer: str
    runtime_kind: str


def templates() -> list[Template]:
    """The real boards of ``kg_data/devices/*.td.jsonld`` as templates."""
    folder = resources.files("tinyreg.kg_data").joinpath("devices")
    found = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".td.jsonld"):
            continue
        td = json.loads(entry.read_text("utf-8"))
        mcu, ram, flash = td["mcu"], td["ram"], td["flash"]
        found.append(
            Template(
                title=td["title"],
                manufacturer=td.get("manufacturer", "unknown"),
                core=mcu["core"],
                core_family=mcu.get("coreFamily", "other"),
                clock_hz=int(mcu["clockHz"]),
                fpu=bool(mcu["fpu"]),
                dsp=bool(mcu["dsp"]),
                ram=int(ram["capacityBytes"]),
                ram_reserved=int(ram.get("reservedBytes", 0)),
                flash=int(flash["capacityBytes"]),
                flash_reserved=int(flash.get("reservedBytes", 0)),
                sensors=tuple(dict.fromkeys(s["@type"] for s in td.get("sensors", []))),
            )
        )
    return found


def _scaled(
    rng: random.Random, base: int, factors: tuple[list[float], list[int]], bounds: tuple[int, int]
) -> int:
    factor = rng.choices(factors[0], weights=factors[1])[0]
    value = int(base * factor) // KIB * KIB
    return max(bounds[0], min(bounds[1], value))


def _sensors(rng: random.Random, template: Template) -> tuple[str, ...]:
    count = int(_weighted(rng, SENSOR_COUNTS))
    own = list(template.sensors)
    rng.shuffle(own)
    # mostly the template's own sensors, topped up from the ontology's classes
    chosen = [s for s in own if rng.random() < 0.8][:count]
    names, weights = zip(*SENSOR_CLASSES, strict=True)
    while len(chosen) < count:
        extra = rng.choices(names, weights=weights)[0]
        if extra not in chosen:
            chosen.append(extra)
    return tuple(sorted(TR + s for s in chosen))


def board_types(count: int = 300, seed: int = 42) -> list[BoardType]:
    """``count`` distinct board types (distinct profiles), reproducibly.

    Args:
        count: How many board types.
        seed: The random seed.

    Returns:
        The board types, most popular first (devices pick them with a Zipf-like skew).

    """
    rng = random.Random(f"{seed}-boards")
    bases = templates()
    clocks: dict[str, list[int]] = {}
    for t in bases:
        clocks.setdefault(t.core_family, [])
        if t.clock_hz not in clocks[t.core_family]:
            clocks[t.core_family].append(t.clock_hz)
    kinds: list[BoardType] = []
    seen: set[str] = set()
    block: list[str] = []
    while len(kinds) < count:
        template = rng.choice(bases)
        ram = _scaled(rng, template.ram, RAM_FACTORS, RAM_RANGE)
        flash = _scaled(rng, template.flash, FLASH_FACTORS, FLASH_RANGE)
        if rng.random() < 0.3:  # the template's own reservation share
            ram_share = template.ram_reserved / template.ram
            flash_share = template.flash_reserved / template.flash
        else:
            ram_share, flash_share = rng.uniform(0.1, 0.65), rng.uniform(0.1, 0.6)
        clock = (
            template.clock_hz if rng.random() < 0.7 else rng.choice(clocks[template.core_family])
        )
        if len(kinds) < POPULAR_ON_RELEASE:
            kind = "release"
        else:
            if not block:
                block = list(KIND_BLOCK)
                rng.shuffle(block)
            kind = block.pop()
        version = NO_TABLE_VERSION if kind == "no-table" else RELEASE_VERSION
        operators = rng.choice(FIRMWARE_OPERATOR_SETS) if kind == "build" else ()
        facts = ProfileFacts(
            ram_capacity=ram,
            ram_reserved=int(ram * ram_share) // KIB * KIB,
            flash_capacity=flash,
            flash_reserved=int(flash * flash_share) // KIB * KIB,
            core=template.core,
            core_family=template.core_family,
            clock_hz=clock,
            fpu=template.fpu,
            dsp=template.dsp,
            runtime_name=RUNTIME_NAME,
            runtime_version=version,
            operators=tuple(sorted(operators)),
            sensor_types=_sensors(rng, template),
        )
        digest = facts.digest()
        if digest in seen:
            continue
        seen.add(digest)
        title = f"{template.title} variant {len(kinds)}"
        kinds.append(BoardType(facts, title, template.manufacturer, kind))
    return kinds


# ------------------------------------------------------------------------------ writing


def _profile_lines(kind: BoardType) -> str:
    iri, graph = profile_graph(kind.facts)
    g = iri.n3()
    return "".join(f"{s.n3()} {p.n3()} {o.n3()} {g} .\n" for s, p, o in graph)


def _device_lines(i: int, kind: BoardType, profile: str) -> list[str]:
    dev = device_iri(i)
    d = _iri(dev)
    f = kind.facts
    mcu, ram, flash, rt = (_iri(f"{dev}#{part}") for part in ("mcu", "ram", "flash", "runtime"))
    triples = [
        (d, _iri(RDF_TYPE), _iri(TR + "Device")),
        (d, _iri(RDF_TYPE), _iri(TD + "Thing")),
        (d, _iri(TD + "title"), _str(f"{kind.title} #{i}")),
        (d, _iri(SCHEMA + "manufacturer"), _str(kind.manufacturer)),
        (d, _iri(TR + "hasProfile"), _iri(profile)),
        (d, _iri(TR + "hasMCU"), mcu),
        (mcu, _iri(TR + "core"), _str(f.core)),
        (mcu, _iri(TR + "coreFamily"), _str(f.core_family)),
        (mcu, _iri(TR + "clockHz"), _int(f.clock_hz)),
        (mcu, _iri(TR + "hasFPU"), _bool(f.fpu)),
        (mcu, _iri(TR + "hasDSP"), _bool(f.dsp)),
        (d, _iri(TR + "hasRAM"), ram),
        (ram, _iri(TR + "capacityBytes"), _int(f.ram_capacity)),
        (ram, _iri(TR + "reservedBytes"), _int(f.ram_reserved)),
        (d, _iri(TR + "hasFlash"), flash),
        (flash, _iri(TR + "capacityBytes"), _int(f.flash_capacity)),
        (flash, _iri(TR + "reservedBytes"), _int(f.flash_reserved)),
        (d, _iri(TR + "hasRuntime"), rt),
        (rt, _iri(TR + "runtimeName"), _str(f.runtime_name)),
        (rt, _iri(TR + "runtimeVersion"), _str(f.runtime_version)),
    ]
    triples.extend((rt, _iri(TR + "registersOperator"), _iri(OP + op)) for op in f.operators)
    for n, sensor_class in enumerate(f.sensor_types):
        sensor = _iri(f"{dev}#sensor-{n}")
        triples.append((d, _iri(TR + "hasSensor"), sensor))
        triples.append((sensor, _iri(RDF_TYPE), _iri(sensor_class)))
    return [f"{s} {p} {o} {d} .\n" for s, p, o in triples]


@functools.cache
def reference_release_tables() -> list[ReleaseTable]:
    """The runtime release tables of the reference graphs (as every registry holds them)."""
    with Registry.open(in_memory=True) as reg:
        return reg.release_tables()


def _model_lines(i: int, rng: random.Random, tables: list[ReleaseTable]) -> list[str]:
    model = model_iri(i)
    m = _iri(model)
    quant = str(_weighted(rng, QUANTIZATIONS))
    task, task_class, metric_name, (low, high), _ = rng.choices(
        TASKS, weights=[t[4] for t in TASKS]
    )[0]
    macs = int(_log_uniform(rng, 1e4, 5e7))
    # weights: about one parameter byte per 5–50 MACs, x4 for float32, x2 for int16x8
    width = {"float32": 4, "int16x8": 2}.get(quant, 1)
    model_bytes = max(4 * KIB, int(macs / rng.uniform(5, 50))) * width + rng.randint(2, 8) * KIB
    triples = [
        (m, _iri(RDF_TYPE), _iri(TR + "Model")),
        (m, _iri(SCHEMA + "name"), _str(f"Synthetic {task} model {i} ({quant})")),
        (m, _iri(SCHEMA + "description"), _str(f"A synthetic {task} model for benchmarks.")),
        (m, _iri(TR + "modelBytes"), _int(model_bytes)),
        (m, _iri(TR + "flashBytes"), _int(model_bytes)),
        (m, _iri(TR + "quantizationType"), _str(quant)),
        (m, _iri(TR + "macs"), _int(macs)),
        (m, _iri(TR + "task"), _iri(TR + task_class)),
        (m, _iri(TR + "schemaVersion"), _int(3)),
    ]
    metric = _iri(f"{model}#metric")
    triples += [
        (m, _iri(TR + "hasMetric"), metric),
        (metric, _iri(RDF_TYPE), _iri(TR + "Metric")),
        (metric, _iri(TR + "metricName"), _str(metric_name)),
        (metric, _iri(TR + "metricValue"), _double(round(rng.uniform(low, high), 4))),
    ]
    count = int(_weighted(rng, OPERATOR_COUNTS))
    names = [o[0] for o in OPERATORS]
    weights = [o[1] for o in OPERATORS]
    versions = {o[0]: o[2] for o in OPERATORS}
    chosen: list[str] = []
    while len(chosen) < count:
        op = rng.choices(names, weights=weights)[0]
        if op not in chosen:
            chosen.append(op)
    uses: list[OperatorUse] = []
    for n, op in enumerate(chosen):
        code = _iri(f"{model}#opcode{n}")
        version = 1 if quant == "float32" else versions[op] + (quant == "int16x8")
        uses.append(OperatorUse(op, version, False))
        triples += [
            (m, _iri(TR + "hasOperatorCode"), code),
            (code, _iri(RDF_TYPE), _iri(TR + "OperatorCode")),
            (code, _iri(TR + "operatorType"), _iri(OP + op)),
            (code, _iri(TR + "opcodeName"), _str(op)),
            (code, _iri(TR + "operatorVersion"), _int(version)),
            (code, _iri(TR + "isCustom"), _bool(False)),
            (code, _iri(TR + "useCount"), _int(rng.randint(1, 6))),
            (m, _iri(TR + "usesOperatorType"), _iri(OP + op)),
            (_iri(OP + op), _iri(RDF_TYPE), _iri(TR + "OperatorType")),
        ]
    needs = int(_weighted(rng, SENSOR_NEEDS))
    sensor_names, sensor_weights = zip(*REQUIRED_SENSORS, strict=True)
    required: set[str] = set()
    while len(required) < needs:
        required.add(rng.choices(sensor_names, weights=sensor_weights)[0])
    triples.extend((m, _iri(TR + "requiresSensorType"), _iri(TR + s)) for s in sorted(required))
    assessment = _iri(f"{model}#runtime-{RUNTIME_NAME}")
    runnable = rng.random() >= REFUSED_SHARE
    triples += [
        (m, _iri(TR + "hasRuntimeAssessment"), assessment),
        (assessment, _iri(RDF_TYPE), _iri(TR + "RuntimeAssessment")),
        (
            assessment,
            _iri(TR + "assessedRuntime"),
            _iri(str(runtime_iri(RUNTIME_NAME, RELEASE_VERSION))),
        ),
        (assessment, _iri(TR + "runnable"), _bool(runnable)),
        (assessment, _iri(TR + "pointerBits"), _int(64)),
    ]
    if runnable:
        arena = int(_log_uniform(rng, 2 * KIB, 2 * MIB))
        triples.append((assessment, _iri(TR + "arenaBytes"), _int(arena)))
    else:
        triples.append((assessment, _iri(TR + "refusalReason"), _str(rng.choice(REFUSALS))))
    # what Registry.add_model derives at registration (registry/requirements.py)
    derived = requirements_graph(model, uses, tables)
    triples.extend((s.n3(), p.n3(), o.n3()) for s, p, o in derived)
    return [f"{s} {p} {o} {m} .\n" for s, p, o in triples]


@dataclass
class FleetInfo:
    """What :func:`write_fleet` wrote.

    Attributes:
        devices: Devices written.
        models: Models written.
        profiles: Distinct profiles the devices link to (the profile graphs written).
        quads: Quads written.
        device_profiles: The profile IRI of each device, by device index.
        board_types: The board types by profile IRI (only those some device uses).

    """

    devices: int
    models: int
    profiles: int = 0
    quads: int = 0
    device_profiles: list[str] = field(default_factory=list)
    board_types: dict[str, BoardType] = field(default_factory=dict)

    def devices_of(self, runtime_kind: str) -> Iterator[int]:
        """Indices of the devices whose board type has this runtime kind."""
        for i, profile in enumerate(self.device_profiles):
            if self.board_types[profile].runtime_kind == runtime_kind:
                yield i


def _zipf_picks(n: int, kinds: int, rng: random.Random) -> list[int]:
    cumulative = list(
        itertools.accumulate(1 / (rank + 1) ** ZIPF_EXPONENT for rank in range(kinds))
    )
    total = cumulative[-1]
    return [bisect.bisect_left(cumulative, rng.random() * total) for _ in range(n)]


def write_fleet(
    path: Path, devices: int, models: int, *, seed: int = 42, board_type_count: int = 300
) -> FleetInfo:
    """Write a synthetic fleet and model catalogue as N-Quads.

    Args:
        path: The N-Quads file to write.
        devices: How many devices.
        models: How many models.
        seed: The random seed (the same seed gives the same fleet).
        board_type_count: How many board types devices choose from.

    Returns:
        What was written.

    """
    kinds = board_types(board_type_count, seed)
    device_rng = random.Random(f"{seed}-devices")
    model_rng = random.Random(f"{seed}-models")
    picks = _zipf_picks(devices, len(kinds), device_rng)
    info = FleetInfo(devices=devices, models=models)
    tables = reference_release_tables() if models else []
    profile_iris = [str(k.facts.iri) for k in kinds]
    with path.open("w", encoding="utf-8") as out:
        # profiles that some device uses
        for index in sorted(set(picks)):
            kind = kinds[index]
            text = _profile_lines(kind)
            out.write(text)
            info.quads += text.count("\n")
            info.board_types[profile_iris[index]] = kind
        info.profiles = len(info.board_types)
        for i, index in enumerate(picks):
            lines = _device_lines(i, kinds[index], profile_iris[index])
            out.write("".join(lines))
            info.quads += len(lines)
            info.device_profiles.append(profile_iris[index])
        if models:
            # the release's own small graph, as Registry.add_model writes it
            release, graph = runtime_to_graph(RUNTIME_NAME, RELEASE_VERSION)
            for s, p, o in graph:
                out.write(f"{s.n3()} {p.n3()} {o.n3()} {release.n3()} .\n")
                info.quads += 1
        for i in range(models):
            lines = _model_lines(i, model_rng, tables)
            out.write("".join(lines))
            info.quads += len(lines)
    return info


if __name__ == "__main__":  # pragma: no cover - a quick look at the generated shape
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        summary = write_fleet(
            Path(tmp) / "fleet.nq",
            int(sys.argv[1]) if sys.argv[1:] else 1000,
            int(sys.argv[2]) if sys.argv[2:] else 100,
        )
        shares: dict[str, int] = {}
        for profile in summary.device_profiles:
            kind = summary.board_types[profile].runtime_kind
            shares[kind] = shares.get(kind, 0) + 1
        print(
            f"{summary.devices} devices, {summary.models} models, {summary.profiles} profiles,"
            f" {summary.quads} quads; devices per runtime kind: {shares}"
        )
