"""The CLI as a user runs it: exit codes, JSON keys, formats."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from _processes import run_cli as run

from _paths import KG_DATA, SEED_MODELS

NANO = KG_DATA / "devices" / "arduino-nano-33-ble-sense.td.jsonld"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "store"
    result = run(path, "import", "--builtin", "-q")
    assert result.returncode == 0, result.stderr
    result = run(path, "add", "model", str(SEED_MODELS / "Person_Detection.tflite"))
    assert result.returncode == 0, result.stderr
    assert "NOT runnable" in result.stdout
    return path


def test_list_json_has_the_documented_keys(store: Path):
    models = json.loads(run(store, "list", "models", "--format", "json").stdout)
    assert len(models) >= 9
    for model in models:
        assert {"id", "name", "arena_bytes", "flash_bytes", "macs", "runnable", "reason"} <= set(
            model
        )
    person = next(m for m in models if m["id"] == "person-detection")
    assert person["runnable"] is False and "Hybrid" in person["reason"]
    devices = json.loads(run(store, "list", "devices", "--format", "json").stdout)
    assert len(devices) >= 10
    for device in devices:
        assert {"id", "title", "ram_bytes", "flash_bytes", "sensors"} <= set(device)
        assert isinstance(device["sensors"], list)


HEAVY = ("rdflib", "pyshacl", "numpy", "tflite_micro", "pyoxigraph_rdflib")


def _imported(store: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run ``tinyreg ARGS`` with ``-X importtime``: the answer and the top-level packages."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "tinyreg.registry.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "TINYREG_STORE": str(store)},
        timeout=300,
        check=False,
    )
    names = {
        line.rsplit("|", 1)[-1].strip().split(".")[0]
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    done.stderr = "\n".join(
        line for line in done.stderr.splitlines() if not line.startswith("import time:")
    )
    return done, names


def test_list_and_show_read_without_rdflib_and_answer_as_the_service(store: Path):
    """`list` and `show` read through pyoxigraph alone and print the service's answer."""
    from tinyreg.registry import Registry

    listed, names = _imported(store, "list", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    assert "pyoxigraph" in names and not names & set(HEAVY), sorted(names & set(HEAVY))
    shown = {}
    for ident in ("kws-dscnn-int8", "person-detection", "arduino-nano-33-ble-sense", "esp-eye"):
        done, names = _imported(store, "show", ident, "--format", "json")
        assert done.returncode == 0, done.stderr
        assert not names & set(HEAVY), (ident, sorted(names & set(HEAVY)))
        shown[ident] = json.loads(done.stdout)
    missing, _ = _imported(store, "show", "no-such-thing")
    assert missing.returncode == 1 and "no-such-thing" in missing.stderr
    with Registry.open(store) as registry:  # the full service, rdflib and all
        expected = {
            "models": [m.to_dict() for m in registry.list_models()],
            "devices": [d.to_dict() for d in registry.list_devices()],
        }
        details = {ident: registry.details(ident) for ident in shown}
        # while this process holds the store's lock, the command line still reads it
        locked, _ = _imported(store, "list", "devices", "--format", "json")
    assert json.loads(listed.stdout) == json.loads(json.dumps(expected))
    assert shown == json.loads(json.dumps(details))
    assert locked.returncode == 0, locked.stderr
    assert json.loads(locked.stdout) == json.loads(json.dumps(expected["devices"]))


def test_a_store_of_another_release_is_read_by_the_service(tmp_path: Path):
    """Reference graphs that are not this release's: `list` opens the full service,
    which brings them up to date, and answers the same."""
    from tinyreg.registry import Registry

    store = tmp_path / "store"
    with Registry.open(store) as registry:
        registry.add_device(NANO)
        registry.store.update(
            "PREFIX tr: <https://w3id.org/tinyreg#> WITH <https://w3id.org/tinyreg> "
            "DELETE { ?g tr:sha256 ?v } INSERT { ?g tr:sha256 'older' } "
            "WHERE { ?g tr:sha256 ?v }"
        )
    stale, names = _imported(store, "list", "devices", "--format", "json")
    assert stale.returncode == 0, stale.stderr
    assert "rdflib" in names  # the service, not the light reader
    assert [d["id"] for d in json.loads(stale.stdout)] == [
        "urn:tinyreg:device:arduino-nano-33-ble-sense"
    ]
    fresh, names = _imported(store, "list", "devices", "--format", "json")
    assert "rdflib" not in names  # brought up to date by the service
    assert fresh.stdout == stale.stdout


def test_add_model_with_infer_records_the_inference(tmp_path: Path):
    """``--infer`` runs one inference at the arena; the assessment says so."""
    path = tmp_path / "store"
    hello = SEED_MODELS / "Hello_World.tflite"
    sparql = (
        "PREFIX tr: <https://w3id.org/tinyreg#> SELECT ?checked WHERE "
        "{ ?m tr:hasRuntimeAssessment/tr:inferenceChecked ?checked }"
    )
    for flags, expected in (((), False), (("--infer",), True)):
        result = run(path, "add", "model", str(hello), *flags)
        assert result.returncode == 0, result.stderr
        rows = json.loads(run(path, "query", sparql, "--format", "json").stdout)
        assert rows == [{"checked": expected}]
        (model,) = json.loads(run(path, "list", "models", "--format", "json").stdout)
        assert model["runnable"] is True and model["inference_checked"] is expected


def test_query_formats_and_errors(store: Path):
    sparql = (
        "PREFIX tr: <https://w3id.org/tinyreg#> SELECT ?d ?ram WHERE "
        "{ ?d a tr:Device ; tr:hasRAM/tr:capacityBytes ?ram } ORDER BY ?d"
    )
    rows = json.loads(run(store, "query", sparql, "--format", "json").stdout)
    assert all(isinstance(r["ram"], int) for r in rows) and len(rows) >= 10
    csv_out = run(store, "query", sparql, "--format", "csv").stdout.splitlines()
    assert csv_out[0] == "d,ram" and len(csv_out) == len(rows) + 1
    bad = run(store, "query", "SELECT WHERE {")
    assert bad.returncode == 1 and "SPARQL" in bad.stderr


def test_exit_codes(store: Path, tmp_path: Path):
    assert run(store, "show", "no-such-thing").returncode == 1
    assert run(store, "list", "--format", "yaml").returncode == 2  # usage
    bad = tmp_path / "bad.td.jsonld"
    td = json.loads(NANO.read_text())
    del td["ram"]
    bad.write_text(json.dumps(td))
    refused = run(store, "add", "device", str(bad))
    assert refused.returncode == 1 and "hasRAM" in refused.stderr


def test_show_tells_an_engineer_tensors_operators_and_sensors(store: Path):
    from tflite_micro.python.tflite_micro import runtime

    model = KG_DATA / "models" / "kws-dscnn-int8.tflite"
    reference = runtime.Interpreter.from_file(str(model))
    shown = json.loads(run(store, "show", "kws-dscnn-int8", "--format", "json").stdout)
    for role, details in (
        ("inputs", reference.get_input_details),
        ("outputs", reference.get_output_details),
    ):
        assert len(shown[role]) == 1
        tensor, expected = shown[role][0], details(0)
        assert tensor["dtype"] == expected["dtype"].__name__ == "int8"
        assert tensor["shape"] == [int(d) for d in expected["shape"]]
        quant = expected["quantization_parameters"]
        assert tensor["quantization"] == "per-tensor"
        assert tensor["scale"] == pytest.approx(float(quant["scales"][0]), rel=1e-6)
        assert tensor["zero_point"] == int(quant["zero_points"][0])
    table = run(store, "show", "kws-dscnn-int8").stdout
    assert "int8 [1, 49, 10, 1]  scale 0.331987 zero point 29" in table
    assert "{" not in table  # the metric as words, not a Python dict
    assert "top-1 accuracy = " in table

    # a board whose TD lists its firmware's operators, with sensors named by part
    edge = json.loads(run(store, "show", "sparkfun-edge", "--format", "json").stdout)
    td = json.loads((KG_DATA / "devices" / "sparkfun-edge.td.jsonld").read_text())
    assert edge["firmware_operators"] == sorted(td["runtime"]["operators"])
    assert edge["firmware_operators_declared"] is True
    assert {"type": "Accelerometer", "part": "LIS2DH12"} in edge["sensor_list"]
    table = run(store, "show", "sparkfun-edge").stdout
    assert "Accelerometer (LIS2DH12)" in table and "sensor_parts" not in table
    # a board that declares no operator set offers its release's; one with no sensors says so
    portenta = json.loads(run(store, "show", "arduino-portenta-h7", "--format", "json").stdout)
    assert portenta["firmware_operators_declared"] is False
    assert {"CONV_2D", "DEPTHWISE_CONV_2D", "SOFTMAX"} <= set(portenta["firmware_operators"])
    assert portenta["sensor_list"] == []
    assert "none declared in the TD" in run(store, "show", "arduino-portenta-h7").stdout


def test_show_export_and_check(store: Path):
    shown = json.loads(run(store, "show", "arduino-nano-33-ble-sense", "--format", "json").stdout)
    assert shown["ram_bytes"] == 262_144
    td = json.loads(run(store, "export", "arduino-nano-33-ble-sense", "--format", "td").stdout)
    assert td["title"] == "Arduino Nano 33 BLE Sense"
    turtle = run(store, "export", "hello-world-missing", "--format", "turtle")
    assert turtle.returncode == 1
    checked = run(store, "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SHACL: 0 violation(s)" in checked.stdout
    assert "OWL: consistent" in checked.stdout


def test_help_is_clear():
    out = subprocess.run(
        [sys.executable, "-m", "tinyreg.registry.cli", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for command in ("add", "import", "list", "show", "query", "check", "export", "delete"):
        assert command in out


def test_version_is_the_distribution_version(tmp_path: Path):
    """``--version`` prints the package's version, which is the installed distribution's."""
    import importlib.metadata

    out = run(tmp_path / "store", "--version")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-1] == importlib.metadata.version("tinyreg")


def test_remote_store_by_url(oxigraph_server: str):
    # an http:// URL selects the SPARQL endpoint store
    added = run(oxigraph_server, "add", "device", str(NANO))
    assert added.returncode == 0, added.stderr
    devices = json.loads(run(oxigraph_server, "list", "devices", "--format", "json").stdout)
    assert "urn:tinyreg:device:arduino-nano-33-ble-sense" in {d["id"] for d in devices}
    down = run("http://127.0.0.1:9", "list", "devices")
    assert down.returncode == 3 and "127.0.0.1:9" in down.stderr


def test_killed_import_leaves_whole_resources_only(tmp_path: Path):
    """A `tinyreg import` killed mid-way leaves each model whole or absent, never half."""
    import signal
    import time

    store = tmp_path / "store"
    env = {**os.environ, "TINYREG_STORE": str(store)}
    for delay in (2.0, 3.5):
        proc = subprocess.Popen(
            [sys.executable, "-m", "tinyreg.registry.cli", "import", "-q", str(SEED_MODELS.parent)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        listed = run(store, "list", "models", "--format", "json")
        assert listed.returncode == 0, listed.stderr
        for model in json.loads(listed.stdout):
            assert model["macs"] > 0 and model["flash_bytes"] > 0
            assert model["runnable"] is (model["arena_bytes"] is not None)
        checked = run(store, "check", "--no-owl")
        assert checked.returncode == 0, checked.stdout + checked.stderr


def test_reindex(store: Path):
    up_to_date = run(store, "reindex")
    assert up_to_date.returncode == 0, up_to_date.stderr
    assert "up to date" in up_to_date.stdout
    rebuilt = run(store, "reindex", "--all", "--quiet")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "model(s) indexed" in rebuilt.stdout
    assert "reindex" in run(store, "--help").stdout


def test_a_mistyped_store_is_named_on_stderr_never_in_json(tmp_path: Path):
    typo = tmp_path / "stroe"
    done = run(typo, "list", "models", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
    assert f"no store at {typo}" in done.stderr
    again = run(typo, "list", "models", "--format", "json")
    assert "no store at" not in again.stderr  # it exists now


def test_serve_without_the_td_schema_says_how_to_get_it(tmp_path: Path):
    # what a plain pip install meets: no schema beside the venv's data files
    env = {**os.environ, "TINYREG_TD_SCHEMA": str(tmp_path / "missing" / "td-schema.json")}
    command = ["serve", "--port", "0"]
    done = subprocess.run(
        [sys.executable, "-m", "tinyreg.registry.cli", "--store", str(tmp_path / "s"), *command],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    for way_out in ("scripts/setup.sh", "TINYREG_TD_SCHEMA", "TINYREG_VALIDATE_TD_SCHEMA=false"):
        assert way_out in done.stderr
