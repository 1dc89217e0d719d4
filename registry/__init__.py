"""tinyreg: a semantic registry of TinyML models and microcontroller devices.

The public Python API: :class:`Registry`, the one service every shell calls (catalogue,
directory, matching, deployments, benchmarks, reports), its records and the exception tree.
Everything else in this package is internal.

The exceptions are imported with the package; the other names are loaded on first use, so
that importing the package (as the CLI does before it knows the command) does not load the
graph store, the TFLite Micro runtime or pySHACL.

>>> from tinyreg.registry import Registry
>>> with Registry.open(in_memory=True) as registry:
...     [d.title for d in registry.list_devices()], registry.match(everything=True)
([], [])
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tinyreg.core.errors import (
    AmbiguousIdError,
    BenchmarkError,
    BrokerError,
    CardError,
    ConfigError,
    DeploymentError,
    DeviceRefusedError,
    DeviceTimeoutError,
    InputError,
    ModelFileError,
    NotFoundError,
    PairRefusedError,
    QueryError,
    StoreError,
    ThingDescriptionError,
    TinyregError,
    ValidationError,
    Violation,
)
from tinyreg.core.lazy import lazy_names

if TYPE_CHECKING:
    from tinyreg.core.arena import ArenaMeasurement, measure_arena
    from tinyreg.core.stores import GraphStore, QueryResult, open_store
    from tinyreg.core.tflite import ModelInfo, parse_tflite, parse_tflite_file
    from tinyreg.registry.bench import HostBenchmark
    from tinyreg.registry.blobs import FoundModel
    from tinyreg.registry.cards import Metric, ModelCard, load_card, seed_cards
    from tinyreg.registry.catalogue import (
        Catalogue,
        DeviceRecord,
        ImportReport,
        ModelRecord,
        ThingGraphs,
    )
    from tinyreg.registry.deployments import DeploymentRecord
    from tinyreg.registry.service import BenchOutcome, BenchResult, Registry, match_dict

__all__ = [
    "AmbiguousIdError",
    "ArenaMeasurement",
    "BenchOutcome",
    "BenchResult",
    "BenchmarkError",
    "BrokerError",
    "CardError",
    "Catalogue",
    "ConfigError",
    "DeploymentError",
    "DeploymentRecord",
    "DeviceRecord",
    "DeviceRefusedError",
    "DeviceTimeoutError",
    "FoundModel",
    "GraphStore",
    "HostBenchmark",
    "ImportReport",
    "InputError",
    "Metric",
    "ModelCard",
    "ModelFileError",
    "ModelInfo",
    "ModelRecord",
    "NotFoundError",
    "PairRefusedError",
    "QueryError",
    "QueryResult",
    "Registry",
    "StoreError",
    "ThingDescriptionError",
    "ThingGraphs",
    "TinyregError",
    "ValidationError",
    "Violation",
    "load_card",
    "match_dict",
    "measure_arena",
    "open_store",
    "parse_tflite",
    "parse_tflite_file",
    "seed_cards",
]

_LAZY = {
    "ArenaMeasurement": "tinyreg.core.arena",
    "measure_arena": "tinyreg.core.arena",
    "GraphStore": "tinyreg.core.stores",
    "QueryResult": "tinyreg.core.stores",
    "open_store": "tinyreg.core.stores",
    "ModelInfo": "tinyreg.core.tflite",
    "parse_tflite": "tinyreg.core.tflite",
    "parse_tflite_file": "tinyreg.core.tflite",
    "HostBenchmark": "tinyreg.registry.bench",
    "FoundModel": "tinyreg.registry.blobs",
    "Metric": "tinyreg.registry.cards",
    "ModelCard": "tinyreg.registry.cards",
    "load_card": "tinyreg.registry.cards",
    "seed_cards": "tinyreg.registry.cards",
    "Catalogue": "tinyreg.registry.catalogue",
    "DeviceRecord": "tinyreg.registry.catalogue",
    "ImportReport": "tinyreg.registry.catalogue",
    "ModelRecord": "tinyreg.registry.catalogue",
    "ThingGraphs": "tinyreg.registry.catalogue",
    "DeploymentRecord": "tinyreg.registry.deployments",
    "BenchOutcome": "tinyreg.registry.service",
    "BenchResult": "tinyreg.registry.service",
    "Registry": "tinyreg.registry.service",
    "match_dict": "tinyreg.registry.service",
}


__getattr__ = lazy_names(globals(), _LAZY)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
