"""The N-Triples description, its lean SHACL check and its write path.

* :func:`describe_model` writes what :func:`model_to_graph` (the rdflib reference)
  builds: the graphs are isomorphic for every seed and ``kg_data`` model.
* :func:`lean_triples` keeps every triple the shapes can read: checking the lean part
  finds exactly the violations of checking the whole description, on every seed and
  ``kg_data`` model and on broken descriptions that break each constraint of the model
  shapes (every message of the model shape is among the refusals).
* ``replace_graphs_text`` writes new and existing graphs atomically and refuses bad text
  without writing anything; the descriptions, written as trusted text (parsed
  leniently), are stored exactly as when every IRI is checked again.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph, URIRef
from rdflib.compare import isomorphic

from _paths import KG_DATA, seed_models
from tinyreg.core.arena import measure_arena
from tinyreg.core.errors import InputError
from tinyreg.core.stores import OxigraphStore
from tinyreg.core.tflite import parse_tflite
from tinyreg.ontology import shapes_graph
from tinyreg.registry.cards import Metric, ModelCard
from tinyreg.registry.conformance import surely_conforms
from tinyreg.registry.model_rdf import ModelDescription, describe_model, model_to_graph
from tinyreg.registry.validate import (
    SH,
    _add_triples,
    check,
    lean_triples,
    validate,
    validate_descriptions,
)

TR = "https://w3id.org/tinyreg#"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
KG_MODELS = sorted((KG_DATA / "models").glob("*.tflite"))

Triple = tuple[str, str, str]


def _models() -> list[Path]:
    models = [*seed_models(), *KG_MODELS]
    assert len(models) >= 30, "seed or kg_data models missing"
    return models


def _card(stem: str) -> ModelCard:
    """A card that fills every field the description writes, with awkward text."""
    return ModelCard(
        name=f'{stem} "quoted"\nsecond line \\ backslash é',
        description="a description\r\nwith a carriage return",
        task="classification",
        input_modality="audio",
        required_sensors=("IMU", "PDMMicrophone"),
        labels=("yes", 'no "really"'),
        dataset="speech commands",
        metric=Metric("accuracy", 0.9123456789),
        creator="someone",
        license="Apache-2.0",
        framework="tflite",
        source_url="https://example.org/model?x=1&y=2",
        version="3",
    )


@cache
def _described(path: Path) -> tuple[ModelDescription, Graph]:
    data = path.read_bytes()
    info = parse_tflite(data, str(path))
    arena = measure_arena(data, info=info)
    ident = path.stem.lower().replace("_", "-").strip("-")
    card = _card(path.stem)
    _, graph = model_to_graph(ident, info, arena, card)
    return describe_model(ident, info, arena, card), graph


@pytest.mark.parametrize("path", _models(), ids=lambda p: p.stem)
def test_the_text_description_is_the_rdflib_one(path: Path) -> None:
    description, reference = _described(path)
    parsed = description.to_graph()
    assert len(parsed) == len(reference) == len(description) > 100
    assert isomorphic(parsed, reference)


@pytest.mark.parametrize("path", _models(), ids=lambda p: p.stem)
def test_the_lean_part_is_checked_as_the_whole(path: Path) -> None:
    description, reference = _described(path)
    lean = lean_triples(description.triples)
    assert lean is not None and len(lean) < len(description)
    assert check(_add_triples(Graph(), lean)) == check(reference) == []
    # and the compiled test says so too, on the lean part and on the whole
    assert surely_conforms(lean) and surely_conforms(description.triples)


# --------------------------------------------------------------------------- broken


def _p(name: str) -> str:
    return f"<{TR}{name}>"


def _int(value: int) -> str:
    return f'"{value}"^^<{XSD}integer>'


def _without(predicate: str) -> Callable[[list[Triple]], list[Triple]]:
    return lambda ts: [t for t in ts if t[1] != _p(predicate)]


def _replace(predicate: str, value: str, first_only: bool = False):
    def spoil(ts: list[Triple]) -> list[Triple]:
        out, done = [], False
        for s, p, o in ts:
            if p == _p(predicate) and not (first_only and done):
                out.append((s, p, value))
                done = True
            else:
                out.append((s, p, o))
        return out

    return spoil


def _twice(predicate: str, value: str):
    """A second value on the first subject that has the predicate."""

    def spoil(ts: list[Triple]) -> list[Triple]:
        subject = next(s for s, p, _ in ts if p == _p(predicate))
        return [*ts, (subject, _p(predicate), value)]

    return spoil


def _on(target: str, predicate: str, change: str, value: str | None = None):
    """Change ``predicate`` only on the model's first input/output/opcode/assessment node."""

    def spoil(ts: list[Triple]) -> list[Triple]:
        model = ts[0][0]
        node = next(o for s, p, o in ts if s == model and p == _p(target))
        if predicate == "quantizationScheme":  # on the tensor's quantization node
            node = next(o for s, p, o in ts if s == node and p == _p("hasQuantization"))
        if change == "drop":
            return [t for t in ts if not (t[0] == node and t[1] == _p(predicate))]
        if change == "add":
            assert value is not None
            return [*ts, (node, _p(predicate), value)]
        assert value is not None
        return [(s, p, value if s == node and p == _p(predicate) else o) for s, p, o in ts]

    return spoil


def _model_triple(predicate: str, value: str):
    def spoil(ts: list[Triple]) -> list[Triple]:
        return [*ts, (ts[0][0], predicate, value)]

    return spoil


BROKEN: dict[str, Callable[[list[Triple]], list[Triple]]] = {
    "name-missing": lambda ts: [
        t for t in ts if not (t[0] == ts[0][0] and "schema.org/name" in t[1])
    ],
    "name-twice": _model_triple("<https://schema.org/name>", '"another"'),
    "name-empty": lambda ts: [
        (s, p, '""' if s == ts[0][0] and "schema.org/name" in p else o) for s, p, o in ts
    ],
    "name-not-a-string": lambda ts: [
        (s, p, _int(3) if s == ts[0][0] and "schema.org/name" in p else o) for s, p, o in ts
    ],
    "model-bytes-missing": _without("modelBytes"),
    "model-bytes-zero": _replace("modelBytes", _int(0)),
    "model-bytes-not-integer": _replace("modelBytes", f'"12"^^<{XSD}string>'),
    "model-bytes-twice": _twice("modelBytes", _int(7)),
    "flash-bytes-zero": _replace("flashBytes", _int(0)),
    "sha256-missing": _without("sha256"),
    "sha256-pattern": _replace("sha256", '"ABC"'),
    "macs-negative": _replace("macs", _int(-1)),
    "macs-missing": _without("macs"),
    "parameters-negative": _replace("parameterCount", _int(-5)),
    "quantization-unknown": _replace("quantizationType", '"int4"'),
    "quantization-twice": _twice("quantizationType", '"int8x"'),
    "opcodes-missing": _without("hasOperatorCode"),
    "opcode-name-missing": _on("hasOperatorCode", "opcodeName", "drop"),
    "opcode-name-twice": _on("hasOperatorCode", "opcodeName", "add", '"OTHER"'),
    "opcode-version-zero": _on("hasOperatorCode", "operatorVersion", "set", _int(0)),
    "opcode-custom-not-boolean": _on("hasOperatorCode", "isCustom", "set", '"no"'),
    "opcode-type-literal": _on("hasOperatorCode", "operatorType", "set", '"CONV_2D"'),
    "opcode-type-missing": _on("hasOperatorCode", "operatorType", "drop"),
    "inputs-missing": lambda ts: [
        t for t in ts if not (t[0] == ts[0][0] and t[1] == _p("hasInput"))
    ],
    "input-shape-pattern": _on("hasInput", "shape", "set", '"1,a,3"'),
    "input-shape-missing": _on("hasInput", "shape", "drop"),
    "input-dtype-missing": _on("hasInput", "dtype", "drop"),
    "input-size-negative": _on("hasInput", "sizeBytes", "set", _int(-1)),
    "input-two-quantizations": _on("hasInput", "hasQuantization", "add", f"<{TR}q-extra>"),
    "input-scheme-unknown": _on("hasInput", "quantizationScheme", "set", '"per-axis"'),
    "outputs-missing": lambda ts: [
        t for t in ts if not (t[0] == ts[0][0] and t[1] == _p("hasOutput"))
    ],
    "output-dtype-missing": _on("hasOutput", "dtype", "drop"),
    "assessment-missing": _without("hasRuntimeAssessment"),
    "runnable-missing": _on("hasRuntimeAssessment", "runnable", "drop"),
    "runnable-not-boolean": _on("hasRuntimeAssessment", "runnable", "set", '"yes"'),
    "runtime-literal": _on("hasRuntimeAssessment", "assessedRuntime", "set", '"tflm"'),
    "arena-zero": _on("hasRuntimeAssessment", "arenaBytes", "set", _int(0)),
    "runnable-without-arena": _on("hasRuntimeAssessment", "arenaBytes", "drop"),
    "refused-without-reason": _on(
        "hasRuntimeAssessment", "runnable", "set", f'"false"^^<{XSD}boolean>'
    ),
    "task-unknown": _replace("task", f"<{TR}Dancing>"),
    "task-twice": _twice("task", f"<{TR}Regression>"),
    "modality-unknown": _replace("inputModality", f"<{TR}Smell>"),
    "metric-name-missing": _without("metricName"),
    "metric-value-string": _replace("metricValue", '"high"'),
    "sensor-not-a-sensor": _replace("requiresSensorType", f"<{TR}Model>", first_only=True),
    "sensor-unknown": _replace("requiresSensorType", f"<{TR}NoSuchSensor>", first_only=True),
    "a-second-model-node": lambda ts: [
        *ts,
        (f"<{TR}ghost>", RDF_TYPE, f"<{TR}Model>"),
    ],
}


def _model_shape_messages() -> set[str]:
    shapes = shapes_graph()
    shape = URIRef("https://w3id.org/tinyreg/shapes#ModelShape")
    return {str(shapes.value(p, SH.message)) for p in shapes.objects(shape, SH.property)}


@pytest.fixture(scope="module")
def base() -> ModelDescription:
    path = KG_DATA / "models" / "kws-dscnn-int8.tflite"
    return _described(path)[0]


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_description_is_refused_as_the_whole_check_refuses_it(
    base: ModelDescription, case: str
) -> None:
    broken = BROKEN[case](list(base.triples))
    assert broken != base.triples
    whole = check(_add_triples(Graph(), broken))
    lean = lean_triples(broken)
    assert lean is not None
    assert whole, f"{case}: the shapes should refuse it"
    assert check(_add_triples(Graph(), lean)) == whole
    # the compiled test never passes what pySHACL refuses
    assert not surely_conforms(lean) and not surely_conforms(broken)


def test_the_broken_descriptions_cover_every_model_constraint(base: ModelDescription) -> None:
    seen: set[str] = set()
    for spoil in BROKEN.values():
        seen.update(v.message for v in check(_add_triples(Graph(), spoil(list(base.triples)))))
    assert _model_shape_messages() <= seen


def test_a_batch_names_each_refusal_as_checking_alone_does(base: ModelDescription) -> None:
    good = [_described(p)[0] for p in KG_MODELS]
    items = [(d.iri, list(d.triples)) for d in good]
    broken = BROKEN["input-scheme-unknown"](list(base.triples))
    items[3] = (base.iri, broken)
    outcomes = validate_descriptions(items)
    assert [i for i, o in enumerate(outcomes) if o is not None] == [3]
    refusal = outcomes[3]
    assert refusal is not None
    with pytest.raises(InputError) as alone:
        validate(_add_triples(Graph(), broken), base.iri)
    assert refusal.violations == alone.value.violations  # type: ignore[attr-defined]


def test_what_the_compiled_test_does_not_model_goes_to_pyshacl(base: ModelDescription) -> None:
    """A focus node of a shape with a SPARQL constraint (a device) is left to pySHACL."""
    device = [*base.triples, (f"<{TR}d>", RDF_TYPE, f"<{TR}Device>")]
    assert not surely_conforms(device)
    assert validate_descriptions([(base.iri, device)])[0] is not None  # pySHACL refuses it


def test_a_description_that_declares_classes_is_checked_whole(base: ModelDescription) -> None:
    declared = [
        *base.triples,
        (f"<{TR}Mine>", "<http://www.w3.org/2000/01/rdf-schema#subClassOf>", f"<{TR}Model>"),
    ]
    assert lean_triples(declared) is None
    assert not surely_conforms(declared)


# --------------------------------------------------------------------------- writing


def _count(store: OxigraphStore, graph: str) -> int:
    rows = store.select(
        "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }", {"g": URIRef(graph)}
    )
    return int(str(rows[0]["n"]))


def test_text_writes_new_and_existing_graphs_and_refuses_bad_text(
    base: ModelDescription, tmp_path: Path
) -> None:
    store = OxigraphStore(tmp_path / "store")
    try:
        text = base.text()
        store.replace_graphs_text({base.iri: text, "urn:x:other": '<urn:a> <urn:b> "c" .\n'})
        assert _count(store, base.iri) == len(base)
        assert isomorphic(store.get_graph(base.iri), base.to_graph())
        # again, over existing graphs: replaced, not added to; "" deletes
        store.replace_graphs_text({base.iri: "<urn:a> <urn:b> <urn:c> .\n", "urn:x:other": ""})
        assert _count(store, base.iri) == 1
        assert not store.has_graph("urn:x:other")
        # bad text, new graph and existing one: refused, nothing written
        for name in ("urn:x:new", base.iri):
            with pytest.raises(InputError):
                store.replace_graphs_text({name: '<urn:a> <urn:b> "unclosed .\n'})
        assert not store.has_graph("urn:x:new")
        assert _count(store, base.iri) == 1
    finally:
        store.close()


def _with_custom_operator(data: bytes, name: str) -> bytes:
    """The model with its first operator code made a custom operator called ``name``."""
    import flatbuffers
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

    model = fb.ModelT.InitFromPackedBuf(bytearray(data), 0)
    code = model.operatorCodes[0]
    code.builtinCode = code.deprecatedBuiltinCode = fb.BuiltinOperator.CUSTOM
    code.customCode = name
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def test_an_operator_name_that_makes_no_iri_refuses_that_file_only(tmp_path: Path) -> None:
    """Described after its arena is measured, a refused model is still its own file's."""
    from tinyreg.registry import Registry

    folder = tmp_path / "models"
    folder.mkdir()
    good = KG_DATA / "models" / "kws-dscnn-int8.tflite"
    (folder / "a-bad.tflite").write_bytes(_with_custom_operator(good.read_bytes(), "no <iri>"))
    (folder / "b-fine.tflite").write_bytes(_with_custom_operator(good.read_bytes(), "Fine_Op"))
    (folder / "c-good.tflite").write_bytes(good.read_bytes())
    with Registry.open(tmp_path / "store") as reg:
        report = reg.import_path(folder)
        assert [Path(f).name for f, _ in report.refused] == ["a-bad.tflite"]
        assert "not a valid RDF term" in report.refused[0][1]
        assert report.models == ["b-fine", "c-good"]
        assert sorted(m.id for m in reg.list_models()) == ["b-fine", "c-good"]
        fine = reg.get_model("b-fine")
        assert not fine.runnable  # the runtime has no such operator


@pytest.mark.parametrize("bulk", [True, False], ids=["bulk-loader", "transaction"])
def test_descriptions_written_as_trusted_text_are_stored_as_when_checked(
    tmp_path: Path, bulk: bool
) -> None:
    """Lenient parsing changes nothing for the descriptions: same quads, both write paths.

    All seed and ``kg_data`` descriptions at once go through the bulk loader; one small
    description alone goes through a transaction.
    """
    described = [_described(path)[0] for path in _models()]
    if not bulk:
        described = [min(described, key=len)]
    texts = {d.iri: d.text() for d in described}
    dumps = []
    for trusted in (False, True):
        store = OxigraphStore(tmp_path / f"store-{trusted}")
        try:
            store.replace_graphs_text(texts, trusted=trusted)
            dumps.append(set(store._db.dump(format=ox.RdfFormat.N_QUADS).splitlines()))
        finally:
            store.close()
    assert len(dumps[0]) == sum(len(d) for d in described)
    assert dumps[1] == dumps[0]
