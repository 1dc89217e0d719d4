"""Over-the-air deployment end to end: registry, matchmaker, a real mosquitto, virtual
devices running the real TFLite Micro interpreter, and the records in the graph."""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _mosquitto import Mosquitto, make_tls_files
from _processes import stop_process
from _tds import nano_td

from _paths import KG_DATA, REPO
from tinyreg.core.errors import BrokerError
from tinyreg.core.mqtt import Connection
from tinyreg.core.protocol import (
    QOS_CONTROL,
    Manifest,
    device_key,
    device_topic,
    generate_key,
    pack_chunk,
    public_key_bytes,
    unpack_chunk,
)
from tinyreg.core.queries import load_query
from tinyreg.firmware.fleet import Fleet
from tinyreg.matchmaker import Matchmaker
from tinyreg.registry import Registry
from tinyreg.registry.deployer import IN_FLIGHT_WINDOWS, Deployer, Progress, SequenceCounter
from tinyreg.registry.limits import device_limits

OLD = "gesture-cnn-int8"  # what the devices run before each fault
NEW = "kws-dscnn-int8"


def _td(ident: str, **changes: Any) -> dict[str, Any]:
    return nano_td(ident, f"Test board {ident}", **changes)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    reg = Registry.open(tmp_path_factory.mktemp("store") / "store")
    for name in (OLD, NEW, "person-cnn-int8"):
        reg.add_model(KG_DATA / "models" / f"{name}.tflite")
    for name in (
        "arduino-nano-33-ble-sense",
        "arduino-nano-33-ble-sense-rev2",
        "seeed-xiao-nrf52840-sense",
        "syntiant-tinyml",
        "sparkfun-edge",
    ):
        reg.add_device(KG_DATA / "devices" / f"{name}.td.jsonld")
    yield reg
    reg.close()


@pytest.fixture(scope="module")
def key():  # the registry's signing key for this module's deployments
    return generate_key()


class Bench:
    """Devices of one test: registered, served by a fleet, first brought onto OLD."""

    def __init__(self, registry: Registry, broker: Mosquitto, key: Any, directory: Path) -> None:
        self.registry = registry
        self.broker = broker
        self.key = key
        self.directory = directory
        self.fleet: Fleet | None = None

    def devices(self, *tds: dict[str, Any]) -> list[str]:
        ids = [self.registry.add_device(td).id for td in tds]
        limits = [device_limits(td) for td in tds]
        self.fleet = Fleet(
            self.broker.url, limits, self.directory / "devices", public_key_bytes(self.key)
        )
        self.fleet.start()
        return ids

    def deployer(self, **options: Any) -> Deployer:
        options.setdefault("timeout", 4.0)
        options.setdefault("ack_wait", 0.3)
        return Deployer(self.registry, self.broker.url, key=self.key, agent="tester", **options)

    def running(self, device: str) -> str | None:
        assert self.fleet is not None
        return self.fleet.devices[device].status.model

    def close(self) -> None:
        if self.fleet is not None:
            self.fleet.stop()


@pytest.fixture
def bench(registry: Registry, broker: Mosquitto, key: Any, tmp_path: Path) -> Iterator[Bench]:
    b = Bench(registry, broker, key, tmp_path)
    yield b
    b.close()


def _onto_old(bench: Bench, devices: list[str]) -> None:
    with bench.deployer() as dep:
        records = dep.deploy(OLD, devices, force=True)
    assert [r.outcome for r in records] == ["committed"] * len(devices), records
    assert all(bench.running(d) == OLD for d in devices)


def ask_inference(bench: Bench, device: str) -> dict[str, Any]:
    """Ask a device for one inference on its running model (a signed command)."""
    with bench.deployer() as dep:
        return dep.infer(device, timeout=10.0)


# ---------------------------------------------------------------------------------- end to end


def test_register_match_deploy_infer_record(bench: Bench, registry: Registry) -> None:
    matches = Matchmaker(registry).devices_for(NEW)
    fitting = [m.device for m in matches if m.fits]
    targets = [d for d in fitting if "nano" in d or "seeed" in d or "syntiant" in d]
    assert len(targets) >= 3, fitting
    tds = [
        json.loads((KG_DATA / "devices" / f"{d.rsplit(':', 1)[1]}.td.jsonld").read_text())
        for d in targets
    ]
    bench.devices(*tds)
    steps: list[Progress] = []
    with bench.deployer(chunk_size=512, window=8, parallel=2) as dep:
        records = dep.deploy(NEW, targets, progress=steps.append)
    assert [r.outcome for r in records] == ["committed"] * len(targets)
    for r in records:
        assert r.model == NEW and r.agent == "tester" and r.reason is None
        assert r.deploy_ms and r.deploy_ms > 0
        assert r.load_ms and r.load_ms > 0
        assert r.inference_ms is not None and r.inference_ms > 0
        assert r.arena_used_bytes == registry.get_model(NEW).arena_bytes
    assert {s.stage for s in steps} >= {"manifest", "transfer", "verified", "committed"}
    # the devices run inference on the new model
    for device in targets:
        reply = ask_inference(bench, device)
        assert reply["model"] == NEW and reply["latency_ms"] >= 0
        assert reply["outputs"] and len(reply["outputs"][0]) > 0
    # the graph answers "what runs where"
    rows = registry.query(load_query("tinyreg.registry", "deployments_running")).rows
    where = {str(r["device"]): str(r["model"]).rsplit("/", 1)[1] for r in rows}
    assert all(where[d] == NEW for d in targets)
    listed = registry.list_deployments(model=NEW, device=targets[0])
    assert listed[-1].id == records[0].id and listed[-1].outcome == "committed"
    assert registry.query(
        "ASK { ?d a tr:Deployment ; prov:used ?m ; tr:targetDevice ?dev ; "
        "prov:wasAssociatedWith [ a prov:Agent ; rdfs:label 'tester' ] ; "
        "tr:loadLatencyMs ?l ; tr:inferenceLatencyMs ?i ; tr:deployLatencyMs ?t }"
    ).boolean


def test_a_pair_the_matchmaker_rejects_is_refused_unless_forced(bench: Bench) -> None:
    (edge,) = bench.devices(_td("edge-like", sensors=[{"@type": "AnalogMicrophone"}]))
    with bench.deployer() as dep:
        (refused,) = dep.deploy("person-cnn-int8", [edge])
    assert refused.outcome == "refused" and "sensors" in (refused.reason or "")
    assert bench.running(edge) is None


def test_downgrade_is_refused_unless_forced(bench: Bench) -> None:
    (dev,) = bench.devices(_td("downgrade"))
    with bench.deployer() as dep:
        assert dep.deploy(OLD, [dev], version="2.0")[0].outcome == "committed"
        older = dep.deploy(OLD, [dev], version="1.0")[0]
        assert older.outcome == "rolled_back" and "downgrade" in (older.reason or "")
        assert bench.fleet and bench.fleet.devices[dev].status.version == "2.0"
        assert dep.deploy(OLD, [dev], version="1.0", force=True)[0].outcome == "committed"
    assert bench.fleet.devices[dev].status.version == "1.0"


# ---------------------------------------------------------------------------------- faults


def test_chunk_damaged_in_transit_is_resent_and_never_installed(bench: Bench) -> None:
    (dev,) = bench.devices(_td("crc"))
    _onto_old(bench, [dev])
    damaged: list[int] = []

    def damage(device: str, index: int, frame: bytes) -> bytes:
        if index in (3, 17) and index not in damaged:
            damaged.append(index)
            return frame[:-1] + bytes([frame[-1] ^ 0xFF])  # the CRC no longer matches
        return frame

    with bench.deployer(chunk_size=256, window=8) as dep:
        dep.chunk_filter = damage
        steps: list[Progress] = []
        (record,) = dep.deploy(NEW, [dev], progress=steps.append)
    assert damaged == [3, 17]
    assert record.outcome == "committed" and steps[-1].resent >= 2
    assert bench.running(dev) == NEW


def test_corrupted_image_is_refused_and_the_previous_model_keeps_running(bench: Bench) -> None:
    (dev,) = bench.devices(_td("corrupt"))
    _onto_old(bench, [dev])

    def corrupt(device: str, index: int, frame: bytes) -> bytes:
        if index != 5:
            return frame
        transfer, i, data = unpack_chunk(frame)
        return pack_chunk(transfer, i, bytes([data[0] ^ 0x01]) + data[1:])  # valid CRC, bad image

    with bench.deployer(chunk_size=256, window=8) as dep:
        dep.chunk_filter = corrupt
        (record,) = dep.deploy(NEW, [dev])
    assert record.outcome == "rolled_back"
    assert "verify" in (record.reason or "") and "SHA-256" in (record.reason or "")
    assert bench.running(dev) == OLD
    assert ask_inference(bench, dev)["model"] == OLD


def test_dropped_chunks_are_retransmitted(bench: Bench) -> None:
    (dev,) = bench.devices(_td("lossy"))
    _onto_old(bench, [dev])
    sent: dict[int, int] = {}

    def drop_a_fifth(device: str, index: int, frame: bytes) -> bytes | None:
        sent[index] = sent.get(index, 0) + 1
        return None if sent[index] == 1 and index % 5 == 2 else frame

    with bench.deployer(chunk_size=256, window=8) as dep:
        dep.chunk_filter = drop_a_fifth
        (record,) = dep.deploy(NEW, [dev])
    assert record.outcome == "committed"
    assert all(sent[i] == 2 for i in sent if i % 5 == 2)
    assert bench.running(dev) == NEW


def test_a_stalled_transfer_fails_keeps_the_old_model_and_resumes_later(bench: Bench) -> None:
    (dev,) = bench.devices(_td("stall"))
    _onto_old(bench, [dev])
    with bench.deployer(chunk_size=256, window=8, timeout=2.0) as dep:
        dep.chunk_filter = lambda device, index, frame: frame if index < 24 else None
        (failed,) = dep.deploy(NEW, [dev])
        assert failed.outcome == "failed" and "no answer" in (failed.reason or "")
        assert bench.running(dev) == OLD
        dep.chunk_filter = None
        steps: list[Progress] = []
        (resumed,) = dep.deploy(NEW, [dev], progress=steps.append)
    assert resumed.outcome == "committed"
    first = next(s for s in steps if s.stage == "transfer")
    assert first.chunks_done == 24  # the device kept what it had
    assert bench.running(dev) == NEW


def test_broker_restart_mid_transfer(bench: Bench) -> None:
    (dev,) = bench.devices(_td("restart"))
    _onto_old(bench, [dev])
    seen: list[str | None] = []

    def restart_once(device: str, index: int, frame: bytes) -> bytes:
        if index == 20 and not seen:
            bench.broker.restart()
            seen.append(bench.running(dev))
        return frame

    with bench.deployer(chunk_size=256, window=8, timeout=15.0) as dep:
        dep.chunk_filter = restart_once
        (record,) = dep.deploy(NEW, [dev])
        reconnections = dep.connection.connections
    assert seen == [OLD]  # while the broker was away, the device ran the previous model
    assert reconnections >= 2
    assert record.outcome == "committed"
    assert bench.running(dev) == NEW


def test_wrong_key_and_unsigned_manifest_are_refused(bench: Bench, registry: Registry) -> None:
    (dev,) = bench.devices(_td("signature"))
    _onto_old(bench, [dev])
    stranger = Deployer(registry, bench.broker.url, key=generate_key(), agent="x", timeout=4.0)
    with stranger:
        (record,) = stranger.deploy(NEW, [dev])
    assert record.outcome == "rolled_back" and "signature" in (record.reason or "")
    assert bench.running(dev) == OLD
    # a manifest without signature
    results: queue.Queue[dict[str, Any]] = queue.Queue()
    conn = Connection(
        bench.broker.url,
        [(device_topic(dev, "result"), QOS_CONTROL)],
        lambda t, p: results.put(json.loads(p)),
        name="test",
    )
    conn.start()
    manifest = Manifest(
        NEW, "9", 10, "00" * 32, 1, "tflite-micro", "x", 10, 1, "unsigned", device=dev, seq=2**62
    )
    conn.publish(device_topic(dev, "manifest"), manifest.body(), 1)  # no signature
    reply = results.get(timeout=10)
    conn.stop()
    assert reply["outcome"] == "rolled_back" and "not a signed" in reply["reason"]
    assert reply["seq"] == 2**62 and reply["transfer"] == "unsigned"  # what it claimed
    assert bench.running(dev) == OLD


def test_model_too_big_for_the_device_is_refused_with_the_reason(bench: Bench) -> None:
    small = _td("tiny-flash", flash={"capacityBytes": 200_000, "reservedBytes": 180_000})
    (dev,) = bench.devices(small)
    _onto_old(bench, [dev])  # 6,880 B fits a 10,000 B slot
    with bench.deployer() as dep:
        (refused,) = dep.deploy(NEW, [dev])
        assert refused.outcome == "refused" and "flash" in (refused.reason or "")
        (forced,) = dep.deploy(NEW, [dev], force=True)
    assert forced.outcome == "rolled_back"
    assert "does not fit the flash slot of 10,000 B" in (forced.reason or "")
    assert bench.running(dev) == OLD


def test_arena_over_the_ram_budget_is_refused(bench: Bench) -> None:
    small = _td("tiny-ram", ram={"capacityBytes": 64_000, "reservedBytes": 50_000})
    (dev,) = bench.devices(small)
    _onto_old(bench, [dev])  # arena 4,848 B fits 64,000 − 50,000 − 3,492
    with bench.deployer() as dep:
        (forced,) = dep.deploy(NEW, [dev], force=True)  # arena 11,888 B does not
    assert forced.outcome == "rolled_back" and "arena of 11,888 B" in (forced.reason or "")
    assert bench.running(dev) == OLD


# ---------------------------------------------------------------------------------- power loss


def _start_device_process(
    td: Path, broker: str, public: Path, state: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tinyreg.registry.cli",
            "device",
            "run",
            "--td",
            str(td),
            "--broker",
            broker,
            "--public-key",
            str(public),
            "--state-dir",
            str(state),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=REPO,
        env=env,
    )
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line.strip())
        if line.startswith("ready:"):
            return proc
    raise AssertionError(f"device process ended before it was ready: {lines}")


def test_power_loss_mid_write_comes_back_on_the_previous_model(
    bench: Bench, registry: Registry, tmp_path: Path
) -> None:
    td = _td("power-loss")
    td_file = tmp_path / "board.td.jsonld"
    td_file.write_text(json.dumps(td))
    dev = registry.add_device(td).id
    public = tmp_path / "registry.pub.pem"
    state = tmp_path / "flash"
    url = bench.broker.url
    with bench.deployer(chunk_size=256, window=8, timeout=2.0) as dep:
        dep.write_public_key(public)
        proc = _start_device_process(td_file, url, public, state)
        try:
            assert dep.deploy(OLD, [dev], force=True)[0].outcome == "committed"

            # this chunk leaves once the device has acknowledged (and logged) at least 13
            # chunks, i.e. after its acknowledgement of 16 (window 8)
            plug = IN_FLIGHT_WINDOWS * 8 + 13

            def pull_the_plug(device: str, index: int, frame: bytes) -> bytes | None:
                if index == plug and proc.poll() is None:
                    os.kill(proc.pid, signal.SIGKILL)
                    proc.wait()
                return frame

            dep.chunk_filter = pull_the_plug
            (lost,) = dep.deploy(NEW, [dev])
            assert lost.outcome == "failed"
            assert (state / "urn_tinyreg_device_power-loss" / "transfer.json").is_file()
            proc = _start_device_process(td_file, url, public, state)
            assert dep.infer(dev, timeout=10.0)["model"] == OLD  # back on the committed model
            dep.chunk_filter = None
            steps: list[Progress] = []
            (resumed,) = dep.deploy(NEW, [dev], progress=steps.append)
            assert resumed.outcome == "committed"
            assert next(s for s in steps if s.stage == "transfer").chunks_done >= 8
            assert dep.infer(dev, timeout=10.0)["model"] == NEW
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(10)
    outcomes = [r.outcome for r in registry.list_deployments(device=dev)]
    assert outcomes == ["committed", "failed", "committed"]


# ---------------------------------------------------------------------------------- command line


def _tinyreg(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tinyreg.registry.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env=env,
    )


def test_command_line_deploy_and_what_runs_where(broker: Mosquitto, tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    board = KG_DATA / "devices" / "arduino-nano-33-ble-sense.td.jsonld"
    model = str(KG_DATA / "models" / f"{NEW}.tflite")
    assert _tinyreg("--store", store, "add", "model", model).returncode == 0
    assert _tinyreg("--store", store, "add", "device", str(board)).returncode == 0
    public = tmp_path / "pub.pem"
    exported = _tinyreg("--store", store, "deploy", "--export-public-key", str(public))
    assert exported.returncode == 0 and (tmp_path / "store" / "signing-key.pem").is_file()
    proc = _start_device_process(board, broker.url, public, tmp_path / "flash")
    try:
        run = _tinyreg(
            "--store",
            store,
            "deploy",
            "--model",
            NEW,
            "--device",
            "arduino-nano-33-ble-sense",
            "--broker",
            broker.url,
            "--format",
            "json",
        )
        fleet = _tinyreg(
            "--store",
            store,
            "deploy",
            "--model",
            NEW,
            "--fleet",
            "--broker",
            broker.url,
            "--version",
            "2",
            "--format",
            "json",
        )
        where = "SELECT ?device WHERE { ?device a tr:Device }"
        selected = _tinyreg(
            "--store",
            store,
            "deploy",
            "--model",
            NEW,
            "--fleet",
            "--where",
            where,
            "--broker",
            broker.url,
            "--version",
            "3",
            "--format",
            "json",
        )
        board_id = "arduino-nano-33-ble-sense"
        common = ("--store", store, "deploy", "--device", board_id, "--broker", broker.url)
        rolled = _tinyreg(*common, "--rollback", "--format", "json")
        new_key = tmp_path / "next-key.pem"
        rotated = _tinyreg(*common, "--rotate-key", str(new_key), "--format", "json")
        refused = _tinyreg(*common, "--model", NEW, "--version", "5")  # the old key: revoked
        accepted = _tinyreg(*common, "--model", NEW, "--version", "5", "--key", str(new_key))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
    assert run.returncode == 0, run.stderr
    (record,) = json.loads(run.stdout)
    assert record["outcome"] == "committed" and record["inference_ms"] > 0
    assert "committed" in run.stderr and "verified" in run.stderr  # live progress
    for answer in (fleet, selected):  # the matchmaker's pairs, then a SPARQL selection
        assert answer.returncode == 0, answer.stderr
        assert [r["device"] for r in json.loads(answer.stdout)] == [record["device"]]
    where = _tinyreg("--store", store, "deployments", "--running", "--format", "json")
    (running,) = json.loads(where.stdout)
    assert running["device"] == "urn:tinyreg:device:arduino-nano-33-ble-sense"
    assert running["model"] == NEW
    assert running["model_version"] == "5"
    assert rolled.returncode == 0, rolled.stderr
    (back,) = json.loads(rolled.stdout)
    assert back["outcome"] == "committed" and back["model_version"] == "2"  # before "3"
    assert rotated.returncode == 0 and json.loads(rotated.stdout)[0]["outcome"] == "done"
    assert refused.returncode == 4 and "signature" in refused.stderr
    assert accepted.returncode == 0, accepted.stderr
    # without a broker listening the command fails with the broker's exit code
    down = _tinyreg(
        "--store",
        store,
        "deploy",
        "--model",
        NEW,
        "--device",
        "arduino-nano-33-ble-sense",
        "--broker",
        "mqtt://127.0.0.1:9",
    )
    assert down.returncode == 3 and "MQTT broker" in down.stderr


# ---------------------------------------------------------------------------------- protocol v2


class Listener:
    """A client that keeps what arrives on some topics (and can publish anything)."""

    def __init__(self, broker: str, topics: list[str], name: str = "spy") -> None:
        self.got: queue.Queue[tuple[str, bytes]] = queue.Queue()
        subscriptions = [(topic, QOS_CONTROL) for topic in topics]
        self.conn = Connection(broker, subscriptions, lambda t, p: self.got.put((t, p)), name=name)
        self.conn.start()

    def next(self, timeout: float = 10.0) -> tuple[str, bytes]:
        return self.got.get(timeout=timeout)

    def publish(self, topic: str, payload: bytes) -> None:
        """Publish and wait until the broker has it (so that closing loses nothing)."""
        self.conn.client.publish(topic, payload, qos=QOS_CONTROL).wait_for_publish(5)

    def close(self) -> None:
        self.conn.stop()


def test_a_recorded_manifest_is_refused_later_and_on_another_device(bench: Bench) -> None:
    a, b = bench.devices(_td("replay-a"), _td("replay-b"))
    spy = Listener(bench.broker.url, [device_topic(a, "manifest")])
    try:
        _onto_old(bench, [a, b])
        _, recorded = spy.next()  # OLD for device a, signed with "allow downgrade"
        with bench.deployer() as dep:
            assert dep.deploy(NEW, [a])[0].outcome == "committed"
        results = Listener(bench.broker.url, [device_topic(d, "result") for d in (a, b)])
        try:
            spy.publish(device_topic(a, "manifest"), recorded)  # the same device, later
            spy.publish(device_topic(b, "manifest"), recorded)  # another device
            answers = {
                topic: json.loads(payload) for topic, payload in (results.next(), results.next())
            }
        finally:
            results.close()
    finally:
        spy.close()
    later, elsewhere = answers[device_topic(a, "result")], answers[device_topic(b, "result")]
    assert later["outcome"] == "rolled_back" and "replay" in later["reason"]
    assert elsewhere["outcome"] == "rolled_back" and "another device" in elsewhere["reason"]
    assert bench.running(a) == NEW and bench.running(b) == OLD


def test_commands_signed_by_anyone_else_are_refused(bench: Bench, registry: Registry) -> None:
    (dev,) = bench.devices(_td("commands"))
    _onto_old(bench, [dev])
    stranger = Deployer(registry, bench.broker.url, key=generate_key(), agent="x", timeout=4.0)
    with stranger:
        answer = stranger.infer(dev)
        assert answer["outcome"] == "refused" and "signature" in answer["reason"]
        (refused,) = stranger.rollback([dev], record=False)
    assert refused.outcome == "rolled_back" and "signature" in (refused.reason or "")
    results = Listener(bench.broker.url, [device_topic(dev, "result")])
    try:  # a version 1 command, unsigned
        results.publish(device_topic(dev, "cmd"), json.dumps({"op": "abort"}).encode())
        answer = json.loads(results.next()[1])
    finally:
        results.close()
    assert answer["outcome"] == "refused" and "not a signed" in answer["reason"]
    assert bench.running(dev) == OLD and ask_inference(bench, dev)["model"] == OLD


GARBAGE = [
    b"",
    b"[]",
    b'"x"',
    b"{}",
    b"null",
    b"1e999999",
    b"9" * 5000,
    b"[" * 5000,
    b'{"transfer": [], "have": 5, "seq": "1", "outcome": {}, "load_ms": "x"}',
    b'{"op": "infer", "id": 1}',
    b"\xff" * 440,
    b"TRS2" + bytes(252),
]


def test_malformed_messages_on_every_topic_stop_neither_device_nor_deployer(
    bench: Bench,
) -> None:
    (dev,) = bench.devices(_td("garbage"))
    _onto_old(bench, [dev])
    assert bench.fleet is not None
    device = bench.fleet.devices[dev]
    before = device.status.rejected_messages
    with bench.deployer() as dep:
        noise = Listener(bench.broker.url, [], name="noise")
        try:
            for payload in GARBAGE:
                for leaf in ("manifest", "chunk", "cmd", "ack", "result", "inference"):
                    noise.publish(device_topic(dev, leaf), payload)
        finally:
            noise.close()
        assert dep.infer(dev)["model"] == OLD  # the device answers
        (record,) = dep.deploy(NEW, [dev])  # and takes an update
        assert record.outcome == "committed"
        assert dep.rejected_messages >= len(GARBAGE)  # its answers it could not read
        assert dep.connection.handler_errors == 0
    assert device.status.rejected_messages - before >= 2 * len(GARBAGE)
    assert bench.fleet.connection.handler_errors == 0
    assert bench.running(dev) == NEW


def test_signed_rollback_is_done_and_recorded(bench: Bench, registry: Registry) -> None:
    (dev,) = bench.devices(_td("rollback"))
    _onto_old(bench, [dev])
    with bench.deployer() as dep:
        assert dep.deploy(NEW, [dev])[0].outcome == "committed"
        (record,) = dep.rollback([dev])
        assert record.outcome == "committed" and record.reason == "rollback"
        assert record.model == OLD and record.load_ms and record.inference_ms
        assert dep.infer(dev)["model"] == OLD
    assert bench.running(dev) == OLD
    rows = registry.query(load_query("tinyreg.registry", "deployments_running")).rows
    where = {str(r["device"]): str(r["model"]).rsplit("/", 1)[1] for r in rows}
    assert where[dev] == OLD  # the graph says what the device runs


def test_sequence_numbers_survive_a_deployer_restart(bench: Bench, tmp_path: Path) -> None:
    path = tmp_path / "ota-sequence"
    used = [SequenceCounter(path).next() for _ in range(3)]
    assert SequenceCounter(path).next() > max(used)  # a restarted deployer goes on above
    (dev,) = bench.devices(_td("sequence"))
    with bench.deployer() as dep:
        assert dep.sequence.path == Path(bench.registry.store.label) / "ota-sequence"
    # a deployer whose counter is behind the device's (another deployer signed newer
    # numbers, or its file was lost) catches up in one round trip
    ahead = tmp_path / "ahead"
    ahead.write_text(f"{time.time_ns() // 1000 + 2**30}\n")
    with bench.deployer(sequence=SequenceCounter(ahead)) as dep:
        assert dep.deploy(OLD, [dev], force=True)[0].outcome == "committed"
    assert bench.fleet is not None
    high = bench.fleet.devices[dev].status.seq
    with bench.deployer(sequence=SequenceCounter(tmp_path / "behind")) as dep:
        (record,) = dep.deploy(NEW, [dev])
    assert record.outcome == "committed" and bench.fleet.devices[dev].status.seq > high


def test_key_rotation_needs_the_current_key_and_revokes_it(
    bench: Bench, registry: Registry
) -> None:
    (dev,) = bench.devices(_td("rotate"))
    _onto_old(bench, [dev])
    new = generate_key()
    with Deployer(registry, bench.broker.url, key=generate_key(), agent="x", timeout=4) as other:
        assert other.rotate_key([dev], new)[dev]["outcome"] == "refused"
    with bench.deployer() as dep:
        assert dep.rotate_key([dev], new)[dev]["outcome"] == "done"
        (revoked,) = dep.deploy(NEW, [dev])
    assert revoked.outcome == "rolled_back" and "signature" in (revoked.reason or "")
    with Deployer(registry, bench.broker.url, key=new, agent="tester", timeout=4.0) as dep:
        assert dep.deploy(NEW, [dev])[0].outcome == "committed"
    assert bench.running(dev) == NEW


def test_broker_acls_keep_other_clients_off_a_devices_topics(
    registry: Registry, key: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    td = _td("acl")
    dev = registry.add_device(td).id
    user = "fleet-1"  # a fleet process: one user, the topics of its devices
    mine = f"tinyreg/ota/v2/{device_key(dev)}"
    acl = "".join(
        ["user deployer\n"]
        + [f"topic write tinyreg/ota/v2/+/{leaf}\n" for leaf in ("manifest", "chunk", "cmd")]
        + [
            f"topic read tinyreg/ota/v2/+/{leaf}\n"
            for leaf in ("ack", "result", "inference", "status")
        ]
        + [f"\nuser {user}\n"]
        + [f"topic read {mine}/{leaf}\n" for leaf in ("manifest", "chunk", "cmd")]
        + [f"topic write {mine}/{leaf}\n" for leaf in ("ack", "result", "status", "inference")]
    )
    users = {"deployer": "pw", user: "pw", "intruder": "pw"}
    server = Mosquitto(tmp_path / "mosquitto", users=users, acl=acl).start()
    host = f"127.0.0.1:{server.port}"
    monkeypatch.setenv("TINYREG_MQTT_PASSWORD", "pw")
    fleet = Fleet(
        f"mqtt://{user}@{host}",
        [device_limits(td)],
        tmp_path / "devices",
        public_key_bytes(key),
    )
    try:
        fleet.start()
        broker = f"mqtt://deployer@{host}"
        with Deployer(registry, broker, key=key, agent="tester", timeout=4.0) as dep:
            assert dep.deploy(OLD, [dev], force=True)[0].outcome == "committed"
            intruder = Listener(f"mqtt://intruder@{host}", [], name="intruder")
            for leaf in ("manifest", "chunk", "cmd"):
                intruder.publish(device_topic(dev, leaf), b"[]")
            intruder.close()
            time.sleep(0.5)
            assert dep.infer(dev)["model"] == OLD
        assert fleet.devices[dev].status.rejected_messages == 0  # nothing reached it
        monkeypatch.delenv("TINYREG_MQTT_PASSWORD")
        with pytest.raises(BrokerError, match="refused"):
            Connection(f"mqtt://{host}", [], lambda t, p: None, name="anonymous").start(3)
    finally:
        fleet.stop()
        server.stop()


def test_deploy_over_tls_with_credentials_from_a_file_and_the_environment(
    tmp_path: Path,
) -> None:
    tls = make_tls_files(tmp_path / "tls")
    secrets = {"deployer": "deployer-7c1f", "fleet-1": "fleet-93ad"}
    server = Mosquitto(tmp_path / "mosquitto", users=secrets, tls=tls).start()
    host = f"127.0.0.1:{server.port}"
    assert server.url == f"mqtts://{host}"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TINYREG_MQTT_")}
    store = str(tmp_path / "store")
    board = KG_DATA / "devices" / "arduino-nano-33-ble-sense.td.jsonld"
    added = _tinyreg("--store", store, "add", "model", str(KG_DATA / "models" / f"{NEW}.tflite"))
    assert added.returncode == 0, added.stderr
    assert _tinyreg("--store", store, "add", "device", str(board)).returncode == 0
    public = tmp_path / "pub.pem"
    assert _tinyreg("--store", store, "deploy", "--export-public-key", str(public)).returncode == 0
    # the device process: user in the URL, password in a file, the test CA
    password_file = tmp_path / "fleet.password"
    password_file.write_text(secrets["fleet-1"] + "\n")
    password_file.chmod(0o600)
    fleet_env = {
        **clean,
        "TINYREG_MQTT_PASSWORD_FILE": str(password_file),
        "TINYREG_MQTT_CA_FILE": str(tls.ca),
    }
    proc = _start_device_process(
        board, f"mqtts://fleet-1@{host}", public, tmp_path / "flash", fleet_env
    )
    try:
        # no secret on any command line (what `ps` shows)
        cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes()
        assert secrets["fleet-1"].encode() not in cmdline
        # the deployer: user and password from the environment
        deployer_env = {
            **clean,
            "TINYREG_MQTT_USERNAME": "deployer",
            "TINYREG_MQTT_PASSWORD": secrets["deployer"],
            "TINYREG_MQTT_CA_FILE": str(tls.ca),
        }
        common = ("--store", store, "deploy", "--device", "arduino-nano-33-ble-sense")
        run = _tinyreg(
            *common, "--model", NEW, "--broker", f"mqtts://{host}", "--format", "json",
            env=deployer_env,
        )  # fmt: skip
        assert run.returncode == 0, run.stdout + run.stderr
        assert [r["outcome"] for r in json.loads(run.stdout)] == ["committed"]
        # without the CA, with a wrong password or without TLS, nothing gets through
        without_ca = _tinyreg(
            *common, "--model", NEW, "--broker", f"mqtts://{host}",
            env={k: v for k, v in deployer_env.items() if k != "TINYREG_MQTT_CA_FILE"},
        )  # fmt: skip
        assert without_ca.returncode != 0
        assert "certificate" in without_ca.stderr.lower(), without_ca.stderr
        wrong = _tinyreg(
            *common, "--model", NEW, "--broker", f"mqtts://{host}",
            env={**deployer_env, "TINYREG_MQTT_PASSWORD": "guess"},
        )  # fmt: skip
        assert wrong.returncode != 0 and "refused" in wrong.stderr, wrong.stderr
        plain = _tinyreg(
            *common, "--model", NEW, "--broker", f"mqtt://deployer@{host}", env=deployer_env
        )
        assert plain.returncode != 0 and "broker" in plain.stderr.lower(), plain.stderr
        assert secrets["deployer"] not in run.stderr + wrong.stderr + plain.stderr
        # the graph still says what the device runs: only the one committed deployment
        running = _tinyreg("--store", store, "deployments", "--running", "--format", "json")
        assert [d["outcome"] for d in json.loads(running.stdout)] == ["committed"]
    finally:
        stop_process(proc)
        server.stop()


def test_deploy_by_id_a_model_whose_file_is_gone(
    registry: Registry, broker: Mosquitto, tmp_path: Path
) -> None:
    """The registry keeps the bytes it registers: the service deploys by id alone."""
    upload = tmp_path / "upload"
    upload.mkdir()
    (upload / "kws-upload.tflite").write_bytes((KG_DATA / "models" / f"{NEW}.tflite").read_bytes())
    model = registry.add_model(upload / "kws-upload.tflite", ident="kws-upload")
    shutil.rmtree(upload)
    key_file = tmp_path / "signing-key.pem"
    td = _td("by-id")
    device = registry.add_device(td).id
    fleet = Fleet(
        broker.url,
        [device_limits(td)],
        tmp_path / "devices",
        public_key_bytes(registry.signing_key(key_file)),
    )
    fleet.start()
    try:
        records = registry.deploy(
            model.id,
            registry.deploy_targets(model.id, [device]),
            broker=broker.url,
            key=key_file,
            agent="tester",
            timeout=4.0,
            ack_wait=0.3,
        )
        assert [r.outcome for r in records] == ["committed"], records
        assert fleet.devices[device].status.model == "kws-upload"
        [running] = registry.deployments(device=device, running=True)
        assert running.to_dict()["model"] == "kws-upload"
        assert running.to_dict()["device_iri"] == device
    finally:
        fleet.stop()
        registry.delete_model(model.id)
        registry.delete_device(device)


def test_rest_deploys_through_the_servers_broker_only(
    registry: Registry, broker: Mosquitto, tmp_path: Path
) -> None:
    """POST /deployments is the service's deploy; the broker is a server setting."""
    from fastapi.testclient import TestClient

    from tinyreg.registry.rest import Settings, create_app

    key_file = tmp_path / "signing-key.pem"
    td = _td("over-rest")
    device = registry.add_device(td).id
    fleet = Fleet(
        broker.url,
        [device_limits(td)],
        tmp_path / "devices",
        public_key_bytes(registry.signing_key(key_file)),
    )
    fleet.start()
    auth = {"Authorization": "Bearer secret"}
    body = {"model": NEW, "devices": [device], "timeout": 4.0}
    try:
        off = Settings(token="secret", validate_td_schema=False)
        with TestClient(create_app(off, registry=registry)) as client:
            refused = client.post("/deployments", json=body, headers=auth)
            assert refused.status_code == 403 and "TINYREG_BROKER" in refused.json()["detail"]
        on = Settings(
            token="secret", validate_td_schema=False, broker=broker.url, signing_key=key_file
        )
        with TestClient(create_app(on, registry=registry)) as client:
            assert client.post("/deployments", json=body).status_code in (401, 403)
            assert (
                client.post(
                    "/deployments", json={**body, "broker": "mqtt://10.0.0.1"}, headers=auth
                ).status_code
                == 200
            )  # an unknown field is ignored
            done = client.post("/deployments", json=body, headers=auth)
            assert done.status_code == 200, done.text
            [record] = done.json()
            assert record["outcome"] == "committed" and record["device"] == device
            running = client.get("/deployments", params={"device": device, "running": "true"})
            assert [r["model"] for r in running.json()] == [NEW]
        assert fleet.devices[device].status.model == NEW
    finally:
        fleet.stop()
        registry.delete_device(device)
