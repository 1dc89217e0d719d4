"""The facade end to end, on both stores: seed and starter data, refusals, replace, delete."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyoxigraph as ox
import pytest

from _paths import KG_DATA, SEED_DIR, SEED_MODELS, seed_models
from tinyreg.core.arena import measure_arena
from tinyreg.core.namespaces import TR
from tinyreg.core.stores import OxigraphStore
from tinyreg.registry import (
    ModelFileError,
    NotFoundError,
    QueryError,
    Registry,
    ThingDescriptionError,
    ValidationError,
)
from tinyreg.registry.cards import seed_cards, slugify

NANO = KG_DATA / "devices" / "arduino-nano-33-ble-sense.td.jsonld"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory):
    registry = Registry.open(tmp_path_factory.mktemp("seeded") / "store")
    report = registry.import_path(SEED_DIR)
    yield registry, report
    registry.close()


def test_all_seed_models_and_devices_ingested_by_one_call(seeded):
    registry, report = seeded
    assert report.refused == []
    assert len(report.models) == 23
    assert len(report.devices) == 6
    models = {m.id: m for m in registry.list_models()}
    assert len(models) == 23
    runnable = [m for m in models.values() if m.runnable]
    assert len(runnable) == 22
    person = models["person-detection"]
    assert person.runnable is False and person.arena_bytes is None
    assert "Hybrid models are not supported" in (person.reason or "")
    assert all(m.macs > 0 for m in models.values())
    assert all(m.reason is None and m.arena_bytes > 0 for m in runnable)


@pytest.mark.parametrize("path", seed_models()[:23:4], ids=lambda p: p.stem)
def test_registered_arena_is_what_the_runtime_reports(seeded, path: Path):
    registry, _ = seeded
    record = registry.get_model(path.stem)  # resolved by name
    measured = measure_arena(path.read_bytes())
    assert record.arena_bytes == measured.arena_bytes
    assert record.flash_bytes == path.stat().st_size


_INFERENCE_CHECKED = """PREFIX tr: <https://w3id.org/tinyreg#>
    SELECT ?checked WHERE { ?m tr:hasRuntimeAssessment [ tr:inferenceChecked ?checked ] }"""


def test_the_assessment_says_whether_an_inference_ran(seeded, tmp_path: Path):
    """An import builds each model; ``infer=True`` also runs one inference, as it says."""
    registry, _ = seeded
    rows = registry.query(_INFERENCE_CHECKED).rows
    assert len(rows) == 23 and {r["checked"].toPython() for r in rows} == {False}
    assert not any(m.inference_checked for m in registry.list_models())
    with Registry.open(tmp_path / "store") as other:
        model = seed_models()[0]
        record = other.add_model(model, infer=True)
        assert record.runnable and record.inference_checked
        (row,) = other.query(_INFERENCE_CHECKED).rows
        assert row["checked"].toPython() is True
        folder = tmp_path / "one"
        folder.mkdir()
        (folder / model.name).write_bytes(model.read_bytes())
        other.import_path(folder, infer=True)
        (row,) = other.query(_INFERENCE_CHECKED).rows
        assert row["checked"].toPython() is True
        other.import_path(folder)
        (row,) = other.query(_INFERENCE_CHECKED).rows
        assert row["checked"].toPython() is False
        assert not other.get_model(record.id).inference_checked


def test_cards_from_the_seed_csv_reach_the_graph(seeded):
    registry, _ = seeded
    yes_no = registry.get_model("micro-speech-yes-no-1")
    assert yes_no.task == "classification"
    assert yes_no.required_sensors == ["Microphone"]
    assert yes_no.metric == {"name": "top-1 accuracy", "value": pytest.approx(0.921)}
    rows = registry.query(
        """PREFIX tr: <https://w3id.org/tinyreg#>
        SELECT ?m WHERE { ?m tr:requiresSensorType tr:Camera }"""
    ).rows
    assert len(rows) == 3  # ARM_MicroNet_VWW_3, Person_Detection, Visual_Alarm_Clock


@pytest.fixture(params=["oxigraph", "sparql"])
def registry(request: pytest.FixtureRequest, tmp_path: Path):
    if request.param == "oxigraph":
        reg = Registry(OxigraphStore(tmp_path / "store"))
    else:
        reg = Registry.open(request.getfixturevalue("oxigraph_server"))
        reg.store.update("DROP ALL")
        reg = Registry(reg.store)  # ontology back after the drop
    yield reg
    reg.close()


def _snapshot(reg: Registry) -> tuple[int, list[str]]:
    return reg.store.triple_count(), reg.store.graph_names()


def test_starter_graph_registers_on_both_stores(registry: Registry):
    report = registry.import_path(KG_DATA)
    assert report.refused == []
    assert len(report.models) >= 6 and len(report.devices) >= 10
    nano = registry.get_device("arduino-nano-33-ble-sense")
    assert nano.ram_bytes == 262_144 and nano.flash_bytes == 1_048_576
    assert "PDMMicrophone" in nano.sensors
    assert registry.get_device("Arduino Nano 33 BLE Sense").id == nano.id
    assert registry.device_td(nano.id)["title"] == "Arduino Nano 33 BLE Sense"
    # the class hierarchy is in the store: an IMU9DoF provides a gyroscope
    rows = registry.query(
        """PREFIX tr: <https://w3id.org/tinyreg#>
        PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        SELECT DISTINCT ?d WHERE { ?d tr:hasSensor/a ?t .
          { ?t rdfs:subClassOf* tr:Gyroscope }
          UNION { ?t rdfs:subClassOf*/tr:provides tr:Gyroscope } }"""
    ).rows
    assert nano.id in {str(r["d"]) for r in rows}


@pytest.mark.parametrize(
    ("mutate", "error", "needle"),
    [
        (lambda td: td.pop("ram"), ValidationError, "tr:hasRAM"),
        (lambda td: td["flash"].update(capacityBytes=-1), ValidationError, "capacityBytes"),
        (lambda td: td["sensors"].append({"@type": "Sonar"}), ValidationError, "Sonar"),
        (lambda td: td.pop("id"), ThingDescriptionError, "id"),
        (lambda td: td.pop("title"), ThingDescriptionError, "title"),
    ],
)
def test_bad_tds_are_refused_and_the_store_is_unchanged(registry, mutate, error, needle):
    registry.add_device(NANO)
    before = _snapshot(registry)
    td = json.loads(NANO.read_text())
    td["title"] = td["title"] + " changed"
    mutate(td)
    with pytest.raises(error) as caught:
        registry.add_device(td)
    assert needle in str(caught.value)
    assert _snapshot(registry) == before
    assert registry.get_device(json.loads(NANO.read_text())["id"]).title.endswith("Sense")


def test_not_json_td_is_refused(registry, tmp_path):
    bad = tmp_path / "bad.td.jsonld"
    bad.write_text("{ not json")
    before = _snapshot(registry)
    with pytest.raises(ThingDescriptionError, match="not valid JSON"):
        registry.add_device(bad)
    assert _snapshot(registry) == before


@pytest.mark.parametrize("kind", ["empty", "truncated", "random", "text"])
def test_malformed_models_are_refused_and_the_store_is_unchanged(registry, tmp_path, kind):
    good = (SEED_MODELS / "Hello_World.tflite").read_bytes()
    data = {
        "empty": b"",
        "truncated": good[: len(good) // 2],
        "random": bytes(range(256)) * 8,
        "text": b"this is a text file renamed to .tflite\n",
    }[kind]
    path = tmp_path / f"{kind}.tflite"
    path.write_bytes(data)
    before = _snapshot(registry)
    with pytest.raises(ModelFileError):
        registry.add_model(path)
    assert _snapshot(registry) == before


def test_reregistering_replaces_and_delete_removes_everything(registry, tmp_path):
    model = tmp_path / "hw.tflite"
    model.write_bytes((SEED_MODELS / "Hello_World.tflite").read_bytes())
    first = registry.add_model(model)
    count = registry.store.triple_count()
    (tmp_path / "hw.yaml").write_text("name: Hello again\ntask: regression\n")
    second = registry.add_model(model)
    assert second.id == first.id == "hw"
    assert second.name == "Hello again" and second.task == "regression"
    assert registry.store.triple_count() == count + 1  # only the task triple was added
    assert len(registry.list_models()) == 1
    registry.delete("hw")
    assert registry.list_models() == []
    assert not registry.store.has_graph(first.iri)
    with pytest.raises(NotFoundError):
        registry.get_model("hw")


def test_malformed_query_is_a_query_error(registry):
    with pytest.raises(QueryError):
        registry.query("SELECT ?x WHERE { ?x ")


def test_project_prefixes_need_no_declaration_and_own_declarations_win(registry):
    registry.add_device(NANO)
    rows = registry.query("SELECT ?d WHERE { ?d a tr:Device ; tr:hasRAM/tr:capacityBytes ?r }").rows
    assert len(rows) == 1
    own = registry.query(
        "PREFIX tr: <http://example.org/other#> SELECT ?d WHERE { ?d a tr:Device }"
    ).rows
    assert own == []


def test_an_import_finds_each_models_card_beside_it_or_in_a_seed_csv(tmp_path: Path):
    """A card file beside a model wins; a seed CSV one folder up names the others."""
    first, second, third = seed_models()[:3]
    folder = tmp_path / "catalogue" / "models"
    folder.mkdir(parents=True)
    for model in (first, second, third):
        (folder / model.name).write_bytes(model.read_bytes())
    (folder / f"{first.stem}.yaml").write_text("id: beside\nname: Card beside\n")
    (folder / f"{second.stem}.json").write_text('{"name": "JSON card"}')
    (folder / "x.yaml.d").mkdir()  # a folder is no card
    rows = (SEED_DIR / "models_information.csv").read_text().splitlines()
    header = rows[0]
    (tmp_path / "catalogue" / "models_information.csv").write_text(
        "\n".join([header] + [r for r in rows[1:] if third.stem in r]) + "\n"
    )
    with Registry.open(tmp_path / "store") as registry:
        report = registry.import_path(tmp_path / "catalogue")
        assert report.refused == []
        models = {m.id: m for m in registry.list_models()}
        kept = {ident: registry.model_bytes(ident) for ident in models}
    # the bytes are kept under their own SHA-256, in the store's folder
    for found in kept.values():
        assert found.source is not None and tmp_path / "store" in found.source.parents
        assert found.source.stem == hashlib.sha256(found.data).hexdigest()
    assert sorted(found.data for found in kept.values()) == sorted(
        model.read_bytes() for model in (first, second, third)
    )
    assert models["beside"].name == "Card beside"
    assert models[slugify(second.stem)].name == "JSON card"
    csv_card = seed_cards(SEED_DIR / "models_information.csv")[third.stem]
    assert csv_card.id and csv_card.task  # both come from the CSV, not from the file
    assert models[csv_card.id].task == csv_card.task


def test_an_import_keeps_the_bytes_of_the_models_it_registers_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A model the shapes refuse in an import leaves no bytes; the others' are kept.

    The refused model's description lost its arena figure, which pySHACL refuses; its
    batch-mates surely conform, so their bytes are kept as soon as they are described.
    """
    from tinyreg.registry import model_rdf

    models = seed_models()[:3]
    spoiled = slugify(models[1].stem)
    describe = model_rdf.describe_model

    def spoiling(ident, info, arena, card):  # type: ignore[no-untyped-def]
        description = describe(ident, info, arena, card)
        if ident == spoiled:
            arena_bytes = f"<{TR.arenaBytes}>"
            description.triples[:] = [t for t in description.triples if t[1] != arena_bytes]
        return description

    monkeypatch.setattr(model_rdf, "describe_model", spoiling)
    folder = tmp_path / "models"
    folder.mkdir()
    for model in models:
        (folder / model.name).write_bytes(model.read_bytes())
    with Registry.open(tmp_path / "store") as registry:
        report = registry.import_path(folder)
        assert [Path(file).name for file, _ in report.refused] == [models[1].name]
        assert "arenaBytes" in report.refused[0][1]
        assert sorted(m.id for m in registry.list_models()) == sorted(
            slugify(m.stem) for m in (models[0], models[2])
        )
    kept = {p.stem for p in (tmp_path / "store" / "models" / "sha256").iterdir()}
    assert kept == {hashlib.sha256(m.read_bytes()).hexdigest() for m in (models[0], models[2])}


def test_an_import_warns_of_models_with_the_same_bytes(tmp_path: Path, caplog):
    """Same bytes in one batch, and bytes a registered model already has, are both named."""
    first, second = seed_models()[:2]
    folder = tmp_path / "batch"
    folder.mkdir()
    for name in ("a", "b"):
        (folder / f"{name}.tflite").write_bytes(first.read_bytes())
    (folder / "c.tflite").write_bytes(second.read_bytes())
    with Registry.open(tmp_path / "store") as registry:
        with caplog.at_level("WARNING", logger="tinyreg.registry"):
            assert registry.import_path(folder).refused == []
        warnings = [r.getMessage() for r in caplog.records if "same bytes" in r.getMessage()]
        assert len(warnings) == 1 and warnings[0].startswith("model b has the same bytes")
        assert warnings[0].endswith(" as a")
        caplog.clear()
        later = tmp_path / "later"
        later.mkdir()
        (later / "d.tflite").write_bytes(second.read_bytes())
        with caplog.at_level("WARNING", logger="tinyreg.registry"):
            assert registry.import_path(later).refused == []
        warnings = [r.getMessage() for r in caplog.records if "same bytes" in r.getMessage()]
        assert warnings == [warnings[0]] and warnings[0].startswith("model d has the same bytes")
        assert warnings[0].endswith(" as c")


@pytest.mark.parametrize("limit", ["models", "bytes"])
def test_an_import_that_reaches_its_lookahead_waits_and_writes_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, limit: str
):
    """An import that has parsed as far ahead as it may waits, then writes what it would.

    With the lookahead cut to 2 models (or to 1 byte, so every file is waited for alone),
    the store ends with the same quads as an import that never reaches it (blank nodes
    aside), a refused file among them changing nothing.
    """
    from tinyreg.registry import catalogue

    folder = tmp_path / "models"
    folder.mkdir()
    for model in seed_models()[:7]:
        (folder / model.name).write_bytes(model.read_bytes())
    (folder / "Broken.tflite").write_bytes(b"TFL3 not a model")

    def imported(store: Path) -> tuple[list[str], set[str]]:
        with Registry.open(store) as registry:
            report = registry.import_path(folder)
            assert [Path(file).name for file, _ in report.refused] == ["Broken.tflite"]
            dump = registry.store._db.dump(format=ox.RdfFormat.N_QUADS)
        # the reference graphs' blank nodes aside (labelled afresh by each store)
        return report.models, {q for q in dump.decode().splitlines() if "_:" not in q}

    wide = imported(tmp_path / "wide")
    if limit == "models":
        monkeypatch.setattr(catalogue, "IMPORT_LOOKAHEAD", 2)
    else:
        monkeypatch.setattr(catalogue, "IMPORT_LOOKAHEAD_BYTES", 1)
    narrow = imported(tmp_path / "narrow")
    assert len(wide[0]) == 7
    assert narrow == wide
