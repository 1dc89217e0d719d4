"""Checking several model descriptions at once finds what checking each alone finds."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef

from _paths import KG_DATA
from tinyreg.core.arena import measure_arena
from tinyreg.core.errors import ValidationError
from tinyreg.core.namespaces import TR
from tinyreg.core.tflite import parse_tflite
from tinyreg.registry.cards import ModelCard
from tinyreg.registry.model_rdf import model_to_graph
from tinyreg.registry.validate import _independent, check, validate, validate_many

KG_MODELS = sorted((KG_DATA / "models").glob("*.tflite"))


def _described(path: Path) -> tuple[str, Graph]:
    data = path.read_bytes()
    info = parse_tflite(data, str(path))
    iri, graph = model_to_graph(
        path.stem, info, measure_arena(data, info=info), ModelCard(path.stem)
    )
    return str(iri), graph


@pytest.fixture(scope="module")
def described() -> list[tuple[str, Graph]]:
    assert KG_MODELS, f"no models in {KG_DATA / 'models'}"
    return [_described(p) for p in KG_MODELS]


def _copy(item: tuple[str, Graph]) -> tuple[str, Graph]:
    copy = Graph()
    copy += item[1]
    return item[0], copy


def _no_arena(item: tuple[str, Graph]) -> tuple[str, Graph]:
    """A runnable model whose assessment lost its arena figure."""
    iri, graph = _copy(item)
    graph.remove((None, TR.arenaBytes, None))
    return iri, graph


def _bad_sensor(item: tuple[str, Graph]) -> tuple[str, Graph]:
    """A model that requires a class that is not a sensor."""
    iri, graph = _copy(item)
    graph.add((URIRef(iri), TR.requiresSensorType, TR.Model))
    return iri, graph


def test_conforming_descriptions_pass_together(described: list[tuple[str, Graph]]) -> None:
    assert _independent([g for _, g in described])
    assert validate_many(described) == [None] * len(described)
    assert all(len(g) > 0 for _, g in described)  # nothing was mixed into them


@pytest.mark.parametrize("spoil", [_no_arena, _bad_sensor], ids=["no-arena", "not-a-sensor"])
def test_a_violation_is_reported_for_its_model_only(
    described: list[tuple[str, Graph]], spoil
) -> None:
    batch = list(described)
    batch[2] = spoil(batch[2])
    outcomes = validate_many(batch)
    assert [i for i, o in enumerate(outcomes) if o is not None] == [2]
    with pytest.raises(ValidationError) as alone:
        validate(batch[2][1], batch[2][0])
    refusal = outcomes[2]
    assert refusal is not None
    assert refusal.violations == alone.value.violations
    assert check(batch[2][1])  # the shapes catch it alone, too


def test_descriptions_that_disagree_on_a_shared_node_are_checked_one_by_one(
    described: list[tuple[str, Graph]],
) -> None:
    """Here a node the first description mentions is described by the second only."""
    first, second = _copy(described[0]), _copy(described[1])
    op = next(o for o in first[1].objects(None, TR.operatorType))
    second[1].add((op, TR.opcodeName, Literal("only here")))
    assert not _independent([first[1], second[1]])
    assert validate_many([first, second]) == [None, None]


def test_import_batches_keep_the_order_of_files(tmp_path: Path) -> None:
    """Two files with one id in one batch: both reported, the later one registered."""
    import hashlib
    import shutil

    from tinyreg.registry import Registry

    folder = tmp_path / "models"
    folder.mkdir()
    for stem, source in (("a", KG_MODELS[0]), ("b", KG_MODELS[1])):
        shutil.copy(source, folder / f"{stem}.tflite")
        (folder / f"{stem}.yaml").write_text(f"id: same-id\nname: Model {stem}\n")
    with Registry.open(tmp_path / "store") as reg:
        report = reg.import_path(folder)
        assert report.models == ["same-id", "same-id"] and not report.refused
        model = reg.get_model("same-id")
        assert model.name == "Model b"
        assert model.sha256 == hashlib.sha256(KG_MODELS[1].read_bytes()).hexdigest()
        assert [m.id for m in reg.list_models()] == ["same-id"]
