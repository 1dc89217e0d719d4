"""The synthetic fleet generator of ``benchmarks/fleet.py``, importable by tests."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from _paths import REPO


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
