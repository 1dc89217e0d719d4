"""The public surface is explicit and imports only go down.

Every module of every package is ranked in ``TIERS`` (lowest first). A module may import
modules of its own group (the same ``TIERS`` entry) or of a lower tier, never a higher one;
imports inside functions count as much as those at the top. No two top-level packages
import each other, and no module imports another package's private names.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest

import tinyreg.registry as api
from _paths import REPO

PACKAGES = ("ontology", "kg_data", "core", "matchmaker", "firmware", "registry")

# lowest first; a module's group is the longest entry its dotted name starts with
TIERS: tuple[tuple[str, ...], ...] = (
    ("ontology", "kg_data"),
    ("core.errors", "core.iris", "core.lazy"),
    ("core.namespaces", "core.literals"),
    ("core.vocabulary", "core.queries", "core.sparql_text"),
    ("core.stores", "core.tflite"),
    ("core.arena", "core.protocol", "core.mqtt"),
    ("core",),
    ("firmware.vibration", "firmware.linkmap", "matchmaker.dialect", "matchmaker.fitcheck"),
    ("matchmaker.fits", "matchmaker.constraints", "firmware.device"),
    ("firmware.sensing", "firmware.framing"),
    ("matchmaker.engine", "firmware.fleet", "firmware.bridge"),
    ("matchmaker", "firmware"),
    ("firmware.agents",),
    ("registry.conformance",),
    (
        "registry.cards",
        "registry.ids",
        "registry.td",
        "registry.seed_import",
        "registry.requirements",
        "registry.reference",
        "registry.reasoning",
        "registry.validate",
        "registry.profile",
        "registry.blobs",
        "registry.local",
        "registry.records",
    ),
    ("registry.reader",),
    ("registry.model_rdf",),
    ("registry.bench", "registry.deployments"),
    ("registry.target_bench",),
    ("registry.catalogue", "registry.limits"),
    ("registry.telemetry", "registry.versions", "registry.retrain"),
    ("registry.drift",),
    ("registry.directory", "registry.deployer", "registry.report", "registry.loop"),
    ("registry.service",),
    ("registry.served",),
    ("registry",),
    (
        "registry.rest.settings",
        "registry.rest.problems",
        "registry.rest.events",
        "registry.rest.inputs",
        "registry.rest.metrics",
        "registry.rest.funnel",
        "registry.rest.cache",
    ),
    ("registry.rest.wot", "registry.rest.sparql", "registry.rest.reports", "registry.rest.relay"),
    ("registry.rest.search",),
    ("registry.rest.shared", "registry.rest.fast"),
    (
        "registry.rest.routes.wot",
        "registry.rest.routes.things",
        "registry.rest.routes.events",
        "registry.rest.routes.search",
        "registry.rest.routes.models",
        "registry.rest.routes.match",
        "registry.rest.routes.deployments",
        "registry.rest.routes.reports",
        "registry.rest.routes.graph",
        "registry.rest.routes.loop",
        "registry.rest.routes.health",
    ),
    ("registry.rest.routes",),
    ("registry.rest.app",),
    ("registry.rest.serving",),
    ("registry.rest",),
    ("registry.cli",),
)
RANK = {group: rank for rank, groups in enumerate(TIERS) for group in groups}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _group(module: str) -> str:
    best = ""
    for group in RANK:
        if (module == group or module.startswith(group + ".")) and len(group) > len(best):
            best = group
    if not best:
        raise AssertionError(f"{module} has no tier in TIERS: add it")
    return best


def _modules() -> Iterator[tuple[str, Path]]:
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            yield _module_name(path), path


def _imports(path: Path) -> Iterator[tuple[str, list[str]]]:
    """(module, imported names) for every first-party import, wherever it is written."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "tinyreg" or node.module.startswith("tinyreg."):
                yield node.module.removeprefix("tinyreg").lstrip("."), [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}: relative import; write tinyreg.… in full")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("tinyreg."):
                    yield alias.name.removeprefix("tinyreg."), []


def _targets(module: str, names: list[str]) -> Iterator[str]:
    """The modules an import reaches: ``from a import b`` reaches ``a.b`` when b is one."""
    known = {name for name, _ in _modules()}
    yield module
    for name in names:
        if f"{module}.{name}" in known:
            yield f"{module}.{name}"


def test_every_module_has_a_tier():
    for module, _ in _modules():
        _group(module)


def test_imports_only_go_down():
    wrong = []
    for module, path in _modules():
        own = _group(module)
        for target, names in _imports(path):
            if not target:
                continue  # the bare ``tinyreg`` package holds only the version
            for reached in _targets(target, names):
                group = _group(reached)
                if group != own and RANK[group] >= RANK[own]:
                    wrong.append(f"{module} ({own}) imports {reached} ({group})")
    assert not wrong, "\n".join(wrong)


def test_no_two_packages_import_each_other():
    edges: set[tuple[str, str]] = set()
    for module, path in _modules():
        for target, _ in _imports(path):
            if target and target.split(".")[0] != module.split(".")[0]:
                edges.add((module.split(".")[0], target.split(".")[0]))
    # a cycle of any length shows as a package reaching itself
    reach = {p: {b for a, b in edges if a == p} for p in PACKAGES}
    for _ in PACKAGES:
        for p in PACKAGES:
            reach[p] |= {c for b in reach[p] for c in reach.get(b, set())}
    assert [p for p in PACKAGES if p in reach[p]] == []


def test_no_private_names_across_packages():
    wrong = []
    for module, path in _modules():
        for target, names in _imports(path):
            if not target or target.split(".")[0] == module.split(".")[0]:
                continue
            private = [n for n in names if n.startswith("_")]
            if private or any(part.startswith("_") for part in target.split(".")):
                wrong.append(f"{module} imports {target} {private}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(
    "source",
    [
        "from tinyreg.registry.service import Registry",  # firmware reaching up
        "def f():\n    from tinyreg.registry import cli",  # inside a function
    ],
)
def test_the_check_sees_upward_imports(source: str, tmp_path: Path) -> None:
    path = tmp_path / "probe.py"
    path.write_text(source)
    target, names = next(_imports(path))
    reached = list(_targets(target, names))
    assert any(RANK[_group(r)] > RANK[_group("firmware.device")] for r in reached)


def _packages() -> Iterator[str]:
    """Every package (a folder with ``__init__.py``), as its import name."""
    yield "tinyreg"
    for package in PACKAGES:
        for init in sorted((REPO / package).rglob("__init__.py")):
            yield "tinyreg." + _module_name(init)


def test_public_names_are_exported_and_exist():
    assert sorted(api.__all__) == api.__all__
    for name in api.__all__:
        assert hasattr(api, name), name
    assert "Registry" in api.__all__ and "Catalogue" in api.__all__


@pytest.mark.parametrize("package", list(_packages()))
def test_every_package_declares_its_public_names(package: str) -> None:
    """Each package ``__init__`` has an explicit, sorted ``__all__`` of names it has."""
    module = importlib.import_module(package)
    exported = getattr(module, "__all__", None)
    assert isinstance(exported, list), f"{package} has no __all__"
    assert exported == sorted(exported), f"{package}.__all__ is not sorted"
    for name in exported:
        assert hasattr(module, name), f"{package}.__all__ names {name}, which is missing"


def test_no_print_in_library_code():
    for folder in ("core", "registry", "ontology", "matchmaker", "firmware"):
        for path in (REPO / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
                    raise AssertionError(f"print in {path}")


def test_ontology_and_shapes_ship_as_package_data():
    text = (REPO / "pyproject.toml").read_text()
    assert '"tinyreg.ontology" = ["*.ttl", "*.jsonld"]' in text
    assert Path(REPO / "ontology" / "__init__.py").is_file()


def test_the_link_package_names_every_folder():
    for package in PACKAGES:
        link = REPO / "tinyreg" / package
        assert link.is_symlink() and link.resolve() == (REPO / package).resolve(), package


def test_the_wheel_ships_every_data_file_without_warnings(tmp_path: Path) -> None:
    """A regular (non-editable) build follows the links and packs the data folders."""
    import shutil
    import subprocess
    import sys
    import zipfile

    source = tmp_path / "source"  # a clean copy: setuptools keeps stale files in build/
    shutil.copytree(
        REPO,
        source,
        symlinks=True,
        ignore=shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "__pycache__"),
    )
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(source)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    assert "Warning" not in built.stderr, built.stderr
    (wheel,) = tmp_path.glob("tinyreg-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    suffixes = (".rq", ".ttl", ".tflite", ".jsonld", ".yaml", ".py")
    for package in PACKAGES:
        for path in (REPO / package).rglob("*"):
            if path.suffix in suffixes and "__pycache__" not in path.parts:
                assert f"tinyreg/{path.relative_to(REPO)}" in names, path
