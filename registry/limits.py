"""What a device enforces, computed from its Thing Description and the runtime tables.

The device side (:mod:`tinyreg.firmware`) never reads TDs or the registry's tables: the
registry computes a :class:`~tinyreg.firmware.device.DeviceLimits` here and passes it in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rdflib import URIRef

from tinyreg.firmware.device import DeviceLimits
from tinyreg.registry.profile import ProfileFacts, profile_facts
from tinyreg.registry.reference import runtime_ram_overhead
from tinyreg.registry.td import load_td, td_to_graph

__all__ = ["device_limits", "limits_from_facts"]


def limits_from_facts(device: str, facts: ProfileFacts) -> DeviceLimits:
    """Limits from the figures the registry derives for matchmaking.

    Each of the two model slots gets half the flash the application leaves free.
    """
    return DeviceLimits(
        device=device,
        ram_bytes=facts.ram_capacity,
        ram_reserved=facts.ram_reserved,
        flash_bytes=facts.flash_capacity,
        flash_reserved=facts.flash_reserved,
        runtime=facts.runtime_name,
        runtime_version=facts.runtime_version,
        operators=facts.operators,
        runtime_ram_overhead=runtime_ram_overhead(facts.runtime_name, facts.runtime_version),
        slot_bytes=max(facts.flash_capacity - facts.flash_reserved, 0) // 2,
    )


def device_limits(td: Path | str | dict[str, Any]) -> DeviceLimits:
    """Limits from a Thing Description (file, JSON text or parsed).

    Raises:
        ThingDescriptionError: If the TD cannot be read.
        ValidationError: If it lacks a figure the device needs (RAM, flash, runtime).

    """
    label = str(td) if isinstance(td, Path) else "<document>"
    document = load_td(td, label)
    iri, graph = td_to_graph(document, label)
    return limits_from_facts(str(iri), profile_facts(graph, URIRef(iri)))
