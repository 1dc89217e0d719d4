"""The public surface is explicit and data flows one way."""

from __future__ import annotations

import ast
from pathlib import Path

import tinyreg.registry as api
from _paths import REPO

# lower layers must not import higher ones
LAYERS = {
    "errors": 0,
    "namespaces": 0,
    "tflite": 1,
    "arena": 1,
    "cards": 1,
    "td": 1,
    "seed_import": 1,
    "model_rdf": 2,
    "validate": 2,
    "reasoning": 2,
    "stores": 2,
    "profile": 3,
    "fits": 3,
    "deployments": 3,
    "bench": 3,
    "requirements": 1,
    "facade": 4,
    "directory": 4,
    "deployer": 5,
    "report": 5,
    "cli": 6,
    "rest": 6,
}


def test_public_names_are_exported_and_exist():
    assert sorted(api.__all__) == api.__all__
    for name in api.__all__:
        assert hasattr(api, name), name


def test_no_upward_imports_in_registry():
    for path in (REPO / "registry").rglob("*.py"):
        rel = path.relative_to(REPO / "registry")
        module = rel.parts[0].removesuffix(".py")
        if module == "__init__":
            continue
        level = LAYERS[module]
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.module.startswith("tinyreg.registry.")
            ):
                target = node.module.split(".")[2]
                assert LAYERS[target] <= level, f"{rel} imports {node.module}"


def test_no_print_in_library_code():
    for folder in ("registry", "ontology", "matchmaker", "firmware"):
        for path in (REPO / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
                    raise AssertionError(f"print in {path}")


def test_ontology_and_shapes_ship_as_package_data():
    text = (REPO / "pyproject.toml").read_text()
    assert '"tinyreg.ontology" = ["*.ttl", "*.jsonld"]' in text
    assert Path(REPO / "ontology" / "__init__.py").is_file()
