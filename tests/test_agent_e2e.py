"""The C agent end to end: OTA deployments through a real mosquitto and the serial bridge to
agents running under QEMU (``tinyreg.firmware.agents``), as ``tinyreg device run --target``
starts them.

Two emulated boards (on each core) take a seed int8 model; their inference for the fixed input
(every input at its zero point) equals the host interpreter's bit for bit, and the records carry
deploy, load and inference time. An emulator killed with SIGKILL in the middle of a transfer,
and during the commit at three moments (image verified, verdict leaving, last chunk held), comes
back on a committed model, answers the deployer with a verdict and the deployment completes. A
board keeps the chunks it acknowledged before the kill and is sent only the missing ones. A
tampered chunk, a manifest signed by another key, an operator the firmware does not register
and mangled flatbuffers are refused on the device with the reason, the previous model still
running. A signed rollback returns a board to its previous model (kept across a power cut, the
graph true to it). ``tinyreg device run --target`` keeps a board's flash across restarts.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import queue
import signal
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _mosquitto import Mosquitto
from _tds import nano_td

from _paths import KG_DATA, REPO
from tinyreg.core.mqtt import Connection
from tinyreg.core.protocol import (
    QOS_CONTROL,
    Manifest,
    device_topic,
    generate_key,
    pack_chunk,
    public_key_bytes,
    sign_manifest,
)
from tinyreg.firmware.agents import AgentDevice, AgentFleet
from tinyreg.firmware.target import host_output_sha256, toolchain_available
from tinyreg.registry import Registry
from tinyreg.registry.deployer import Deployer, Progress
from tinyreg.registry.limits import device_limits

IN_CI = os.environ.get("CI", "").lower() == "true"
pytestmark = pytest.mark.skipif(
    not toolchain_available() and not IN_CI,
    reason="arm-none-eabi-gcc or qemu-system-arm not installed (scripts/setup.sh installs them)",
)

TARGET = "qemu-mps2-an386"
OLD = "gesture-cnn-int8"
NEW = "kws-dscnn-int8"


def _td(ident: str, **changes: Any) -> dict[str, Any]:
    return nano_td(f"qemu-{ident}", f"Emulated board {ident}", **changes)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    reg = Registry.open(tmp_path_factory.mktemp("store") / "store")
    for name in (OLD, NEW):
        reg.add_model(KG_DATA / "models" / f"{name}.tflite")
    yield reg
    reg.close()


@pytest.fixture(scope="module")
def key() -> Any:
    return generate_key()


class Boards:
    """Emulated boards of one test, registered in the registry and bridged to the broker."""

    def __init__(self, registry: Registry, broker: Mosquitto, key: Any, directory: Path) -> None:
        self.registry, self.broker, self.key, self.directory = registry, broker, key, directory
        self.fleet: AgentFleet | None = None

    def start(self, *names: str, target: str = TARGET, **changes: Any) -> list[str]:
        tds = [_td(n, **changes) for n in names]
        ids = [self.registry.add_device(td).id for td in tds]
        self.fleet = AgentFleet(
            self.broker.url,
            [device_limits(td) for td in tds],
            target,
            self.directory / "boards",
            public_key_bytes(self.key),
        )
        self.fleet.start()
        return ids

    def board(self, device: str) -> AgentDevice:
        assert self.fleet is not None
        return self.fleet.devices[device]

    def deployer(self, **options: Any) -> Deployer:
        options.setdefault("timeout", 20.0)
        options.setdefault("ack_wait", 1.0)
        return Deployer(self.registry, self.broker.url, key=self.key, agent="tester", **options)

    def close(self) -> None:
        if self.fleet is not None:
            self.fleet.stop()


@pytest.fixture
def boards(registry: Registry, broker: Mosquitto, key: Any, tmp_path: Path) -> Iterator[Boards]:
    b = Boards(registry, broker, key, tmp_path)
    yield b
    b.close()


def _committed(records: list[Any], n: int) -> None:
    assert [r.outcome for r in records] == ["committed"] * n, [
        (r.outcome, r.reason) for r in records
    ]


@pytest.mark.parametrize("target", [TARGET, "qemu-mps3-an547"])
def test_two_emulated_boards_take_a_model_and_infer_as_the_host(
    boards: Boards, registry: Registry, target: str
) -> None:
    devices = boards.start(f"{target}-a", f"{target}-b", target=target)
    with boards.deployer() as dep:
        records = dep.deploy(NEW, devices)
        _committed(records, 2)
        answers = [dep.infer(d, timeout=20.0) for d in devices]
    expected = host_output_sha256((KG_DATA / "models" / f"{NEW}.tflite").read_bytes())
    for answer in answers:
        assert answer["model"] == NEW, answer
        assert answer["output_sha256"] == expected, answer
        assert answer["latency_ms"] > 0
    for record in records:  # the figures come from the device's verdict
        assert record.deploy_ms is not None and record.deploy_ms > 0
        assert record.load_ms is not None and record.load_ms > 0
        assert record.inference_ms is not None and record.inference_ms > 0
        assert record.arena_used_bytes is not None and 0 < record.arena_used_bytes < 256 * 1024
    graph = registry.list_deployments(device=devices[0])
    assert [r.outcome for r in graph] == ["committed"]
    assert graph[0].load_ms == pytest.approx(records[0].load_ms, abs=1e-3)
    for device in devices:
        assert boards.board(device).bridge.counters.frames_dropped == 0


def _power_cycle(board: AgentDevice) -> None:
    """SIGKILL the emulator (the flash file keeps what was written) and start it again."""
    board.kill()
    board.start_qemu()


def test_power_cut_mid_transfer_and_during_the_commit(boards: Boards) -> None:
    (device,) = boards.start("power")
    board = boards.board(device)
    # a restarted board boots, self-tests and answers under emulation on a shared machine:
    # the deployer waits longer than elsewhere without progress
    with boards.deployer(chunk_size=512, window=4, timeout=60.0) as dep:
        _committed(dep.deploy(OLD, [device]), 1)

        # mid-transfer: the plug is pulled as chunk 20 leaves (at most four windows of 4 are
        # in flight, so the board has acknowledged, and logged, at least 8 chunks), the board is
        # back at once and recovers the chunks of its transfer log
        cut: list[int] = []
        after: list[int] = []
        acked: list[set[int]] = [set()]

        def on_have(_topic: str, payload: bytes) -> None:
            body = json.loads(payload)
            if not cut and isinstance(body.get("have"), str):
                bits = base64.b64decode(body["have"])
                acked[0] = {i for i in range(len(bits) * 8) if bits[i // 8] >> (i % 8) & 1}

        def pull_the_plug(target: str, index: int, frame: bytes) -> bytes | None:
            if cut:
                after.append(index)
            elif index == 20:
                time.sleep(0.3)  # the spy sees the acknowledgements the deployer saw
                cut.append(index)
                _power_cycle(board)
            return frame

        spy = Connection(
            boards.broker.url, [(device_topic(device, "ack"), QOS_CONTROL)], on_have, name="have"
        )
        spy.start()
        dep.chunk_filter = pull_the_plug
        steps: list[Progress] = []
        try:
            (resumed,) = dep.deploy(NEW, [device], progress=steps.append)
        finally:
            dep.chunk_filter = None
            spy.stop()
        assert cut == [20]
        _committed([resumed], 1)
        assert board.bridge.counters.reconnects >= 1
        assert dep.infer(device, timeout=20.0)["model"] == NEW
        # the resumed transfer sent only what the board did not hold: never a chunk it had
        # acknowledged before the cut, and fewer than the whole image (29 chunks of 512 B)
        chunks = -(-(KG_DATA / "models" / f"{NEW}.tflite").stat().st_size // 512)
        assert len(acked[0]) >= 8, acked
        assert not acked[0] & set(after), (sorted(acked[0]), after)
        assert 0 < len(after) < chunks, (len(after), chunks)

        # during the commit, at three moments the board itself marks (the bridge pulls the plug
        # as it reads the board's answer, before the deployer sees it): each restarted board
        # must end the deployment with a verdict, and the image it runs must be the one that
        # verdict names
        def cut_when(leaf: str, key: str, value: Any, drop: bool = False) -> list[bool]:
            pulled: list[bool] = []

            def pull(got: str, payload: bytes) -> bytes | None:
                if pulled or got != leaf or json.loads(payload).get(key) != value:
                    return payload
                pulled.append(True)
                _power_cycle(board)
                return None if drop else payload

            board.bridge.answer_filter = pull
            return pulled

        def deploy_through_the_cut(model: str, version: str, pulled: list[bool]) -> None:
            try:
                (record,) = dep.deploy(model, [device], version=version, force=True)
            finally:
                board.bridge.answer_filter = None
            assert pulled == [True]
            # the sealed image boots on trial at the restart, passes its self-test and is
            # confirmed (committed), or it had been started on trial already and the reset
            # reverts it (rolled back, the previous model runs); then deploying again completes
            if record.outcome == "rolled_back":
                assert "reset before it confirmed" in (record.reason or ""), record
                (record,) = dep.deploy(model, [device], version=version, force=True)
            _committed([record], 1)
            answer = dep.infer(device, timeout=20.0)
            assert answer["model"] == model and answer["version"] == version, answer
            data = (KG_DATA / "models" / f"{model}.tflite").read_bytes()
            assert answer["output_sha256"] == host_output_sha256(data)

        # 1. as the board reports the image verified: the slot is sealed, the self-test runs
        deploy_through_the_cut(OLD, "9.0", cut_when("ack", "verified", True))
        # 2. as the committed verdict leaves the board: the commit is done, the verdict lost;
        # the deployer sees the new boot count and asks, the board answers the verdict again
        deploy_through_the_cut(NEW, "9.1", cut_when("result", "outcome", "committed", drop=True))
        # 3. as the board acknowledges the last chunk: it holds every chunk and is verifying
        # them; the restarted board commits the complete transfer it kept
        deploy_through_the_cut(OLD, "9.2", cut_when("ack", "complete", True))
        assert board.bridge.counters.reconnects >= 4


def _retained_status(broker: str, device: str, boots: int) -> dict[str, Any]:
    """The device's status once it reports ``boots`` start-ups."""
    got: queue.Queue[dict[str, Any]] = queue.Queue()
    conn = Connection(
        broker,
        [(device_topic(device, "status"), QOS_CONTROL)],
        lambda _t, p: got.put(json.loads(p)),
        name="status",
    )
    conn.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            status = got.get(timeout=max(0.1, deadline - time.monotonic()))
            if status.get("boots") == boots:
                return status
    finally:
        conn.stop()
    raise AssertionError(f"no status with boots {boots}")


def test_signed_rollback_returns_the_board_to_its_previous_model(
    boards: Boards, registry: Registry
) -> None:
    (device,) = boards.start("rollback")
    board = boards.board(device)
    old_sha = host_output_sha256((KG_DATA / "models" / f"{OLD}.tflite").read_bytes())
    new_sha = host_output_sha256((KG_DATA / "models" / f"{NEW}.tflite").read_bytes())
    with boards.deployer() as dep:
        # nothing committed before: refused, nothing runs
        assert dep.rollback([device]) == []
        _committed(dep.deploy(OLD, [device]), 1)
        _committed(dep.deploy(NEW, [device]), 1)
        # a digest that is not the previous image's: refused, the model kept
        (refused,) = dep.rollback([device], sha256="5a" * 32)
        assert refused.outcome == "rolled_back" and refused.model == NEW, refused
        assert "the previous image is" in (refused.reason or ""), refused.reason
        (back,) = dep.rollback([device])
        assert back.outcome == "committed" and back.reason == "rollback", back
        assert back.model == OLD and back.load_ms and back.inference_ms, back
        answer = dep.infer(device, timeout=20.0)
        assert answer["model"] == OLD and answer["output_sha256"] == old_sha, answer
        # the graph says what the board runs
        latest = max(registry.list_deployments(device=device), key=lambda r: r.ended)
        assert latest.model == OLD and latest.outcome == "committed", latest
        # the rollback survives a power cut: the board boots the model it returned to
        _power_cycle(board)
        status = _retained_status(boards.broker.url, device, boots=2)
        assert status["model"] == OLD, status
        assert dep.infer(device, timeout=20.0)["output_sha256"] == old_sha
        # a second rollback goes forward again
        (forward,) = dep.rollback([device])
        assert forward.outcome == "committed" and forward.model == NEW, forward
        assert dep.infer(device, timeout=20.0)["output_sha256"] == new_sha


def test_tampered_chunk_and_foreign_key_are_refused_on_the_device(
    boards: Boards, registry: Registry
) -> None:
    (device,) = boards.start("refuse")
    with boards.deployer() as dep:
        _committed(dep.deploy(OLD, [device]), 1)
    # a chunk whose data and CRC were both replaced: every frame check passes, the image
    # digest does not; the device refuses it at verify and keeps its model
    with boards.deployer(timeout=20.0) as dep:

        def tamper(target: str, index: int, frame: bytes) -> bytes:
            if index != 2:
                return frame
            data = bytes(b ^ 0x5A for b in frame[28:])
            return frame[:24] + zlib.crc32(data).to_bytes(4, "big") + data

        dep.chunk_filter = tamper
        (tampered,) = dep.deploy(NEW, [device])
        assert tampered.outcome == "rolled_back", tampered
        assert "SHA-256" in (tampered.reason or ""), tampered.reason
        assert dep.infer(device, timeout=20.0)["model"] == OLD
    stranger = Deployer(registry, boards.broker.url, key=generate_key(), agent="x", timeout=20.0)
    with stranger:
        (foreign,) = stranger.deploy(NEW, [device])
    assert foreign.outcome == "rolled_back" and "signature" in (foreign.reason or "")
    with boards.deployer() as dep:
        assert dep.infer(device, timeout=20.0)["model"] == OLD


def _device_run(td: Path, broker: str, public: Path, state: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "tinyreg.registry.cli", "device", "run",
            "--target", TARGET, "--td", str(td), "--broker", broker,
            "--public-key", str(public), "--state-dir", str(state),
        ],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO,
    )  # fmt: skip
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line.strip())
        if line.startswith("ready:"):
            return proc
    raise AssertionError(f"device run ended before it was ready: {lines}")


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(20)


def test_device_run_target_command_keeps_the_flash_across_restarts(
    registry: Registry, broker: Mosquitto, key: Any, tmp_path: Path
) -> None:
    td = _td("cli")
    td_file = tmp_path / "board.td.jsonld"
    td_file.write_text(json.dumps(td))
    device = registry.add_device(td).id
    public = tmp_path / "registry.pub.pem"
    state = tmp_path / "boards"
    with Deployer(registry, broker.url, key=key, agent="tester", timeout=20.0) as dep:
        dep.write_public_key(public)
        proc = _device_run(td_file, broker.url, public, state)
        try:
            _committed(dep.deploy(NEW, [device]), 1)
        finally:
            _stop(proc)
        assert list(state.glob("*/flash.img"))
        proc = _device_run(td_file, broker.url, public, state)
        try:  # the restarted board boots the model it committed before
            answer = dep.infer(device, timeout=20.0)
        finally:
            _stop(proc)
    assert answer["model"] == NEW, answer


def _with_tanh(data: bytes) -> bytes:
    """The model with its FULLY_CONNECTED operator code replaced by TANH, which the firmware
    does not register."""
    import flatbuffers
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

    model = fb.ModelT.InitFromObj(fb.Model.GetRootAsModel(data, 0))
    old, new = fb.BuiltinOperator.FULLY_CONNECTED, fb.BuiltinOperator.TANH
    for code in model.operatorCodes:
        if max(code.builtinCode, code.deprecatedBuiltinCode) == old:
            code.builtinCode = new
            code.deprecatedBuiltinCode = min(new, 127)
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _send_signed_image(
    broker: str, device: str, key: Any, image: bytes, seq: int, version: str, arena: int = 8192
) -> dict[str, Any]:
    """Send ``image`` with a manifest signed by ``key`` and return the device's verdict."""
    chunk = 1024
    chunks = -(-len(image) // chunk)
    manifest = Manifest(
        "bad-image", version, len(image), hashlib.sha256(image).hexdigest(), arena,
        "tflite-micro", "", chunk, chunks, f"bad-{seq % 10**6}", window=32, device=device,
        seq=seq,
    )  # fmt: skip
    answers: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
    conn = Connection(
        broker,
        [(device_topic(device, "result"), QOS_CONTROL), (device_topic(device, "ack"), 1)],
        lambda t, p: answers.put((t.rsplit("/", 1)[1], json.loads(p))),
        name="bad-image",
    )
    conn.start()
    try:
        conn.publish(device_topic(device, "manifest"), sign_manifest(manifest, key), QOS_CONTROL)
        leaf, first = answers.get(timeout=20)
        if leaf == "result":  # refused at once
            return first
        for index in range(chunks):
            data = image[index * chunk : (index + 1) * chunk]
            conn.publish(
                device_topic(device, "chunk"), pack_chunk(manifest.transfer, index, data), 0
            )
        while True:
            leaf, answer = answers.get(timeout=30)
            if leaf == "result":
                return answer
    finally:
        conn.stop()


def test_images_the_firmware_cannot_run_are_refused_with_the_reason(boards: Boards) -> None:
    (device,) = boards.start("bad-image")
    with boards.deployer() as dep:
        _committed(dep.deploy(OLD, [device]), 1)
    good = (KG_DATA / "models" / "vibration-ae-int8.tflite").read_bytes()
    seq = int(time.time() * 1e6) + 10**9  # above what the deployer has handed out
    cases = [
        (_with_tanh(good), "load", "operator TANH (builtin code 28) is not registered"),
        (b"\xff\xff\xff\x7f" + good[4:], "load", "the flatbuffers verifier refuses it"),
        (bytes(64), "load", "the flatbuffers verifier refuses it"),
    ]
    for i, (image, stage, reason) in enumerate(cases):
        verdict = _send_signed_image(
            boards.broker.url, device, boards.key, image, seq + i, f"1.{i}"
        )
        assert verdict["outcome"] == "rolled_back", verdict
        assert verdict["stage"] == stage and reason in verdict["reason"], verdict
        assert verdict["running"] == OLD, verdict
    with boards.deployer() as dep:  # the previous model still runs (after one replay round)
        answer = dep.infer(device, timeout=20.0)
    assert answer["model"] == OLD
    expected = host_output_sha256((KG_DATA / "models" / f"{OLD}.tflite").read_bytes())
    assert answer["output_sha256"] == expected


def test_the_tds_ram_and_flash_are_enforced_on_the_device(boards: Boards) -> None:
    # RAM left for the arena: 64,000 - 50,000 reserved - 3,492 runtime = 10,508 B
    (device,) = boards.start("small", ram={"capacityBytes": 64_000, "reservedBytes": 50_000})
    with boards.deployer() as dep:
        _committed(dep.deploy(OLD, [device]), 1)  # arena 4,848 B (host), 3,816 B on the M4F
        (forced,) = dep.deploy(NEW, [device], force=True)  # the registry measured 11,888 B
    assert forced.outcome == "rolled_back" and "arena of 11,888 B" in (forced.reason or "")
    seq = int(time.time() * 1e6) + 10**9
    kws = (KG_DATA / "models" / f"{NEW}.tflite").read_bytes()
    # a manifest that understates the arena: TFLM gets the TD's budget, not the manifest's
    verdict = _send_signed_image(boards.broker.url, device, boards.key, kws, seq, "1.0", 4000)
    assert verdict["stage"] == "load" and "arena over budget" in verdict["reason"], verdict
    # an image larger than the TD's flash slot ((1,048,576 - 188,416) / 2 = 430,080 B)
    verdict = _send_signed_image(
        boards.broker.url, device, boards.key, bytes(500_000), seq + 1, "1.1"
    )
    assert verdict["stage"] == "fit", verdict
    assert "500,000 B does not fit the flash slot of 430,080 B" in verdict["reason"], verdict
    with boards.deployer() as dep:
        assert dep.infer(device, timeout=20.0)["model"] == OLD
