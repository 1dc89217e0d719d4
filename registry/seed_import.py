"""Convert the seed project's Turtle device descriptions into tinyreg Thing Descriptions.

The seed project described its devices in Turtle with S3N/SSN/SOSA terms and a few
``td:`` terms (``shared/seed/devices/*.ttl`` beside the checkout). Those descriptions
are not uniform:

* memories are given as ``schema:value`` numbers with an ``om:kilobyte`` unit code (or no
  unit at all), without saying whether a figure is the memory *left free* for models or
  the total (the figures are below the MCUs' datasheet sizes, so mostly free memory);
* sensor and memory classes live in project-local namespaces whose IRIs may drift
  (``sosa_extend:``, ``s3n_extend:``, other prefixes in other copies of the files);
* the MCU core, clock, FPU/DSP and the runtime are not described at all.

:func:`convert_seed_device` parses one file with rdflib, reads every term by its *local
name* (so a drifting namespace does not matter), fills the gaps from a small table of the
seed boards (:data:`SEED_BOARDS`) and returns a TD in tinyreg's format together with the
list of every assumption it had to make, in words. Nothing is guessed silently: a value
that does not come from the seed file is named in :attr:`SeedConversion.assumptions`.

Conventions (those of ``kg_data/README.md``): sizes are bytes, 1 KiB = 1024 bytes. A seed
"kilobyte" is read as 1024 bytes (the figures come from Arduino/PlatformIO size reports,
which count in KiB), not as the SI 1000 bytes ``om:kilobyte`` strictly denotes.

>>> from pathlib import Path
>>> from tinyreg.registry.seed_import import convert_seed_device
>>> conversion = convert_seed_device(Path("arduino_nano_ble_33_tinyml_kit.ttl"))  # doctest: +SKIP
>>> conversion.td["ram"]  # doctest: +SKIP
{'capacityBytes': 191488, 'reservedBytes': 0}
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path
from typing import Any

from rdflib import RDF, BNode, Graph, Literal, URIRef
from rdflib.term import Node

from tinyreg.core.errors import ThingDescriptionError
from tinyreg.core.namespaces import DEVICE_PREFIX
from tinyreg.ontology import TD_CONTEXT_URL, TINYREG_CONTEXT_URL

__all__ = [
    "DEFAULT_RUNTIME",
    "SEED_BOARDS",
    "SeedBoard",
    "SeedConversion",
    "convert_seed_device",
    "convert_seed_devices",
]

DEFAULT_RUNTIME: dict[str, str] = {"name": "tflite-micro", "version": "0.dev20261023182759"}
"""Runtime assumed for a seed device that names none."""

KIB = 1024

_LABELS = {"ram": "RAM", "flash": "Flash"}


@dataclass(frozen=True)
class SeedBoard:
    """MCU and memory facts of a board the seed project describes.

    Attributes:
        keys: Word groups; the board matches when every word of one group appears in the
            seed description's title, description, comments or file name.
        name: The board's name.
        manufacturer: Its maker.
        mcu: The TD ``mcu`` object (part, core, coreFamily, clockHz, fpu, dsp, simd).
        ram_bytes: On-chip RAM from the datasheet, or ``None`` when unknown.
        flash_bytes: On-chip flash from the datasheet, or ``None`` when unknown.
        datasheet: The manufacturer's page, or ``None``.
        note: What the table itself assumes for this board, or ``None``.

    """

    keys: tuple[tuple[str, ...], ...]
    name: str
    manufacturer: str
    mcu: dict[str, Any]
    ram_bytes: int | None
    flash_bytes: int | None
    datasheet: str | None
    note: str | None = None


_UNKNOWN_MCU = {
    "part": "unknown",
    "core": "unknown",
    "coreFamily": "other",
    "clockHz": 48_000_000,
    "fpu": False,
    "dsp": False,
}
"""An MCU without public facts: reference kernels only, the slowest seed clock."""

_NRF52840 = {
    "part": "nRF52840",
    "core": "Cortex-M4F",
    "coreFamily": "cortex-m4",
    "clockHz": 64_000_000,
    "fpu": True,
    "dsp": True,
    "simd": "ARMv7E-M DSP",
}
_SAMD51J19 = {
    "part": "ATSAMD51J19A",
    "core": "Cortex-M4F",
    "coreFamily": "cortex-m4",
    "clockHz": 120_000_000,
    "fpu": True,
    "dsp": True,
    "simd": "ARMv7E-M DSP",
}

SEED_BOARDS: tuple[SeedBoard, ...] = (
    SeedBoard(
        keys=(("tinyml", "kit", "nano"), ("tiny", "machine", "learning", "kit")),
        name="Arduino Tiny Machine Learning Kit (Nano 33 BLE Sense with OV7675 camera shield)",
        manufacturer="Arduino",
        mcu=_NRF52840,
        ram_bytes=256 * KIB,
        flash_bytes=1024 * KIB,
        datasheet="https://docs.arduino.cc/resources/datasheets/ABX00031-datasheet.pdf",
        note="the kit's board is the Nano 33 BLE Sense (nRF52840); its camera is the "
        "OV7675 on the kit's shield",
    ),
    SeedBoard(
        keys=(("nano", "33", "ble"),),
        name="Arduino Nano 33 BLE Sense",
        manufacturer="Arduino",
        mcu=_NRF52840,
        ram_bytes=256 * KIB,
        flash_bytes=1024 * KIB,
        datasheet="https://docs.arduino.cc/resources/datasheets/ABX00031-datasheet.pdf",
        note="the seed says 'Nano BLE 33' but lists a microphone and a thermometer, which only "
        "the Sense variant has; both variants use the same nRF52840",
    ),
    SeedBoard(
        keys=(("tflite", "micro", "kit"), ("edgebadge",)),
        name="Adafruit EdgeBadge (board of the Adafruit TensorFlow Lite for Microcontrollers Kit)",
        manufacturer="Adafruit Industries",
        mcu=_SAMD51J19,
        ram_bytes=192 * KIB,
        flash_bytes=512 * KIB,
        datasheet="https://learn.adafruit.com/adafruit-edgebadge",
        note="the 'Adafruit TFLite Micro Kit' is taken to be built around the EdgeBadge "
        "(a PyBadge with a PDM microphone, ATSAMD51J19A), which matches the "
        "accelerometer and microphone the seed lists",
    ),
    SeedBoard(
        keys=(("pybadge",),),
        name="Adafruit PyBadge",
        manufacturer="Adafruit Industries",
        mcu=_SAMD51J19,
        ram_bytes=192 * KIB,
        flash_bytes=512 * KIB,
        datasheet="https://learn.adafruit.com/adafruit-pybadge",
    ),
    SeedBoard(
        keys=(("syntiant",),),
        name="Syntiant TinyML Board",
        manufacturer="Syntiant",
        mcu={
            "part": "ATSAMD21G18A",
            "core": "Cortex-M0+",
            "coreFamily": "cortex-m0plus",
            "clockHz": 48_000_000,
            "fpu": False,
            "dsp": False,
        },
        ram_bytes=32 * KIB,
        flash_bytes=256 * KIB,
        datasheet="https://docs.edgeimpulse.com/hardware/boards/syntiant-tinyml-board",
        note="the MCU facts are those of the SAMD21 host that runs TensorFlow Lite Micro, "
        "not of the NDP101 neural decision processor",
    ),
    SeedBoard(
        keys=(("ssi", "web"),),
        name="Siemens SSI-Web node",
        manufacturer="Siemens",
        mcu=_UNKNOWN_MCU,
        ram_bytes=None,
        flash_bytes=None,
        datasheet=None,
        note="no public datasheet of the SSI-Web node's MCU is known to tinyreg: core taken as "
        "'unknown' (coreFamily 'other'), no FPU and no DSP extension (so that only "
        "reference kernels are assumed) and a 48 MHz clock, the slowest clock among the "
        "seed boards, so that latency estimates err on the slow side",
    ),
)
"""Boards of the seed project, matched by name; the first matching entry wins."""

_UNKNOWN_BOARD = SeedBoard(
    keys=(),
    name="unknown board",
    manufacturer="unknown",
    mcu=_UNKNOWN_MCU,
    ram_bytes=None,
    flash_bytes=None,
    datasheet=None,
)

# Seed class local names (lower case) -> tinyreg sensor class local names.
_SENSOR_CLASSES: dict[str, str] = {
    "thermometer": "Thermometer",
    "temperaturesensor": "Thermometer",
    "accelerometer": "Accelerometer",
    "gyroscope": "Gyroscope",
    "gyrometer": "Gyroscope",
    "magnetometer": "Magnetometer",
    "compass": "Magnetometer",
    "imu": "IMU",
    "inertialmeasurementunit": "IMU",
    "imu9dof": "IMU9DoF",
    "microphone": "Microphone",
    "soundsensor": "Microphone",
    "audiosensor": "Microphone",
    "pdmmicrophone": "PDMMicrophone",
    "i2smicrophone": "I2SMicrophone",
    "analogmicrophone": "AnalogMicrophone",
    "camera": "Camera",
    "imagesensor": "Camera",
    "humiditysensor": "HumiditySensor",
    "hygrometer": "HumiditySensor",
    "barometer": "Barometer",
    "pressuresensor": "Barometer",
    "gassensor": "GasSensor",
    "lightsensor": "LightSensor",
    "ambientlightsensor": "LightSensor",
    "colorsensor": "ColorSensor",
    "coloursensor": "ColorSensor",
    "proximitysensor": "ProximitySensor",
    "gesturesensor": "GestureSensor",
    "othersensor": "OtherSensor",
}

_MCU_CLASSES = {"microcontroller", "mcu", "processor", "microcontrollerunit"}
_DEVICE_CLASSES = {"smartsensor", "device", "thing", "platform"}
_RAM_CLASSES = {"ram", "sram", "dram", "randomaccessmemory"}
_FLASH_CLASSES = {"flash", "flashmemory", "rom", "programmemory"}

# unit local name or code (lower case) -> (bytes per unit, exact IEC unit?)
_UNITS: dict[str, tuple[int, bool]] = {
    "byte": (1, True),
    "b": (1, True),
    "ad": (1, True),  # UN/CEFACT common code for byte
    "kilobyte": (KIB, False),
    "kb": (KIB, False),
    "kbyte": (KIB, False),
    "2p": (KIB, False),  # UN/CEFACT kilobyte
    "kibibyte": (KIB, True),
    "kib": (KIB, True),
    "megabyte": (KIB * KIB, False),
    "mb": (KIB * KIB, False),
    "4l": (KIB * KIB, False),  # UN/CEFACT megabyte
    "mebibyte": (KIB * KIB, True),
    "mib": (KIB * KIB, True),
}

_NUMBER_AND_UNIT = re.compile(r"^\s*([-+]?\d+(?:[.,]\d+)?)\s*([A-Za-z]*)\s*$")


@dataclass
class SeedConversion:
    """The result of converting one seed device description.

    Attributes:
        td: The Thing Description in tinyreg's format (see :mod:`tinyreg.registry.td`).
        assumptions: Every assumption made, in words; never empty for a seed file since
            the seed never names a runtime.
        source: The seed file that was converted.

    """

    td: dict[str, Any]
    assumptions: list[str] = field(default_factory=list)
    source: str = ""


# --------------------------------------------------------------------------- RDF helpers


def _local(term: Node) -> str:
    """Return the local name of an IRI (after the last ``#`` or ``/``); '' otherwise."""
    if not isinstance(term, URIRef):
        return ""
    text = str(term).rstrip("/#")
    cut = max(text.rfind("#"), text.rfind("/"), text.rfind(":"))
    return text[cut + 1 :]


def _objects(graph: Graph, subject: Node, name: str) -> Iterator[Node]:
    """Objects of ``subject`` through any predicate whose local name is ``name``."""
    wanted = name.lower()
    for predicate, obj in graph.predicate_objects(subject):
        if _local(predicate).lower() == wanted:
            yield obj


def _first_text(graph: Graph, subject: Node, name: str) -> str | None:
    """Return the first literal of a property (matched by local name), stripped."""
    for obj in _objects(graph, subject, name):
        if isinstance(obj, Literal) and str(obj).strip():
            return str(obj).strip()
    return None


def _types(graph: Graph, node: Node) -> list[str]:
    """Local names (lower case) of the node's ``rdf:type`` classes."""
    return sorted(_local(t).lower() for t in graph.objects(node, RDF.type) if _local(t))


def _descendants(graph: Graph, node: Node) -> Iterator[Node]:
    """Every node reachable from ``node`` through blank nodes (depth first, no cycles)."""
    seen: set[Node] = set()
    stack: list[Node] = [node]
    while stack:
        current = stack.pop()
        for obj in graph.objects(current, None):
            if isinstance(obj, BNode) and obj not in seen:
                seen.add(obj)
                yield obj
                stack.append(obj)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _words(text: str) -> set[str]:
    """Lower-case words of a text, both as written and split at camelCase humps."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", text)
    return set(re.findall(r"[a-z0-9]+", text.lower())) | set(
        re.findall(r"[a-z0-9]+", spaced.lower())
    )


def _bytes_text(value: int) -> str:
    return f"{value:,}"


# --------------------------------------------------------------------------- conversion


def _parse(path: Path) -> Graph:
    label = str(path)
    try:
        data = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ThingDescriptionError(label, None, f"not UTF-8 Turtle text: {exc}") from exc
    except OSError as exc:
        raise ThingDescriptionError(label, None, f"cannot read file: {exc.strerror}") from exc
    graph = Graph()
    try:
        graph.parse(data=data, format="turtle", publicID=path.resolve().as_uri())
    except (SyntaxError, ValueError, TypeError) as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ThingDescriptionError(label, None, f"not valid Turtle: {detail}") from exc
    return graph


def _find_device(graph: Graph, label: str) -> Node:
    typed = {s for s, t in graph.subject_objects(RDF.type) if _local(t).lower() in _DEVICE_CLASSES}
    subsystem_objects = {o for _, p, o in graph if _local(p).lower() == "hassubsystem"}
    candidates = typed or {s for s, p, _ in graph if _local(p).lower() == "hassubsystem"}
    candidates = {c for c in candidates if c not in subsystem_objects}
    if not candidates:
        raise ThingDescriptionError(
            label,
            None,
            "no device node: expected a subject typed s3n:SmartSensor (or sosa:Platform, "
            "td:Thing) or one with ssn:hasSubSystem",
        )
    if len(candidates) > 1:
        names = ", ".join(sorted(str(c) for c in candidates))
        raise ThingDescriptionError(
            label, None, f"several device nodes ({names}); one seed file describes one device"
        )
    return next(iter(candidates))


def _match_board(texts: list[str]) -> SeedBoard | None:
    words: set[str] = set()
    for text in texts:
        words |= _words(text)
    for board in SEED_BOARDS:
        if any(all(word in words for word in group) for group in board.keys):
            return board
    return None


def _memory_kind(graph: Graph, node: Node) -> str | None:
    types = set(_types(graph, node))
    if types & _RAM_CLASSES:
        return "ram"
    if types & _FLASH_CLASSES:
        return "flash"
    return None


def _memory_kind_from_comment(graph: Graph, node: Node) -> str | None:
    comment = (_first_text(graph, node, "comment") or "").lower()
    words = _words(comment)
    if words & _RAM_CLASSES:
        return "ram"
    if words & _FLASH_CLASSES:
        return "flash"
    return None


def _number_and_unit(raw: Literal, kind: str, label: str) -> tuple[Decimal, str]:
    """Split a memory literal into a non-negative number and a unit written after it."""
    value = raw.toPython()
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        number, unit = Decimal(str(value)), ""
    else:
        match = _NUMBER_AND_UNIT.match(str(raw))
        if match is None:
            raise ThingDescriptionError(label, kind, f"memory value {str(raw)!r} is not a number")
        number, unit = Decimal(match.group(1).replace(",", ".")), match.group(2)
    if not number.is_finite():
        raise ThingDescriptionError(label, kind, f"memory value {str(raw)!r} is not a number")
    if number < 0:
        raise ThingDescriptionError(label, kind, f"negative memory value {raw}")
    return number, unit


def _to_bytes(
    graph: Graph, node: Node, kind: str, label: str, assumptions: list[str]
) -> tuple[int, str]:
    """Read a seed memory property as bytes; returns the bytes and how it was read."""
    raw = next((o for o in _objects(graph, node, "value") if isinstance(o, Literal)), None)
    if raw is None:
        raise ThingDescriptionError(label, kind, "memory property has no literal schema:value")
    number, unit_text = _number_and_unit(raw, kind, label)
    unit_node = next(iter(_objects(graph, node, "unitCode")), None)
    if unit_node is not None:
        unit_name = _local(unit_node) if isinstance(unit_node, URIRef) else str(unit_node).strip()
    else:
        unit_name = unit_text
    unit_key = unit_name.lower()
    if not unit_key:
        unit_key, unit_name = "kilobyte", "kB (no unit given)"
        assumptions.append(
            f"{_LABELS[kind]} value {raw} has no unit; assumed kilobytes "
            "(1 kB = 1024 bytes), the unit of every other seed figure"
        )
    if unit_key not in _UNITS:
        raise ThingDescriptionError(label, kind, f"unknown memory unit {unit_name!r}")
    factor, exact = _UNITS[unit_key]
    product = number * factor
    value = int(product.to_integral_value(rounding=ROUND_FLOOR))
    shown = f"{number.normalize():f} {unit_name}"
    how = f"{shown} = {_bytes_text(value)} bytes"
    if not exact:
        how = (
            f"{shown}, read as {number.normalize():f} × {factor:,} = {_bytes_text(value)} "
            "bytes (binary units as toolchain size reports count, not SI powers of 1000)"
        )
    if product != value:
        how += f" (rounded down from {product.normalize():f})"
    return value, how


def _memory_role(graph: Graph, node: Node) -> str:
    """'free', 'total' or '' from the words of the property's comment and class names."""
    words = _words(
        " ".join(
            [
                _first_text(graph, node, "comment") or "",
                *(_local(t) for t in graph.objects(node, RDF.type)),
            ]
        )
    )
    if words & {"free", "available", "remaining", "unused"}:
        return "free"
    if words & {"total", "capacity", "size", "installed"}:
        return "total"
    return ""


def _datasheet_bytes(board: SeedBoard | None, kind: str) -> int | None:
    """The board's on-chip RAM or flash from the datasheet, if known."""
    if board is None:
        return None
    return board.ram_bytes if kind == "ram" else board.flash_bytes


def _default_reserved(kind: str, capacity: int) -> int:
    """kg_data's default reservation for the firmware: 25 % of RAM, 12.5 % of flash."""
    return capacity // 4 if kind == "ram" else capacity // 8


def _memory(
    kind: str, value: int, how: str, role: str, board: SeedBoard | None, assumptions: list[str]
) -> dict[str, int]:
    datasheet_total = _datasheet_bytes(board, kind)
    label = _LABELS[kind]
    if role == "total":
        reserved = _default_reserved(kind, value)
        assumptions.append(
            f"{label} given as {how}, stated as the total; taken as the capacity, with the "
            f"default reservation of kg_data ({'25 %' if kind == 'ram' else '12.5 %'}) = "
            f"{_bytes_text(reserved)} bytes reserved for the firmware"
        )
        return {"capacityBytes": value, "reservedBytes": reserved}
    stated = "stated as free memory" if role == "free" else "not stated whether free or total"
    text = (
        f"{label} given as {how} ({stated}); taken as the memory left free for models: "
        f"capacityBytes {_bytes_text(value)} with 0 reserved"
    )
    if datasheet_total is not None and board is not None:
        part = board.mcu["part"]
        if value <= datasheet_total:
            text += (
                f"; the {part} has {_bytes_text(datasheet_total)} bytes of on-chip {label}, "
                f"so the firmware takes the other {_bytes_text(datasheet_total - value)} "
                "bytes"
            )
        else:
            text += (
                f"; this exceeds the {_bytes_text(datasheet_total)} bytes of on-chip "
                f"{label} of the {part}, so the seed figure must count memory outside the "
                "MCU (e.g. an external flash chip on the board); kept as given"
            )
    assumptions.append(text)
    return {"capacityBytes": value, "reservedBytes": 0}


def _sensors(graph: Graph, device: Node, assumptions: list[str]) -> list[dict[str, str]]:
    sensors: list[dict[str, str]] = []
    subsystems = sorted(
        _objects(graph, device, "hasSubSystem"), key=lambda n: (",".join(_types(graph, n)), str(n))
    )
    for sub in subsystems:
        types = _types(graph, sub)
        if set(types) & (_MCU_CLASSES | _RAM_CLASSES | _FLASH_CLASSES):
            continue
        if not types:
            assumptions.append("a subsystem without rdf:type was ignored")
            continue
        known = [_SENSOR_CLASSES[t] for t in types if t in _SENSOR_CLASSES]
        original = ", ".join(_local(t) for t in sorted(graph.objects(sub, RDF.type), key=str))
        if known:
            sensor_type = known[0]
        else:
            sensor_type = "OtherSensor"
            assumptions.append(
                f"seed sensor class {original} is not a tinyreg sensor type; mapped to OtherSensor"
            )
        entry = {"@type": sensor_type, "name": f"{original} (seed description)"}
        part = _first_text(graph, sub, "partNumber") or _first_text(graph, sub, "model")
        if part:
            entry["part"] = part
        sensors.append(entry)
    return sensors


def _property_key(title: str, used: set[str]) -> str:
    words = re.findall(r"[A-Za-z0-9]+", title) or ["property"]
    key = words[0][:1].lower() + words[0][1:] + "".join(w[:1].upper() + w[1:] for w in words[1:])
    candidate, counter = key, 2
    while candidate in used:
        candidate, counter = f"{key}{counter}", counter + 1
    used.add(candidate)
    return candidate


def _number(literal: Node) -> int | float | None:
    if not isinstance(literal, Literal):
        return None
    value = literal.toPython()
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return None


def _boolean(graph: Graph, node: Node, name: str) -> bool | None:
    for obj in _objects(graph, node, name):
        if isinstance(obj, Literal):
            return str(obj).strip().lower() in {"true", "1"}
    return None


def _properties(graph: Graph, device: Node) -> dict[str, dict[str, Any]]:
    properties: dict[str, dict[str, Any]] = {}
    used: set[str] = set()
    affordances = list(_objects(graph, device, "hasPropertyAffordance"))
    for affordance in sorted(affordances, key=lambda n: _first_text(graph, n, "title") or ""):
        title = _first_text(graph, affordance, "title") or "property"
        prop: dict[str, Any] = {"title": title}
        description = _first_text(graph, affordance, "description")
        if description:
            prop["description"] = description
        data_type = _first_text(graph, affordance, "type")
        if data_type in {"number", "integer", "string", "boolean", "array", "object"}:
            prop["type"] = data_type
        unit = _first_text(graph, affordance, "unit")
        if unit:
            prop["unit"] = unit
        for bound in ("minimum", "maximum"):
            value = next((_number(o) for o in _objects(graph, affordance, bound)), None)
            if value is not None:
                prop[bound] = value
        read_only = _boolean(graph, affordance, "readOnly")
        if read_only is not None:
            prop["readOnly"] = read_only
        observable = _boolean(graph, affordance, "isObservable")
        if observable is not None:
            prop["observable"] = observable
        forms = []
        for form in _objects(graph, affordance, "hasForm"):
            href = _first_text(graph, form, "href") or _first_text(graph, form, "hasTarget")
            if not href:
                continue
            ops = sorted(
                {str(o).strip() for o in _objects(graph, form, "op") if isinstance(o, Literal)}
            )
            entry: dict[str, Any] = {"href": href}
            if ops:
                entry["op"] = ops
            forms.append(entry)
        prop["forms"] = forms
        if forms:
            properties[_property_key(title, used)] = prop
    return properties


def _runtime(graph: Graph, device: Node, assumptions: list[str]) -> dict[str, str]:
    for node in [device, *_descendants(graph, device)]:
        name = _first_text(graph, node, "runtimeName") or _first_text(graph, node, "runtime")
        if name:
            version = _first_text(graph, node, "runtimeVersion") or _first_text(
                graph, node, "softwareVersion"
            )
            if version:
                return {"name": name, "version": version}
            assumptions.append(
                f"runtime {name!r} has no version; assumed {DEFAULT_RUNTIME['version']}"
            )
            return {"name": name, "version": DEFAULT_RUNTIME["version"]}
    assumptions.append(
        f"no runtime in the seed description; assumed {DEFAULT_RUNTIME['name']} "
        f"{DEFAULT_RUNTIME['version']}"
    )
    return dict(DEFAULT_RUNTIME)


def _identify_board(
    graph: Graph, device: Node, texts: list[str], assumptions: list[str]
) -> SeedBoard | None:
    """The seed board named by ``texts`` (title, description, file name) or the MCU's comments."""
    mcu_nodes = [
        s for s in _objects(graph, device, "hasSubSystem") if set(_types(graph, s)) & _MCU_CLASSES
    ]
    if not mcu_nodes:
        assumptions.append("no microcontroller subsystem in the seed description")
    mcu_comment = " ".join(_first_text(graph, n, "comment") or "" for n in mcu_nodes)
    board = _match_board([*texts, mcu_comment])
    if board is None:
        assumptions.append(
            "board not in the seed board table: MCU core 'unknown' (coreFamily 'other'), "
            "48 MHz, no FPU, no DSP extension assumed"
        )
        return None
    mcu = board.mcu
    assumptions.append(
        f"board identified as {board.name} from its name; the seed gives no MCU facts, "
        f"so core {mcu['core']} ({mcu['coreFamily']}), part {mcu['part']}, "
        f"{mcu['clockHz']:,} Hz, FPU {'yes' if mcu['fpu'] else 'no'}, DSP extension "
        f"{'yes' if mcu['dsp'] else 'no'} are taken from the board table"
    )
    if board.note:
        assumptions.append(f"board table: {board.note}")
    return board


def _stated_memories(
    graph: Graph, device: Node, board: SeedBoard | None, label: str, assumptions: list[str]
) -> dict[str, dict[str, int]]:
    """The RAM and flash figures the seed file gives, as TD memories (first of each kind)."""
    memories: dict[str, dict[str, int]] = {}
    memory_nodes = [
        n
        for n in _descendants(graph, device)
        if next(_objects(graph, n, "value"), None) is not None
    ]
    for node in sorted(memory_nodes, key=lambda n: (",".join(_types(graph, n)), str(n))):
        kind = _memory_kind(graph, node)
        if kind is None:
            kind = _memory_kind_from_comment(graph, node)
            if kind is None:
                continue
            assumptions.append(
                f"a memory property without a RAM/Flash class was read as {kind} from its comment"
            )
        if kind in memories:
            assumptions.append(f"more than one {kind} figure; the first one was kept")
            continue
        value, how = _to_bytes(graph, node, kind, label, assumptions)
        if value <= 0:
            raise ThingDescriptionError(label, kind, f"memory size must be positive, got {how}")
        memories[kind] = _memory(kind, value, how, _memory_role(graph, node), board, assumptions)
    return memories


def _datasheet_memory(
    kind: str, board: SeedBoard | None, label: str, assumptions: list[str]
) -> dict[str, int]:
    """A memory the seed file does not give: the board's datasheet size, default reservation."""
    total = _datasheet_bytes(board, kind)
    if total is None:
        raise ThingDescriptionError(
            label,
            kind,
            f"no {kind} figure in the seed description and none known for the board",
        )
    reserved = _default_reserved(kind, total)
    assumptions.append(
        f"no {kind} figure in the seed description; used the datasheet's "
        f"{_bytes_text(total)} bytes with the default reservation of "
        f"{_bytes_text(reserved)} bytes"
    )
    return {"capacityBytes": total, "reservedBytes": reserved}


def _security_note(graph: Graph, device: Node, assumptions: list[str]) -> None:
    """Name the security schemes that the TD (always ``nosec``) does not carry over."""
    schemes = {
        (_first_text(graph, n, "scheme") or "").lower()
        for n in _objects(graph, device, "securityDefinitions")
    }
    if schemes - {"nosec", ""}:
        assumptions.append(
            f"security schemes {sorted(schemes - {'nosec', ''})} not carried "
            "over; the TD declares nosec"
        )


def convert_seed_device(path: Path) -> SeedConversion:
    """Convert one seed Turtle device description to a tinyreg TD.

    Args:
        path: A ``.ttl`` file of the seed project.

    Returns:
        The TD (which passes tinyreg's SHACL shapes), the assumptions made and the source.

    Raises:
        ThingDescriptionError: If the file cannot be read, is not Turtle, has no (or more
            than one) device node, or gives a memory figure that cannot be read as bytes.

    """
    label = str(path)
    graph = _parse(path)
    device = _find_device(graph, label)
    assumptions: list[str] = []
    title = _first_text(graph, device, "title")
    description = _first_text(graph, device, "description")
    board = _identify_board(graph, device, [title or "", description or "", path.stem], assumptions)
    used_board = board or _UNKNOWN_BOARD
    if title is None:
        title = board.name if board is not None else path.stem
        assumptions.append(f"no td:title; used {title!r}")
    memories = _stated_memories(graph, device, board, label, assumptions)
    for kind in ("ram", "flash"):
        if kind not in memories:
            memories[kind] = _datasheet_memory(kind, board, label, assumptions)
    sensors = _sensors(graph, device, assumptions)
    properties = _properties(graph, device)
    runtime = _runtime(graph, device, assumptions)
    _security_note(graph, device, assumptions)
    td: dict[str, Any] = {
        "@context": [TD_CONTEXT_URL, TINYREG_CONTEXT_URL],
        "@type": ["Thing", "Device"],
        "id": f"{DEVICE_PREFIX}seed-{_slug(path.stem)}",
        "title": title,
        "description": (
            f"{description + ' ' if description else ''}Converted from the seed "
            f"project's description {path.name}"
            f"{'; board: ' + board.name if board is not None else ''}."
        ),
        "manufacturer": used_board.manufacturer,
        "securityDefinitions": {"nosec_sc": {"scheme": "nosec"}},
        "security": "nosec_sc",
        "mcu": dict(used_board.mcu),
        "ram": memories["ram"],
        "flash": memories["flash"],
        "sensors": sensors,
        "runtime": runtime,
    }
    if isinstance(device, URIRef):
        td["links"] = [{"href": str(device), "rel": "alternate", "type": "text/turtle"}]
    if used_board.datasheet:
        td["datasheet"] = used_board.datasheet
    if properties:
        td["properties"] = properties
    return SeedConversion(td=td, assumptions=assumptions, source=label)


def convert_seed_devices(directory: Path) -> list[SeedConversion]:
    """Convert every ``*.ttl`` file of a directory, in file-name order.

    Args:
        directory: The seed project's ``devices`` directory.

    Returns:
        One conversion per file.

    Raises:
        ThingDescriptionError: If the directory cannot be listed or a file cannot be
            converted (the error names the file).

    """
    if not directory.is_dir():
        raise ThingDescriptionError(str(directory), None, "not a directory")
    return [convert_seed_device(path) for path in sorted(directory.glob("*.ttl"))]
