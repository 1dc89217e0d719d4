"""The TFLite Micro runtime and core-family reference data under kg_data/runtimes."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import sys
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, SH

from _paths import KG_DATA, SEED_MODELS, requires_files
from tinyreg.core.tflite import parse_tflite_file
from tinyreg.ontology import read_text

TR = Namespace("https://w3id.org/tinyreg#")
OP = "https://w3id.org/tinyreg/op/"
RUNTIMES = KG_DATA / "runtimes"
SCRIPT = KG_DATA / "runtime_tables.py"
FAMILIES = (
    "cortex-m0",
    "cortex-m0plus",
    "cortex-m3",
    "cortex-m4",
    "cortex-m7",
    "cortex-m33",
    "cortex-m55",
    "cortex-m85",
    "xtensa-lx6",
    "xtensa-lx7",
    "riscv32",
    "arc-em",
    "other",
)
KG_MODELS = sorted((KG_DATA / "models").glob("*.tflite"))
SEED_FILES = sorted(SEED_MODELS.glob("*.tflite"))


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("kg_runtime_tables", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations via sys.modules
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def runtime() -> Graph:
    return Graph().parse(RUNTIMES / "tflite-micro.ttl", format="turtle")


@pytest.fixture(scope="module")
def cores() -> Graph:
    return Graph().parse(RUNTIMES / "cores.ttl", format="turtle")


@pytest.fixture(scope="module")
def runtime_node(runtime: Graph) -> URIRef:
    nodes = list(runtime.subjects(RDF.type, TR.Runtime))
    assert len(nodes) == 1
    node = nodes[0]
    assert isinstance(node, URIRef)
    return node


@pytest.fixture(scope="module")
def supported(runtime: Graph, runtime_node: URIRef) -> set[str]:
    ops = set()
    for code in runtime.objects(runtime_node, TR.supportsOperator):
        op = runtime.value(code, TR.operatorType)
        assert isinstance(op, URIRef) and str(op).startswith(OP)
        ops.add(str(op)[len(OP) :])
    return ops


def test_runtime_version_is_the_installed_wheel(runtime: Graph, runtime_node: URIRef) -> None:
    version = importlib.metadata.version("tflite-micro")
    assert str(runtime_node) == f"https://w3id.org/tinyreg/runtime/tflite-micro/{version}"
    assert runtime.value(runtime_node, TR.runtimeVersion) == Literal(version)
    assert runtime.value(runtime_node, TR.runtimeName) == Literal("tflite-micro")


def test_core_builtins_are_supported(supported: set[str]) -> None:
    assert {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "SOFTMAX"} <= supported


def test_ram_overhead_is_positive(runtime: Graph, runtime_node: URIRef) -> None:
    ram = runtime.value(runtime_node, TR.ramOverheadBytes)
    assert isinstance(ram, Literal) and int(ram) > 0


def _model_ops(path: Path) -> set[str]:
    info = parse_tflite_file(path)
    return {c.custom_code if c.is_custom and c.custom_code else c.name for c in info.operator_codes}


@pytest.mark.parametrize("path", KG_MODELS, ids=lambda p: p.stem)
def test_kg_model_operators_are_supported(path: Path, supported: set[str]) -> None:
    assert _model_ops(path) <= supported


@requires_files(SEED_FILES, SEED_MODELS)
def test_seed_model_operators_are_supported(supported: set[str]) -> None:
    # Person_Detection is refused by the registry for other reasons; its ops still count.
    missing = {p.stem: _model_ops(p) - supported for p in SEED_FILES}
    assert {stem: ops for stem, ops in missing.items() if ops} == {}
    assert len(SEED_FILES) >= 22


def test_every_operator_has_a_positive_size_per_family(
    runtime: Graph, runtime_node: URIRef, supported: set[str]
) -> None:
    sizes: dict[tuple[str, str | None], int] = {}
    nodes = list(runtime.objects(runtime_node, TR.hasCodeSize))
    cores = list(runtime.objects(runtime_node, TR.hasCoreCodeSize))
    assert all(runtime.value(n, TR.operatorType) is not None for n in nodes)
    assert all(runtime.value(n, TR.operatorType) is None for n in cores)
    for node in nodes + cores:
        family = str(runtime.value(node, TR.coreFamily))
        op = runtime.value(node, TR.operatorType)
        key = (family, str(op)[len(OP) :] if op is not None else None)
        assert key not in sizes
        sizes[key] = int(runtime.value(node, TR.codeBytes))  # type: ignore[arg-type]
    for family in FAMILIES:
        assert sizes[(family, None)] > 0
        for op in supported:
            assert sizes[(family, op)] > 0, (family, op)
    assert len(sizes) == len(FAMILIES) * (len(supported) + 1)


def test_cores_have_all_figures(cores: Graph) -> None:
    found = {str(cores.value(n, TR.coreFamily)): n for n in cores.subjects(RDF.type, TR.CoreFamily)}
    assert set(found) == set(FAMILIES)
    for family, node in found.items():
        assert node == URIRef(f"https://w3id.org/tinyreg/core/{family}")
        vals = {
            p: Decimal(str(cores.value(node, p)))
            for p in (
                TR.cyclesPerMacInt8,
                TR.cyclesPerMacInt8Simd,
                TR.cyclesPerMacFloat,
                TR.cyclesPerMacFloatSoft,
            )
        }
        assert all(v > 0 for v in vals.values()), family
        assert vals[TR.cyclesPerMacInt8Simd] <= vals[TR.cyclesPerMacInt8], family
        assert vals[TR.cyclesPerMacFloat] <= vals[TR.cyclesPerMacFloatSoft], family


def _canonical(graph: Graph) -> set[tuple[object, ...]]:
    """Triples with each blank node replaced by its own description.

    Every blank node in these files is a leaf (it has properties but no blank
    node objects), so replacing it by the sorted set of its properties is an
    exact isomorphism check when no two blank nodes share a description; that
    is asserted. rdflib's general isomorphism test is far slower on the
    thousand-odd code-size nodes.
    """
    described: dict[BNode, tuple[tuple[str, str], ...]] = {}
    for node in set(graph.subjects()) | set(graph.objects()):
        if isinstance(node, BNode):
            props = graph.predicate_objects(node)
            assert not any(isinstance(o, BNode) for _, o in graph.predicate_objects(node))
            described[node] = tuple(sorted((str(p), o.n3()) for p, o in props))
    assert len(set(described.values())) == len(described)
    return {
        tuple(described.get(term, term) for term in triple)  # type: ignore[call-overload]
        for triple in graph
    }


def test_regeneration_matches_committed_files(tmp_path: Path) -> None:
    module = _script()
    module.write(tmp_path)
    for name in ("tflite-micro.ttl", "cores.ttl"):
        fresh = Graph().parse(tmp_path / name, format="turtle")
        committed = Graph().parse(RUNTIMES / name, format="turtle")
        assert _canonical(fresh) == _canonical(committed), name
    runtime = module.build_runtime_graph()
    committed = Graph().parse(RUNTIMES / "tflite-micro.ttl", format="turtle")
    assert _canonical(runtime) == _canonical(committed)
    assert isomorphic(module.build_cores_graph(), Graph().parse(RUNTIMES / "cores.ttl"))


def test_tables_cover_every_core_family_a_device_may_declare() -> None:
    shapes = Graph().parse(data=read_text("shapes.ttl"), format="turtle")
    allowed = set()
    for prop in shapes.subjects(SH.path, TR.coreFamily):
        members = shapes.value(prop, SH["in"])
        if members is not None:
            allowed |= {str(m) for m in Collection(shapes, members)}
    assert allowed == set(FAMILIES)
