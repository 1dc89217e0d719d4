"""The fit index: kept up to date by registration, and giving the verdict query's answers.

Answers read from the index (``Matchmaker(reg)``) are compared, match by match (device,
rank, verdict with every constraint figure), with the answers of the verdict query over
every pair (``Matchmaker(reg, use_index=False)``) on a bulk-loaded synthetic fleet and on a
registry filled through the API.
"""

from __future__ import annotations

import gc
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _fleet import bulk_loaded, load_fleet_module
from rdflib import URIRef

from _paths import KG_DATA, SEED_DIR
from tinyreg.core.namespaces import TR
from tinyreg.core.stores import OxigraphStore
from tinyreg.matchmaker import Matches, Matchmaker, engine
from tinyreg.matchmaker.fitcheck import fitting_pairs
from tinyreg.matchmaker.fits import FITS_STATE, FitIndex, _fits_query, fits_graph_name
from tinyreg.registry import Registry
from tinyreg.registry.profile import PROFILE_PREFIX

fleet = load_fleet_module()
DEVICES = 600
MODELS = 60


@pytest.fixture(scope="module")
def loaded_fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Registry, Any]]:
    """The fleet bulk loaded: nothing in the fit index until a test builds it."""
    reg, info = bulk_loaded(tmp_path_factory.mktemp("fits"), DEVICES, MODELS, board_type_count=40)
    try:
        yield reg, info
    finally:
        reg.close()


@pytest.fixture
def indexed_fleet(loaded_fleet: tuple[Registry, Any]) -> tuple[Registry, Any]:
    """The same fleet with a complete fit index."""
    reg, _ = loaded_fleet
    if reg.fits.missing() != (0, 0):
        reg.index_fits()
    return loaded_fleet


def test_bulk_load_leaves_the_index_incomplete_and_the_answers_right(
    loaded_fleet: tuple[Registry, Any], caplog: pytest.LogCaptureFixture
) -> None:
    reg, info = loaded_fleet
    assert reg.fits.missing() == (MODELS, info.profiles)
    mm, scan = Matchmaker(reg), Matchmaker(reg, use_index=False)
    model = fleet.model_iri(3)
    with caplog.at_level(logging.WARNING, logger="tinyreg.matchmaker.engine"):
        fallback = mm.devices_for(model)
    assert "tinyreg reindex" in caplog.text
    assert isinstance(fallback, list) and fallback == scan.devices_for(model)

    done: list[tuple[int, int]] = []
    assert reg.index_fits(progress=lambda n, total: done.append((n, total))) == MODELS
    assert done[-1] == (MODELS, MODELS)
    assert reg.fits.missing() == (0, 0)
    assert reg.index_fits() == 0  # nothing left to do


def test_index_answers_equal_the_verdict_query_on_a_fleet(
    indexed_fleet: tuple[Registry, Any],
) -> None:
    reg, _ = indexed_fleet
    mm, scan = Matchmaker(reg), Matchmaker(reg, use_index=False)
    fitting = 0
    for i in range(MODELS):
        model = fleet.model_iri(i)
        indexed = mm.devices_for(model)
        assert isinstance(indexed, Matches)
        expected = scan.devices_for(model)
        assert len(indexed) == len(expected)
        assert list(indexed) == expected, model
        fitting += len(expected)
        limited = mm.devices_for(model, max_latency_ms=5.0)
        assert list(limited) == scan.devices_for(model, max_latency_ms=5.0)
    assert 0 < fitting < MODELS * DEVICES  # some pairs fit, some do not
    for i in range(0, DEVICES, 15):
        device = fleet.device_iri(i)
        assert list(mm.models_for(device)) == scan.models_for(device), device
        for options in (
            {"task": "classification"},
            {"min_metric": 0.8},
            {"max_latency_ms": 20.0},
            {"text": "synthetic-1"},
            {"order": "metric"},
            {"limit": 5},
        ):
            assert list(mm.models_for(device, **options)) == scan.models_for(device, **options), (
                device,
                options,
            )


def test_matches_is_a_ranked_sequence_read_as_needed(
    indexed_fleet: tuple[Registry, Any],
) -> None:
    reg, _ = indexed_fleet
    mm = Matchmaker(reg)
    model = max((fleet.model_iri(i) for i in range(MODELS)), key=lambda m: len(mm.devices_for(m)))
    found = mm.devices_for(model)
    assert isinstance(found, Matches) and len(found) > 20
    everything = list(found)
    assert [m.rank for m in everything] == list(range(1, len(found) + 1))
    assert len({m.device for m in everything}) == len(found)
    assert all(m.fits for m in everything)
    assert found[0] == everything[0] and found[-1] == everything[-1]
    assert found[5:17] == everything[5:17]
    assert found[::7] == everything[::7]
    assert found[len(found) :] == []
    assert mm.devices_for(model, limit=10) == everything[:10]
    with pytest.raises(IndexError):
        found[len(found)]
    assert found == everything and found != everything[:-1]
    assert "ranked matches" in repr(found)
    # the ranking alone, without constraint figures, says the same
    ranking = mm.devices_for(model).ranked()
    assert [(r.rank, r.model, r.device) for r in ranking] == [
        (m.rank, m.model, m.device) for m in everything
    ]
    assert [r.estimated_latency_ms for r in ranking] == pytest.approx(
        [m.verdict.estimated_latency_ms for m in everything]
    )
    assert mm.devices_for(model).ranked(3, 9) == ranking[3:9]
    device = everything[0].device
    models = mm.models_for(device)
    assert isinstance(models, Matches)
    assert [r.model for r in models.ranked(0, 10)] == [m.model for m in models[:10]]
    by_metric = mm.models_for(device, order="metric")
    assert isinstance(by_metric, Matches)
    assert [(r.model, r.metric) for r in by_metric.ranked(0, 10)] == [
        (m.model, m.verdict.metric) for m in by_metric[:10]
    ]
    # a page reads the devices of its profiles only
    fresh = mm.devices_for(model)
    assert fresh[:3] == everything[:3]
    assert len(fresh._devices) <= 3


def _query_pairs(reg: Registry) -> set[tuple[str, str]]:
    """Every fitting (model, profile) pair, as the verdict query gives them."""
    rows = reg.store.select_values(_fits_query(reg.store.dialect))
    return {(str(r["model"]), str(r["profile"])) for r in rows}


def _models(reg: Registry) -> list[str]:
    rows = reg.store.select_values(f"SELECT ?m WHERE {{ ?m a <{TR.Model}> }}")
    return sorted(str(r["m"]) for r in rows)


def _devices(reg: Registry) -> list[str]:
    rows = reg.store.select_values(f"SELECT ?d WHERE {{ ?d a <{TR.Device}> }}")
    return sorted(str(r["d"]) for r in rows)


def _bulk_pairs(reg: Registry, *, lookup: bool = False) -> set[tuple[str, str]]:
    """Every fitting pair from the figures read in bulk; every figure must be plain.

    With ``lookup``, the figures are read by the models' IRIs, a few models at a time
    (as registration reads a batch), instead of by scans.
    """
    models = _models(reg)
    assert models
    if lookup:
        fits: dict[str, set[str]] = {}
        for start in range(0, len(models), 7):
            batch = models[start : start + 7]
            found, irregular = fitting_pairs(reg.store, batch, lookup=True)
            assert irregular.models == set() and irregular.profiles == set()
            assert set(found) == set(batch)  # every model of a batch is answered
            fits.update(found)
    else:
        fits, irregular = fitting_pairs(reg.store, models)
        assert irregular.models == set() and irregular.profiles == set()
    assert set(fits) <= set(models)
    return {(m, p) for m, profiles in fits.items() for p in profiles}


def _index_pairs(reg: Registry) -> set[tuple[str, str]]:
    rows = reg.store.select_values(f"SELECT ?m ?p WHERE {{ ?m <{TR.fitsProfile}> ?p }}")
    return {(str(r["m"]), str(r["p"])) for r in rows}


def test_bulk_figures_give_the_verdict_querys_pairs_on_a_fleet(
    loaded_fleet: tuple[Registry, Any],
) -> None:
    reg, _ = loaded_fleet
    expected = _query_pairs(reg)
    assert (
        0
        < len(expected)
        < MODELS * len(reg.store.select_values(f"SELECT ?p WHERE {{ ?p a <{TR.DeviceProfile}> }}"))
    )
    assert _bulk_pairs(reg) == expected
    assert _bulk_pairs(reg, lookup=True) == expected


@pytest.fixture(scope="module")
def kg_and_seed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """kg_data and the seed catalogue, registered through the API."""
    reg = Registry(OxigraphStore(tmp_path_factory.mktemp("fits-seed") / "store"))
    try:
        for source in (KG_DATA, SEED_DIR):
            report = reg.import_path(source)
            assert report.refused == [], source
        yield reg
    finally:
        reg.close()


def test_bulk_figures_give_the_verdict_querys_pairs_on_kg_data_and_seed(
    kg_and_seed: Registry,
) -> None:
    reg = kg_and_seed
    expected = _query_pairs(reg)
    assert len({m for m, _ in expected}) > 10  # many models fit somewhere
    # the index registration kept (models written and indexed a batch at a time)
    assert reg.fits.missing() == (0, 0)
    assert _index_pairs(reg) == expected
    assert _bulk_pairs(reg) == expected
    assert _bulk_pairs(reg, lookup=True) == expected
    # the rebuilt index holds exactly those pairs
    assert reg.index_fits(everything=True) == len(_models(reg))
    assert reg.fits.missing() == (0, 0)
    assert _index_pairs(reg) == expected


def test_figures_out_of_the_ordinary_are_left_to_the_verdict_query(
    kg_and_seed: Registry,
) -> None:
    """A second, decimal size of a model and a second, odd runtime name of a profile: the
    bulk evaluation refuses to decide them and the build asks the verdict query."""
    reg = kg_and_seed
    expected = _query_pairs(reg)
    model = sorted({m for m, _ in expected})[0]
    profile = sorted({p for _, p in expected})[0]
    odd = "urn:test:odd-figures"
    reg.store.update(
        f"INSERT DATA {{ GRAPH <{odd}> {{ <{model}> <{TR.modelBytes}> 1.5 . "
        f'<{profile}> <{TR.runtimeName}> "tflite-micro"@en }} }}'
    )
    try:
        changed = _query_pairs(reg)
        fits, irregular = fitting_pairs(reg.store, _models(reg))
        assert irregular.models == {model} and irregular.profiles == {profile}
        assert model not in fits
        assert all(profile not in found for found in fits.values())
        others = sorted({m for m, _ in expected} - {model})[:3]
        fits, irregular = fitting_pairs(reg.store, [model, *others], lookup=True)
        assert irregular.models == {model} and irregular.profiles == {profile}
        assert sorted(fits) == others
        # a batch registered now: its pairs are the verdict query's (the odd profile too)
        reg.fits.index_models([model, *others])
        assert {(m, p) for m, p in _index_pairs(reg) if m in {model, *others}} == {
            (m, p) for m, p in changed if m in {model, *others}
        }
        reg.index_fits(everything=True)
        assert reg.fits.missing() == (0, 0)
        assert _index_pairs(reg) == changed
    finally:
        reg.store.delete_graph(odd)
    reg.index_fits(everything=True)
    assert _index_pairs(reg) == expected


def _td(name: str, ram: int) -> dict[str, Any]:
    td = json.loads((KG_DATA / "devices" / f"{name}.td.jsonld").read_text())
    td["id"] = f"{td['id']}-variant-{ram}"
    td["title"] = f"{td['title']} ({ram} B RAM)"
    td["ram"]["capacityBytes"] = ram
    return td


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    reg = Registry(OxigraphStore(tmp_path_factory.mktemp("fits-api") / "store"))
    report = reg.import_path(KG_DATA)
    assert report.refused == []
    try:
        yield reg
    finally:
        reg.close()


def _fits(reg: Registry, model: str) -> set[str]:
    rows = reg.store.select_values(
        f"SELECT ?p WHERE {{ ?m <{TR.fitsProfile}> ?p }}", {"m": URIRef(model)}
    )
    return {str(r["p"]) for r in rows}


def test_registration_keeps_the_index_complete(registry: Registry, tmp_path: Path) -> None:
    reg = registry
    mm, scan = Matchmaker(reg), Matchmaker(reg, use_index=False)
    assert reg.fits.missing() == (0, 0)
    models = [m.iri for m in reg.list_models()]
    devices = [d.id for d in reg.list_devices()]
    for model in models:
        assert list(mm.devices_for(model)) == scan.devices_for(model)
    for device in devices:
        assert list(mm.models_for(device)) == scan.models_for(device)

    # a device with a profile never seen before: the profile is indexed at once
    td = _td("arduino-nano-33-ble-sense", 300_000)
    path = tmp_path / "variant.td.jsonld"
    path.write_text(json.dumps(td))
    device = reg.add_device(path).id
    assert reg.fits.missing() == (0, 0)
    assert list(mm.models_for(device)) == scan.models_for(device)
    assert len(mm.models_for(device)) > 0
    kws = reg.resolve("model", "kws-dscnn-int8")
    assert device in {m.device for m in mm.devices_for(kws)}

    # registering a model again replaces its pairs; deleting it removes them
    before = _fits(reg, kws)
    assert before
    reg.add_model(KG_DATA / "models" / "kws-dscnn-int8.tflite")
    assert _fits(reg, kws) == before and reg.fits.missing() == (0, 0)
    reg.delete_model(kws)
    assert _fits(reg, kws) == set()
    assert not reg.store.has_graph(fits_graph_name(kws))
    assert reg.fits.missing() == (0, 0)
    assert all(m.model != kws for m in mm.models_for(device))
    reg.add_model(KG_DATA / "models" / "kws-dscnn-int8.tflite")
    assert _fits(reg, kws) == before
    assert list(mm.devices_for(kws)) == scan.devices_for(kws)

    # the generic delete drops the model's pairs too
    reg.delete("kws-dscnn-int8")
    assert _fits(reg, kws) == set() and reg.fits.missing() == (0, 0)
    reg.add_model(KG_DATA / "models" / "kws-dscnn-int8.tflite")


def _profile(reg: Registry, device: str) -> str:
    rows = reg.store.select_values(
        f"SELECT ?p WHERE {{ ?d <{TR.hasProfile}> ?p }}", {"d": URIRef(device)}
    )
    return str(rows[0]["p"])


def test_an_unindexed_profile_is_noticed_and_rebuilding_restores_it(registry: Registry) -> None:
    reg = registry
    profile = _profile(reg, reg.list_devices()[0].id)
    reg.store.update(
        f"DELETE WHERE {{ GRAPH ?g {{ <{FITS_STATE}> <{TR.indexedProfile}> <{profile}> }} }}"
    )
    assert reg.fits.missing() == (0, 1)
    assert reg.index_fits() == 0
    assert reg.fits.missing() == (0, 0)
    counts = len(reg.store.select_values(f"SELECT ?m ?p WHERE {{ ?m <{TR.fitsProfile}> ?p }}"))
    assert reg.index_fits(everything=True) == len(reg.list_models())
    after = len(reg.store.select_values(f"SELECT ?m ?p WHERE {{ ?m <{TR.fitsProfile}> ?p }}"))
    assert after == counts and reg.fits.missing() == (0, 0)
    assert reg.refresh_requirements() > 0
    assert reg.fits.missing() == (0, 0)


def test_a_long_answer_reads_its_verdicts_in_one_query(
    indexed_fleet: tuple[Registry, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past a threshold (400 pairs) ``models_for`` reads every verdict of the profile at
    once instead of one query per model; the answer is the same."""
    reg, _ = indexed_fleet
    monkeypatch.setattr(engine, "_PREFETCH", 3)
    mm, scan = Matchmaker(reg), Matchmaker(reg, use_index=False)
    asked: list[int] = []
    original = mm._pair_verdicts

    def counting(pairs: Any, max_latency_ms: float | None) -> Any:
        asked.append(len(pairs))
        return original(pairs, max_latency_ms)

    monkeypatch.setattr(mm, "_pair_verdicts", counting)
    for i in range(0, DEVICES, 50):
        device = fleet.device_iri(i)
        found = mm.models_for(device, max_latency_ms=50.0)
        assert list(found) == scan.models_for(device, max_latency_ms=50.0)
        if len(found) > 3:
            assert found[:2] == scan.models_for(device, max_latency_ms=50.0)[:2]
    assert all(n <= 3 for n in asked)  # longer answers: the profile's verdict query


# ----------------------------------------------------------------------------- several writers
#
# Two writers (replicas) register at the same moment: the interleavings that lost a pair
# before the index checked the other side after writing, forced step by step.


def _variant(reg: Registry, tmp_path: Path, ram: int) -> tuple[Path, str]:
    """A device TD with a profile the store has never seen, and that profile's IRI."""
    td = _td("arduino-nano-33-ble-sense", ram)
    path = tmp_path / f"variant-{ram}.td.jsonld"
    path.write_text(json.dumps(td))
    iri, graphs = reg.describe_device(path)
    profiles = [g for g in graphs if g.startswith(PROFILE_PREFIX)]
    assert len(profiles) == 1 and not reg.fits.has_profile(profiles[0])
    return path, iri


def test_a_profile_marked_while_a_model_is_computed_reaches_that_model(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writer A computes the model's verdicts; writer B then registers a device with a new
    profile and indexes it while the model is not yet marked; A writes last."""
    reg = registry
    kws = reg.resolve("model", "kws-dscnn-int8")
    reg.fits.drop_model(kws)  # the model is being registered again by writer A
    writer_a = FitIndex(reg.store)
    path, _ = _variant(reg, tmp_path, 310_000)
    compute = writer_a._batch_fits
    device: list[str] = []

    def computed_then_b_registers(models: list[str]) -> dict[str, set[str]]:
        profiles = compute(models)
        device.append(reg.add_device(path).id)  # writer B, complete, before A writes
        return profiles

    monkeypatch.setattr(writer_a, "_batch_fits", computed_then_b_registers)
    writer_a.index_models([kws])

    profile = _profile(reg, device[0])
    assert device[0] in {m.device for m in Matchmaker(reg, use_index=False).devices_for(kws)}
    assert profile in _fits(reg, kws)
    assert reg.fits.missing() == (0, 0)
    assert [m.device for m in Matchmaker(reg).devices_for(kws)] == [
        m.device for m in Matchmaker(reg, use_index=False).devices_for(kws)
    ]


def test_a_model_marked_while_a_profile_is_computed_gets_that_profile(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writer A computed the model's verdicts before the device existed and writes them
    while writer B computes the new profile's models; B writes last."""
    reg = registry
    kws = reg.resolve("model", "kws-dscnn-int8")
    reg.fits.drop_model(kws)
    writer_a, writer_b = FitIndex(reg.store), FitIndex(reg.store)
    stale = writer_a._batch_fits([kws])  # before the device exists
    monkeypatch.setattr(writer_a, "_batch_fits", lambda models: stale)
    path, device = _variant(reg, tmp_path, 320_000)
    with monkeypatch.context() as patch:
        patch.setattr(reg.fits, "index_new_profiles", lambda profiles: None)
        reg.add_device(path)  # the device's graphs only: B indexes its profile below
    profile = _profile(reg, device)
    compute = writer_b._fitting_models

    def computed_then_a_writes(p: str) -> list[str]:
        models = compute(p)
        writer_a.index_models([kws])  # A writes and checks before B marks the profile
        return models

    monkeypatch.setattr(writer_b, "_fitting_models", computed_then_a_writes)
    writer_b.index_profiles([profile])

    assert device in {m.device for m in Matchmaker(reg, use_index=False).devices_for(kws)}
    assert profile in _fits(reg, kws)
    assert reg.fits.missing() == (0, 0)


def test_kept_counts_follow_every_write(registry: Registry, tmp_path: Path) -> None:
    """The completeness check and the devices of each profile are kept until the store's
    next write: a device of a known profile registered after an answer is counted."""
    reg = registry
    mm = Matchmaker(reg)
    kws = reg.resolve("model", "kws-dscnn-int8")
    before = mm.devices_for(kws)
    assert isinstance(before, Matches) and len(before) > 0
    assert reg.fits.kept_counts()  # counted once, kept
    assert reg.fits.missing() == (0, 0)
    # two boards of one new profile: the first registered before an answer, the second after
    td = _td("arduino-nano-33-ble-sense", 330_000)
    path = tmp_path / "one.td.jsonld"
    path.write_text(json.dumps(td))
    first = reg.add_device(path).id
    before = mm.devices_for(kws)
    assert first in {m.device for m in before}
    td["id"] = f"{td['id']}-twin"
    path.write_text(json.dumps(td))
    twin = reg.add_device(path).id
    assert _profile(reg, twin) == _profile(reg, first)
    after = mm.devices_for(kws)
    assert len(after) == len(before) + 1
    assert twin in {m.device for m in after}
    assert list(after) == Matchmaker(reg, use_index=False).devices_for(kws)
    # a marker removed around the registry is seen at once
    reg.store.update(
        f"DELETE WHERE {{ GRAPH ?g {{ <{FITS_STATE}> <{TR.indexedModel}> <{kws}> }} }}"
    )
    assert reg.fits.missing() == (1, 0)
    reg.index_fits()
    assert reg.fits.missing() == (0, 0)
    reg.delete_device(twin)
    assert len(mm.devices_for(kws)) == len(before)


def test_the_bulk_build_on_a_sparql_server_gives_the_verdict_querys_pairs(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The same bulk build through the SPARQL protocol (``oxigraph serve``): figures read
    with queries, pairs sent as N-Quads, markers as updates."""
    from conftest import launch_oxigraph_server

    server = launch_oxigraph_server(tmp_path_factory.mktemp("fits-server") / "db")
    reg = Registry.open(server.base_url)
    try:
        assert reg.import_path(KG_DATA).refused == []
        assert reg.store.dialect == "sparql"
        expected = _query_pairs(reg)
        assert expected and _bulk_pairs(reg) == expected
        assert reg.index_fits(everything=True) == len(_models(reg))
        assert reg.fits.missing() == (0, 0)
        assert _index_pairs(reg) == expected
    finally:
        reg.close()
        server.stop()


class _QueryRanked(Matchmaker):
    """The matchmaker ranking every ``models_for`` answer with ``fits_models.rq`` alone."""

    def _ranked_by_figures(self, row: Any, filters: Any) -> None:
        return None


def _ranking(found: Any) -> list[tuple[str, str, float | None, float | None]]:
    assert isinstance(found, Matches)
    return [(r.model, r.device, r.estimated_latency_ms, r.metric) for r in found.ranked()]


def test_a_kept_ranking_leaves_nothing_for_the_cyclic_collector(registry: Registry) -> None:
    """A ``models_for`` answer keeps its ranking as plain tuples, which Python's cyclic
    garbage collector does not track, and makes its entries as they are read: kept
    answers of thousands of models do not bring on full collections."""
    mm = Matchmaker(registry)
    device = _devices(registry)[0]
    answer = mm.models_for(device)
    assert isinstance(answer, Matches) and len(answer) > 1
    entries = answer._entries
    assert isinstance(entries, engine._DeviceEntries)
    gc.collect()
    assert not any(gc.is_tracked(line) for line in entries._ranked)
    # read as a sequence it gives what the ranking says, in order
    assert [e.model for e in entries[0 : len(entries)]] == [m.model for m in answer]
    assert entries[-1] == entries[len(entries) - 1]
    assert [r.model for r in answer.ranked(0, 3)] == [e.model for e in entries[:3]]


def test_kept_model_figures_rank_as_the_query_and_follow_writes(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``models_for`` ranks from MAC figures kept per store write generation: the same
    ranking and estimated latencies as ``fits_models.rq``, read again after a write, and
    the query answers for a model whose figures are out of the ordinary."""
    reg = registry
    taken: list[bool] = []
    original = engine.Matchmaker._ranked_by_figures

    def spy(self: Matchmaker, row: Any, filters: Any) -> Any:
        found = original(self, row, filters)
        taken.append(found is not None)
        return found

    monkeypatch.setattr(engine.Matchmaker, "_ranked_by_figures", spy)
    mm, query, scan = Matchmaker(reg), _QueryRanked(reg), Matchmaker(reg, use_index=False)
    devices = _devices(reg)
    assert len(devices) > 5

    def same_answers() -> None:
        for device in devices:
            for options in ({}, {"max_latency_ms": 20.0}, {"max_latency_ms": 0.5}):
                assert _ranking(mm.models_for(device, **options)) == _ranking(
                    query.models_for(device, **options)
                ), (device, options)
            assert list(mm.models_for(device)) == scan.models_for(device), device

    same_answers()
    assert any(taken)  # the kept figures answered
    ranked = {d: _ranking(mm.models_for(d)) for d in devices}
    device, first = next((d, r[0]) for d, r in ranked.items() if r and r[0][2] is not None)
    model = first[0]
    assert reg.fits.kept("model_figures", lambda: None)[model] is not None
    # a write changes the model's MACs: the kept figures are read again
    macs = int(
        reg.store.select_values(
            f"SELECT ?x WHERE {{ <{model}> <{TR.macs}> ?x }}",
        )[0]["x"]
    )

    def set_macs(*values: Any) -> None:
        inserted = " ".join(f"<{model}> <{TR.macs}> {v} ." for v in values)
        reg.store.update(
            f"DELETE {{ GRAPH ?g {{ <{model}> <{TR.macs}> ?x }} }} "
            f"INSERT {{ GRAPH ?g {{ {inserted} }} }} "
            f"WHERE {{ GRAPH ?g {{ <{model}> <{TR.macs}> ?x }} }}"
        )

    try:
        set_macs(macs * 1000 + 7)
        changed = _ranking(mm.models_for(device))
        assert changed != ranked[device]
        latency = next(r[2] for r in changed if r[0] == model)
        assert latency is not None and first[2] is not None
        assert latency == pytest.approx(first[2] * (macs * 1000 + 7) / macs)
        same_answers()
        # a second, decimal MAC count: the model is irregular and the query answers
        set_macs(macs, "1.5")
        taken.clear()
        assert _ranking(mm.models_for(device)) == _ranking(query.models_for(device))
        assert taken == [False]
    finally:
        set_macs(macs)
    assert _ranking(mm.models_for(device)) == ranked[device]


def test_kept_devices_and_rankings_follow_writes(registry: Registry, tmp_path: Path) -> None:
    """The devices of a ranked page's profiles and each profile's plain ``models_for``
    ranking are kept until the store's next write: a device added to a kept profile is in
    the next answers, which equal the verdict query's, and leaves them when deleted."""
    reg = registry
    mm, scan = Matchmaker(reg), Matchmaker(reg, use_index=False)
    kws = reg.resolve("model", "kws-dscnn-int8")
    page = mm.devices_for(kws)
    assert isinstance(page, Matches) and len(page) > 0
    top = page.ranked(0, 1)[0].device
    profile = _profile(reg, top)
    kept_devices = reg.fits.kept("profile_devices", dict)
    assert kept_devices[profile] == sorted(
        str(r["d"])
        for r in reg.store.select_values(f"SELECT ?d WHERE {{ ?d <{TR.hasProfile}> <{profile}> }}")
    )
    models = mm.models_for(top)
    assert isinstance(models, Matches)
    rankings = reg.fits.kept("profile_rankings", dict)
    assert [model for model, _, _ in rankings[profile]] == [r.model for r in models.ranked()]
    # a twin of the top device (same profile): both kept figures are read again
    td = json.loads(reg.export("td", top))
    td["id"] = f"{td['id']}-kept-twin"
    path = tmp_path / "twin.td.jsonld"
    path.write_text(json.dumps(td))
    twin = reg.add_device(path).id
    assert _profile(reg, twin) == profile
    assert profile not in reg.fits.kept("profile_rankings", dict)  # the write dropped it
    assert twin in {r.device for r in mm.devices_for(kws).ranked()}
    assert list(mm.devices_for(kws)) == scan.devices_for(kws)
    assert list(mm.models_for(twin)) == scan.models_for(twin)
    reg.delete_device(twin)
    assert twin not in {r.device for r in mm.devices_for(kws).ranked()}
    assert list(mm.devices_for(kws)) == scan.devices_for(kws)
