"""tinyreg: a semantic registry of TinyML models and microcontroller devices.

The public Python API. Everything else in this package is internal.

>>> from tinyreg.registry import Registry
>>> with Registry.open(in_memory=True) as registry:
...     [d.title for d in registry.list_devices()]
[]
"""

from tinyreg.core.arena import ArenaMeasurement, measure_arena
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
from tinyreg.core.stores import GraphStore, QueryResult, open_store
from tinyreg.core.tflite import ModelInfo, parse_tflite, parse_tflite_file
from tinyreg.registry.bench import HostBenchmark
from tinyreg.registry.cards import Metric, ModelCard, load_card, seed_cards
from tinyreg.registry.deployments import DeploymentRecord
from tinyreg.registry.facade import (
    DeviceRecord,
    ImportReport,
    ModelRecord,
    Registry,
    ThingGraphs,
)

__all__ = [
    "AmbiguousIdError",
    "ArenaMeasurement",
    "BenchmarkError",
    "BrokerError",
    "CardError",
    "ConfigError",
    "DeploymentError",
    "DeploymentRecord",
    "DeviceRecord",
    "DeviceRefusedError",
    "DeviceTimeoutError",
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
    "measure_arena",
    "open_store",
    "parse_tflite",
    "parse_tflite_file",
    "seed_cards",
]
