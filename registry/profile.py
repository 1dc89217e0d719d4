"""Device profiles: what the matchmaker needs to know of a device, shared by identical devices.

A fleet of 100,000 boards holds far fewer distinct kinds of board: devices with the same
memories and reservations, core, clock, sensors and runtime are interchangeable for
matchmaking. At registration each device is linked (``tr:hasProfile``) to a profile derived
from its description, named by a digest of those figures, so hardware-identical devices
share one. The matchmaker solves its constraints over profiles and then expands the
fitting profiles to devices (see ``docs/design.md#matchmaking``).

When the device's firmware registers a fixed set of operators (``runtime.operators`` in the
TD), the profile's runtime is a *firmware build*: a runtime node that supports only those
operators and is based on the runtime release (``tr:runtimeRelease``), which holds the code
sizes and RAM overhead.

>>> facts = ProfileFacts(262144, 65536, 1048576, 188416, "Cortex-M4F", "cortex-m4",
...     64000000, True, True, "tflite-micro", "1.0", (), ("https://w3id.org/tinyreg#IMU",))
>>> iri, graph = profile_graph(facts)
>>> str(iri).startswith(PROFILE_PREFIX), len(graph) > 10
(True, True)
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

from rdflib import RDF, Graph, Literal, URIRef
from rdflib.namespace import RDFS, XSD
from rdflib.term import Node

from tinyreg.core.errors import ValidationError, Violation
from tinyreg.core.namespaces import OP, TR, runtime_iri
from tinyreg.ontology import ontology_graph

__all__ = [
    "BUILD_PREFIX",
    "PROFILE_PREFIX",
    "ProfileFacts",
    "profile_facts",
    "profile_graph",
    "provided_sensor_types",
]

PROFILE_PREFIX = "urn:tinyreg:profile:"
BUILD_PREFIX = "urn:tinyreg:build:"


@dataclass(frozen=True)
class ProfileFacts:
    """The figures of a device that matchmaking depends on.

    Attributes:
        ram_capacity: RAM in bytes.
        ram_reserved: RAM the application takes, in bytes.
        flash_capacity: Flash in bytes.
        flash_reserved: Flash the application takes, in bytes.
        core: The CPU core (e.g. ``Cortex-M4F``).
        core_family: The core family that names the per-core tables (e.g. ``cortex-m4``).
        clock_hz: Core clock in Hz.
        fpu: The core has a floating-point unit.
        dsp: The core has a DSP/SIMD extension.
        runtime_name: The installed runtime (e.g. ``tflite-micro``).
        runtime_version: Its version.
        operators: Operator types the firmware registers (local names, sorted); empty when
            the firmware offers every operator of the runtime release.
        sensor_types: IRIs of the declared sensor classes, sorted and distinct.

    """

    ram_capacity: int
    ram_reserved: int
    flash_capacity: int
    flash_reserved: int
    core: str
    core_family: str
    clock_hz: int
    fpu: bool
    dsp: bool
    runtime_name: str
    runtime_version: str
    operators: tuple[str, ...]
    sensor_types: tuple[str, ...]

    def digest(self) -> str:
        """A stable digest of the figures (24 hex digits)."""
        text = json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:24]

    @property
    def iri(self) -> URIRef:
        """The profile's IRI (``urn:tinyreg:profile:<digest>``)."""
        return URIRef(PROFILE_PREFIX + self.digest())

    @property
    def release(self) -> URIRef:
        """The IRI of the runtime release."""
        return runtime_iri(self.runtime_name, self.runtime_version)

    @property
    def runtime(self) -> URIRef:
        """What runs models: the release, or a firmware build with a fixed operator set."""
        if not self.operators:
            return self.release
        text = json.dumps([self.runtime_name, self.runtime_version, list(self.operators)])
        return URIRef(BUILD_PREFIX + hashlib.sha256(text.encode()).hexdigest()[:24])


def _one(graph: Graph, subject: Node | None, predicate: URIRef, what: str, device: str) -> Node:
    value = graph.value(subject, predicate) if subject is not None else None
    if value is None:
        raise ValidationError(
            device, [Violation(device, None, f"{what} is missing; the matchmaker needs it")]
        )
    return value


def _int(node: Node) -> int:
    return int(node.toPython()) if isinstance(node, Literal) else 0


def _bool(node: Node) -> bool:
    return bool(node.toPython()) if isinstance(node, Literal) else False


def profile_facts(graph: Graph, device: URIRef) -> ProfileFacts:
    """Read a device's profile figures from its (validated) graph.

    Args:
        graph: The device graph, as :func:`tinyreg.registry.td.td_to_graph` builds it.
        device: The device IRI.

    Returns:
        The figures.

    Raises:
        ValidationError: If a figure the matchmaker needs is missing.

    """
    label = str(device)
    ram = _one(graph, device, TR.hasRAM, "ram", label)
    flash = _one(graph, device, TR.hasFlash, "flash", label)
    mcu = _one(graph, device, TR.hasMCU, "mcu", label)
    runtime = _one(graph, device, TR.hasRuntime, "runtime", label)
    reserved_ram = graph.value(ram, TR.reservedBytes)
    reserved_flash = graph.value(flash, TR.reservedBytes)
    operators = sorted(
        {str(op).removeprefix(str(OP)) for op in graph.objects(runtime, TR.registersOperator)}
    )
    sensors = sorted(
        {
            str(cls)
            for sensor in graph.objects(device, TR.hasSensor)
            for cls in graph.objects(sensor, RDF.type)
            if isinstance(cls, URIRef)
        }
    )
    family = graph.value(mcu, TR.coreFamily)
    return ProfileFacts(
        ram_capacity=_int(_one(graph, ram, TR.capacityBytes, "ram.capacityBytes", label)),
        ram_reserved=_int(reserved_ram) if reserved_ram is not None else 0,
        flash_capacity=_int(_one(graph, flash, TR.capacityBytes, "flash.capacityBytes", label)),
        flash_reserved=_int(reserved_flash) if reserved_flash is not None else 0,
        core=str(_one(graph, mcu, TR.core, "mcu.core", label)),
        core_family=str(family) if family is not None else "other",
        clock_hz=_int(_one(graph, mcu, TR.clockHz, "mcu.clockHz", label)),
        fpu=_bool(_one(graph, mcu, TR.hasFPU, "mcu.fpu", label)),
        dsp=_bool(_one(graph, mcu, TR.hasDSP, "mcu.dsp", label)),
        runtime_name=str(_one(graph, runtime, TR.runtimeName, "runtime.name", label)),
        runtime_version=str(_one(graph, runtime, TR.runtimeVersion, "runtime.version", label)),
        operators=tuple(operators),
        sensor_types=tuple(sensors),
    )


def provided_sensor_types(declared: tuple[str, ...]) -> list[str]:
    """Sensor classes that sensors of the declared classes provide, by the ontology.

    Follows ``rdfs:subClassOf`` and ``tr:provides`` from each declared class (a 9-axis
    IMU provides an IMU, an accelerometer, a gyroscope, a magnetometer, a sensor).

    >>> [c.rsplit("#", 1)[1] for c in provided_sensor_types(("https://w3id.org/tinyreg#PDMMicrophone",))]
    ['Microphone', 'PDMMicrophone']
    """
    ontology = ontology_graph()
    found: set[str] = set()
    todo = [URIRef(c) for c in declared]
    while todo:
        cls = todo.pop()
        if str(cls) in found:
            continue
        found.add(str(cls))
        for parent in (
            *ontology.objects(cls, RDFS.subClassOf),
            *ontology.objects(cls, TR.provides),
        ):
            if isinstance(parent, URIRef):
                todo.append(parent)
    return sorted(c for c in found if c.startswith(str(TR)))


def profile_graph(facts: ProfileFacts) -> tuple[URIRef, Graph]:
    """The profile as RDF (its own named graph), with its firmware build if it has one.

    Args:
        facts: The profile figures.

    Returns:
        The profile IRI and its graph.

    """
    iri = facts.iri
    g = Graph()

    def integer(value: int) -> Literal:
        return Literal(value, datatype=XSD.integer)

    g.add((iri, RDF.type, TR.DeviceProfile))
    g.add((iri, TR.ramCapacityBytes, integer(facts.ram_capacity)))
    g.add((iri, TR.reservedRamBytes, integer(facts.ram_reserved)))
    g.add((iri, TR.flashCapacityBytes, integer(facts.flash_capacity)))
    g.add((iri, TR.reservedFlashBytes, integer(facts.flash_reserved)))
    g.add((iri, TR.core, Literal(facts.core)))
    g.add((iri, TR.coreFamily, Literal(facts.core_family)))
    g.add((iri, TR.clockHz, integer(facts.clock_hz)))
    g.add((iri, TR.hasFPU, Literal(facts.fpu)))
    g.add((iri, TR.hasDSP, Literal(facts.dsp)))
    g.add((iri, TR.runtimeName, Literal(facts.runtime_name)))
    g.add((iri, TR.runtimeVersion, Literal(facts.runtime_version)))
    g.add((iri, TR.runtime, facts.runtime))
    g.add((iri, TR.runtimeRelease, facts.release))
    for sensor in facts.sensor_types:
        g.add((iri, TR.sensorType, URIRef(sensor)))
    for provided in provided_sensor_types(facts.sensor_types):
        g.add((iri, TR.providesSensorType, URIRef(provided)))
    build = facts.runtime
    if build != facts.release:
        g.add((build, RDF.type, TR.Runtime))
        g.add((build, TR.runtimeName, Literal(facts.runtime_name)))
        g.add((build, TR.runtimeVersion, Literal(facts.runtime_version)))
        g.add((build, TR.runtimeRelease, facts.release))
        for index, name in enumerate(facts.operators):
            code = URIRef(f"{build}#op{index}")
            g.add((build, TR.supportsOperator, code))
            g.add((code, RDF.type, TR.OperatorCode))
            g.add((code, TR.operatorType, OP[name]))
            g.add((build, TR.registersOperator, OP[name]))
    return iri, g
