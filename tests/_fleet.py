"""The synthetic fleet generator of ``benchmarks/fleet.py``, importable by tests."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from _paths import REPO
from tinyreg.core.stores import OxigraphStore
from tinyreg.registry import Registry


def load_fleet_module() -> ModuleType:
    """Import ``benchmarks/fleet.py`` (not a package) once."""
    name = "tinyreg_bench_fleet"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / "benchmarks" / "fleet.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def bulk_loaded(root: Path, devices: int, models: int, **options: Any) -> tuple[Registry, Any]:
    """A registry on a fresh store under ``root`` holding a synthetic fleet, bulk loaded.

    The registry is opened first (reference graphs), then the fleet is loaded: its models
    already hold the requirements ``Registry.add_model`` derives, so opening must not
    derive them again. Nothing is in the fit index. Returns the registry and the
    fleet's ``FleetInfo``.
    """
    nq = root / "fleet.nq"
    info = load_fleet_module().write_fleet(nq, devices, models, **options)
    reg = Registry(OxigraphStore(root / "store"))
    reg.store.bulk_load(nq, rdf_format="nq")
    return reg, info
