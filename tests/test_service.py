"""The one service: its use-case methods, the models' kept bytes, one id scheme everywhere."""

from __future__ import annotations

import csv
import io
import json
import logging
import shutil
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from _processes import run_cli as run
from fastapi.testclient import TestClient

from _paths import KG_DATA
from tinyreg.core.errors import InputError, ModelFileError
from tinyreg.registry import DeploymentRecord, Registry, match_dict
from tinyreg.registry.rest import Settings, create_app

KWS = KG_DATA / "models" / "kws-dscnn-int8.tflite"
GESTURE = KG_DATA / "models" / "gesture-cnn-int8.tflite"
NANO = "urn:tinyreg:device:arduino-nano-33-ble-sense"
EDGE = "urn:tinyreg:device:sparkfun-edge"
TOKEN = "service-token"


@pytest.fixture(scope="module")
def registry() -> Iterator[Registry]:
    with Registry.open(in_memory=True) as reg:
        for model in (KWS, GESTURE):
            reg.add_model(model)
        for device in ("arduino-nano-33-ble-sense", "sparkfun-edge"):
            reg.add_device(KG_DATA / "devices" / f"{device}.td.jsonld")
        yield reg


# ------------------------------------------------------------------------------ ids


def test_match_and_explain_name_models_and_devices_as_list_does(registry: Registry) -> None:
    models = {m.id: m.iri for m in registry.list_models()}
    devices = {d.id for d in registry.list_devices()}
    answers = [
        *registry.match(model="kws-dscnn-int8", all_verdicts=True),
        *registry.match(device="arduino-nano-33-ble-sense", all_verdicts=True),
        *registry.match(everything=True, all_verdicts=True),
        registry.explain("kws-dscnn-int8", "sparkfun-edge"),
    ]
    assert answers
    for match in answers:
        data = match_dict(match)
        assert data["model"] in models and data["model_iri"] == models[data["model"]]
        assert data["device"] in devices and data["device_iri"] == data["device"]
        assert {"fits", "estimated_latency_ms", "failed", "flags", "constraints"} <= set(data)


def test_match_takes_exactly_one_question(registry: Registry) -> None:
    with pytest.raises(InputError):
        registry.match()
    with pytest.raises(InputError):
        registry.match(model="kws-dscnn-int8", device=NANO)
    with pytest.raises(InputError):
        registry.match(model="kws-dscnn-int8", task="classification")
    assert len(registry.match(everything=True, all_verdicts=True, limit=1)) == 1


def test_find_models_filters_as_the_rest_route(registry: Registry) -> None:
    assert [m.id for m in registry.find_models(text="KWS")] == ["kws-dscnn-int8"]
    assert registry.find_models(task="no-such-task") == []
    assert {m.id for m in registry.find_models(runnable=True)} == {
        "gesture-cnn-int8",
        "kws-dscnn-int8",
    }


def test_reindex_says_when_the_index_is_up_to_date(registry: Registry) -> None:
    assert registry.reindex() is None
    assert registry.reindex(everything=True) == 2


# ------------------------------------------------------------------------------ deployments


def _record(model: str, device: str, minutes: int, outcome: str) -> DeploymentRecord:
    when = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes)
    reason = None if outcome == "committed" else "test"
    return DeploymentRecord(
        f"{minutes:032x}", model, "1", device, "ops", when, when, outcome, reason, 1.0, 1.0, 1.0, 1
    )


@pytest.fixture(scope="module")
def deployed(registry: Registry) -> list[DeploymentRecord]:
    records = [
        _record("kws-dscnn-int8", NANO, 1, "committed"),
        _record("gesture-cnn-int8", NANO, 2, "committed"),
        _record("kws-dscnn-int8", NANO, 3, "rolled_back"),
        _record("kws-dscnn-int8", EDGE, 4, "failed"),
    ]
    for record in records:
        registry.record_deployment(record)
    return records


def test_deployments_running_is_each_devices_latest_commit(
    registry: Registry, deployed: list[DeploymentRecord]
) -> None:
    assert registry.deployments() == deployed
    assert registry.deployments(model="kws-dscnn-int8") == [deployed[0], *deployed[2:]]
    assert registry.deployments(running=True) == [deployed[1]]
    # the nano runs the gesture model now: no device runs kws
    assert registry.deployments(model="kws-dscnn-int8", running=True) == []
    data = deployed[1].to_dict()
    assert data["model"] == "gesture-cnn-int8"
    assert data["model_iri"] == "https://w3id.org/tinyreg/model/gesture-cnn-int8"
    assert data["device"] == data["device_iri"] == NANO


def test_rest_deployments_is_the_cli_command(
    registry: Registry, deployed: list[DeploymentRecord]
) -> None:
    app = create_app(Settings(token=TOKEN, validate_td_schema=False), registry=registry)
    with TestClient(app) as client:
        every = client.get("/deployments")
        assert every.status_code == 200
        assert every.json() == [r.to_dict() for r in deployed]
        running = client.get("/deployments", params={"running": "true"}).json()
        assert running == [deployed[1].to_dict()]
        edge = client.get("/deployments", params={"device": "sparkfun-edge"}).json()
        assert [r["outcome"] for r in edge] == ["failed"]
        assert client.head("/deployments").status_code == 200
        pairs = client.get("/match/devices", params={"model": "kws-dscnn-int8"}).json()
        assert pairs and {p["device"] for p in pairs} <= {NANO, EDGE}
        assert all(p["model"] == "kws-dscnn-int8" for p in pairs)


# ------------------------------------------------------------------------------ kept bytes


def test_bench_by_id_after_the_source_folder_is_gone(tmp_path: Path) -> None:
    upload = tmp_path / "upload"
    upload.mkdir()
    shutil.copy(KWS, upload / "kws.tflite")
    with Registry.open(tmp_path / "store") as reg:
        model = reg.add_model(upload / "kws.tflite", ident="kws")
        shutil.rmtree(upload)
        outcome = reg.bench(["kws"], runs=2)
        assert outcome.failed == []
        [result] = outcome.results
        assert result.file == tmp_path / "store" / "models" / "sha256" / f"{model.sha256}.tflite"
        data = result.to_dict()
        assert data["model"] == "kws" and data["model_iri"] == model.iri
        assert data["runs"] == 2 and data["file"] == str(result.file)
        assert "device" not in data  # no device asked for: no verdict
    with Registry.open(tmp_path / "store") as reg:  # kept across openings
        assert reg.model_bytes("kws").data == KWS.read_bytes()


def test_in_memory_registry_keeps_bytes_in_memory(tmp_path: Path) -> None:
    copy = tmp_path / "gesture.tflite"
    shutil.copy(GESTURE, copy)
    with Registry.open(in_memory=True) as reg:
        reg.add_model(copy, ident="g")
        copy.unlink()
        found = reg.model_bytes("g")
        assert found.data == GESTURE.read_bytes() and found.source is None
        assert reg.bench(["g"], runs=1).results[0].to_dict()["file"] is None


def test_model_store_setting_and_refusals(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TINYREG_MODEL_STORE", str(tmp_path / "blobs"))
    with Registry.open(tmp_path / "store") as reg:
        model = reg.add_model(KWS)
        assert (tmp_path / "blobs" / "sha256" / f"{model.sha256}.tflite").is_file()
        with pytest.raises(ModelFileError, match="differs"):
            reg.model_bytes(model.id, file=GESTURE)
        (tmp_path / "blobs" / "sha256" / f"{model.sha256}.tflite").unlink()
        monkeypatch.setenv("TINYREG_MODEL_PATH", str(KG_DATA / "models"))
        assert reg.model_bytes(model.id).source == KWS  # registered before bytes were kept


def test_the_same_bytes_under_two_ids_are_warned_about(
    registry: Registry, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="tinyreg"):
        registry.add_model(KWS, ident="kws-again")
    try:
        assert "kws-again has the same bytes" in caplog.text
        assert "kws-dscnn-int8" in caplog.text
    finally:
        registry.delete_model("kws-again")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="tinyreg"):
        registry.add_model(KWS)  # registering the same model again is no duplicate
    assert "same bytes" not in caplog.text


# ------------------------------------------------------------------------------ CLI


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "store"
    for model in (KWS, GESTURE):
        assert run(path, "add", "model", str(model)).returncode == 0
    for device in ("arduino-nano-33-ble-sense", "sparkfun-edge"):
        td = KG_DATA / "devices" / f"{device}.td.jsonld"
        assert run(path, "add", "device", str(td)).returncode == 0
    return path


def test_cli_warns_on_stderr_about_the_same_bytes(store: Path) -> None:
    again = run(store, "add", "model", str(KWS), "--id", "kws-twin")
    assert again.returncode == 0, again.stderr
    assert "warning: model kws-twin has the same bytes" in again.stderr
    assert run(store, "delete", "kws-twin").returncode == 0


def test_cli_ids_in_json_csv_and_tables(store: Path) -> None:
    listed = json.loads(run(store, "list", "--format", "json").stdout)
    model_ids = {m["id"] for m in listed["models"]}
    device_ids = {d["id"] for d in listed["devices"]}
    pairs = json.loads(run(store, "match", "--all", "--all-verdicts", "--format", "json").stdout)
    assert {p["model"] for p in pairs} == model_ids
    assert {p["device"] for p in pairs} == device_ids
    assert all(p["model_iri"].endswith("/" + p["model"]) for p in pairs)
    explained = json.loads(run(store, "explain", "kws-dscnn-int8", EDGE, "--format", "json").stdout)
    assert explained["model"] == "kws-dscnn-int8" and explained["device"] == EDGE

    text = run(store, "match", "--all", "--all-verdicts", "--format", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["model"] for r in rows} == model_ids and {r["device"] for r in rows} == device_ids
    failing = [r for r in rows if r["fits"] == "no"]
    assert failing, "the sparkfun edge refuses something"
    for row in rows:
        assert "[" not in row["failed"] and "[" not in row["flags"]
    assert any(";" in r["failed"] or r["failed"].isalpha() for r in failing)
    devices = list(
        csv.DictReader(io.StringIO(run(store, "list", "devices", "--format", "csv").stdout))
    )
    assert all("[" not in d["sensors"] for d in devices)
    assert any(";" in d["sensors"] for d in devices)

    table = run(store, "match", "--model", "kws-dscnn-int8", "--all-verdicts").stdout
    assert NANO in table and EDGE in table
    assert "ids `tinyreg list` prints" in " ".join(run(store, "match", "--help").stdout.split())


def test_rest_export_check_reindex_and_bench_are_the_commands(
    registry: Registry, deployed: list[DeploymentRecord]
) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    app = create_app(Settings(token=TOKEN, validate_td_schema=False), registry=registry)
    with TestClient(app) as client:
        turtle = client.get("/export", params={"id": "kws-dscnn-int8"})
        assert turtle.headers["content-type"].startswith("text/turtle")
        assert turtle.text == registry.export("turtle", "kws-dscnn-int8")
        td = client.get("/export", params={"id": "sparkfun-edge", "format": "td"})
        assert td.json() == registry.device_td(EDGE)
        checked = client.get("/check").json()
        assert checked["violations"] == [asdict(v) for v in registry.check()]
        assert checked["conforms"] is (checked["violations"] == [])
        assert client.post("/reindex").status_code == 401  # writes need the token
        assert client.post("/reindex", headers=auth).json() == {"indexed": None}
        measured = client.post(
            "/bench", params={"model": "gesture-cnn-int8", "runs": 1}, headers=auth
        ).json()
        [result] = measured["results"]
        assert result["model"] == "gesture-cnn-int8" and result["runs"] == 1
        assert measured["failed"] == []
        assert client.post("/bench", headers=auth).status_code == 400  # neither nor all
        # a deleted or never registered id has no deployments, whatever it looks like
        for odd in ("no-such-model", "a b<c>", "\u0007"):
            assert client.get("/deployments", params={"model": odd}).json() == []
