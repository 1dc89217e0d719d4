"""The synthetic fleet of ``benchmarks/fleet.py`` and the matchmaker's answers over it.

A tiny fleet (300 devices, 50 models) is bulk loaded into a temporary store; the checks are
those the fleet benchmark relies on: the synthetic models carry everything the verdict
query needs, and the matchmaker's answers are consistent with the devices' profiles.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _fleet import bulk_loaded, load_fleet_module
from rdflib import URIRef

from _paths import REPO
from tinyreg.core.queries import load_query
from tinyreg.matchmaker import Matchmaker
from tinyreg.registry import Registry

DEVICES = 300
MODELS = 50
TR = "https://w3id.org/tinyreg#"


fleet = load_fleet_module()


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Registry, Any]]:
    reg, info = bulk_loaded(tmp_path_factory.mktemp("fleet"), DEVICES, MODELS)
    try:
        yield reg, info
    finally:
        reg.close()


def _profile_of(reg: Registry, device: str) -> str:
    rows = reg.store.select(f"SELECT ?p WHERE {{ ?d <{TR}hasProfile> ?p }}", {"d": URIRef(device)})
    assert len(rows) == 1, f"{device} links to {len(rows)} profiles"
    return str(rows[0]["p"])


def _count(reg: Registry, cls: str) -> int:
    rows = reg.store.select(f"SELECT (COUNT(?x) AS ?n) WHERE {{ ?x a <{TR}{cls}> }}")
    return int(rows[0]["n"])  # type: ignore[call-overload]


def test_fleet_is_reproducible_and_prefix_stable(tmp_path: Path) -> None:
    a = fleet.write_fleet(tmp_path / "a.nq", 200, 20, seed=7)
    b = fleet.write_fleet(tmp_path / "b.nq", 200, 20, seed=7)
    assert (tmp_path / "a.nq").read_bytes() == (tmp_path / "b.nq").read_bytes()
    bigger = fleet.write_fleet(tmp_path / "c.nq", 400, 30, seed=7)
    assert bigger.device_profiles[:200] == a.device_profiles == b.device_profiles


def test_fleet_shape(loaded: tuple[Registry, Any]) -> None:
    reg, info = loaded
    assert _count(reg, "Device") == DEVICES
    assert _count(reg, "Model") == MODELS
    assert _count(reg, "DeviceProfile") == info.profiles
    assert 20 <= info.profiles <= DEVICES
    kinds = {kind.runtime_kind for kind in info.board_types.values()}
    assert kinds == {"release", "build", "no-table"}
    for kind in info.board_types.values():
        facts = kind.facts
        assert 64 * 1024 <= facts.ram_capacity <= 8 * 1024 * 1024
        assert 256 * 1024 <= facts.flash_capacity <= 16 * 1024 * 1024
        assert 1 <= len(facts.sensor_types) <= 4
        assert facts.ram_reserved < facts.ram_capacity
    # the registry's device queries (registry/queries/devices.rq) read synthetic devices
    record = reg.get_device(fleet.device_iri(0))
    facts = info.board_types[info.device_profiles[0]].facts
    assert (record.ram_bytes, record.core_family) == (facts.ram_capacity, facts.core_family)


def test_every_model_has_what_the_verdict_query_needs(loaded: tuple[Registry, Any]) -> None:
    reg, info = loaded
    rows = reg.store.select(load_query("tinyreg.matchmaker", "verdicts"))
    pairs = {(str(r["model"]), str(r["profile"])) for r in rows}
    models = {model for model, _ in pairs}
    assert models == {fleet.model_iri(i) for i in range(MODELS)}
    # one verdict per model and profile: no property is missing, none is doubled
    assert len(rows) == len(pairs) == MODELS * info.profiles
    assert any(r["fits"].toPython() for r in rows)  # type: ignore[union-attr]
    assert not all(r["fits"].toPython() for r in rows)  # type: ignore[union-attr]


def test_devices_for_matches_fit_and_belong_to_the_verdict_profile(
    loaded: tuple[Registry, Any],
) -> None:
    reg, _ = loaded
    mm = Matchmaker(reg)
    found = 0
    for i in range(8):
        model = fleet.model_iri(i)
        matches = mm.devices_for(model)
        assert [m.rank for m in matches] == list(range(1, len(matches) + 1))
        for match in matches:
            assert match.fits and match.model == model
            assert _profile_of(reg, match.device) == match.verdict.profile
        if matches:
            found += 1
            first = matches[0]
            explained = mm.explain(model, first.device)
            assert explained.fits, explained.explain()
            assert explained.verdict.profile == first.verdict.profile
            assert len(mm.devices_for(model, limit=3)) == min(3, len(matches))
    assert found, "no sampled model fits any device"


def test_models_for_matches_fit_the_device_profile(loaded: tuple[Registry, Any]) -> None:
    reg, info = loaded
    mm = Matchmaker(reg)
    release = next(info.devices_of("release"))
    device = fleet.device_iri(release)
    for match in mm.models_for(device):
        assert match.fits and match.device == device
        assert match.verdict.profile == info.device_profiles[release]


def test_runtime_without_table_fails_on_operators(loaded: tuple[Registry, Any]) -> None:
    reg, info = loaded
    mm = Matchmaker(reg)
    device = fleet.device_iri(next(info.devices_of("no-table")))
    for i in range(3):
        match = mm.explain(fleet.model_iri(i), device)
        assert not match.fits
        assert "operators" in match.verdict.failed, match.explain()
    assert mm.models_for(device) == []


def test_firmware_build_refuses_operators_it_does_not_register(
    loaded: tuple[Registry, Any],
) -> None:
    reg, info = loaded
    mm = Matchmaker(reg)
    index = next(info.devices_of("build"))
    registered = info.board_types[info.device_profiles[index]].facts.operators
    rows = reg.store.select(f"SELECT DISTINCT ?m ?op WHERE {{ ?m <{TR}usesOperatorType> ?op }}")
    outside = sorted(str(r["m"]) for r in rows if str(r["op"]).rsplit("/", 1)[1] not in registered)
    match = mm.explain(outside[0], fleet.device_iri(index))
    assert "operators" in match.verdict.failed, match.explain()


@pytest.mark.slow
def test_match_benchmark_runs_end_to_end_at_a_tiny_size() -> None:
    """The benchmark's whole code path (breakdown, all pairs, rdflib baseline) at a tiny size."""
    import json
    import subprocess

    out = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "match.py"),
            "--devices",
            "300",
            "--models",
            "30",
            "--board-types",
            "20",
            "--pairs-models",
            "10",
            "--pairs-devices",
            "100",
            "--repeat",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout
    figures = json.loads(out.strip().splitlines()[-1])
    for key in (
        "devices",
        "models",
        "devices_for_p50_ms",
        "models_for_p50_ms",
        "all_pairs_s",
        "rdflib_devices_for_p50_ms",
        "speedup_vs_rdflib",
    ):
        assert key in figures, key
    assert (figures["devices"], figures["models"]) == (300, 30)
    # the breakdown expands exactly the devices devices_for returned for that model
    assert figures["devices_for_matches"] == figures["devices_for_expansion_rows"]
    assert figures["rdflib_agrees"] is True
