"""A virtual microcontroller: the device side of the over-the-air protocol.

A :class:`VirtualDevice` takes its limits from the device's W3C WoT Thing Description
(RAM and flash with what the application reserves, the runtime and, when the firmware
registers a fixed set, its operators) and enforces them. Models run on the real TFLite
Micro interpreter (``tflite_micro.runtime.Interpreter``).

Storage is a directory per device, so that a power loss (the process killed at any
moment) is real:

* ``slot-a.bin`` and ``slot-b.bin``: two flash slots; a transfer only ever writes the slot
  that is not active.
* ``state.json``: the committed state (active slot, model, version, digest, arena, the
  signed manifest; the previous committed image; the last accepted sequence number; the
  trusted key), replaced atomically (write, ``fsync``, ``rename``). Committing an update
  is that one rename; accepting a manifest or a state-changing command writes it too,
  with the new sequence number, before the device acts on the message.
* ``transfer.json`` and ``transfer.log``: an unfinished transfer, so that a restarted
  device resumes it: the signed manifest and target slot (written durably before the
  state that accepts its sequence number), then one line
  ``<index> <CRC-32>`` per chunk written, appended together before each acknowledgement
  (every chunk acknowledged is logged; chunks written since the last acknowledgement are
  fetched again after a power loss; the file is made at full size and mapped, its unused
  end NUL bytes). On restart every logged chunk is
  read back and checked against its CRC, so a chunk torn by the power loss is fetched
  again.

The device is transport-agnostic: it is given a ``publish(leaf, payload, qos, retain)``
function and is fed messages with :meth:`VirtualDevice.handle`; the fleet
(:mod:`tinyreg.firmware.fleet`) connects it to an MQTT broker. No message stops it: every
handler catches its errors, logs and counts them (``rejected_messages`` in the status) and
answers on ``result`` where the topic has an answer.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import mmap
import os
import statistics
import tempfile
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from tinyreg.core.arena import RUNTIME_LOCK, runtime_reason, stderr_to
from tinyreg.core.errors import DeviceRefusedError, InputError, TinyregError
from tinyreg.core.protocol import (
    PERSISTED_OPS,
    PROTOCOL_VERSION,
    QOS_CONTROL,
    Command,
    Manifest,
    key_id,
    parse_chunk,
    peek,
    transfer_field,
    verify_command,
    verify_manifest,
    version_key,
)
from tinyreg.core.tflite import ModelInfo, parse_tflite

__all__ = [
    "Check",
    "DeviceLimits",
    "DeviceStatus",
    "Publish",
    "VirtualDevice",
    "check_image",
]

Publish = Callable[[str, bytes, int, bool], None]
"""Send a message on one of the device's topics: (leaf, payload, QoS, retain)."""

Check = Callable[[Path, int, str, int, int, str], tuple[float, float]]
"""Load and self-test an image elsewhere: (slot file, size, SHA-256, arena, self-test runs,
device id) -> (load ms, median inference ms); raises :class:`DeviceRefusedError` with the
stage and reason when the image fails. The fleet's checker runs :func:`check_image` in a
worker process."""

log = logging.getLogger(__name__)

SELF_TEST_RUNS = 3
#: The reason of a verdict sent again, in answer to a ``sync`` naming the transfer of the
#: committed image (its first sending may have been cut off by a reset).
VERDICT_AGAIN = "committed before; the verdict again, in answer to a sync"
#: The reason of a verdict for a commit that a reset interrupted and the next boot finished.
COMMITTED_AT_BOOT = "committed at the boot after a reset during the commit"
_LOG_LINE_MAX = 22  # "<index> <CRC-32>\n" with two 32-bit numbers


@dataclass(frozen=True)
class DeviceLimits:
    """What the virtual microcontroller enforces.

    Attributes:
        device: The device id (the TD's ``id``).
        ram_bytes: RAM capacity.
        ram_reserved: RAM the application takes.
        flash_bytes: Flash capacity.
        flash_reserved: Flash the application takes.
        runtime: The installed runtime's name.
        runtime_version: Its version.
        operators: Operator types the firmware registers; empty when it registers all.
        runtime_ram_overhead: RAM the runtime takes outside the arena.
        slot_bytes: Size of each of the two model slots (half the free flash by default).

    """

    device: str
    ram_bytes: int
    ram_reserved: int
    flash_bytes: int
    flash_reserved: int
    runtime: str
    runtime_version: str
    operators: tuple[str, ...]
    runtime_ram_overhead: int
    slot_bytes: int

    @property
    def arena_budget(self) -> int:
        """The largest tensor arena the device can allocate."""
        return self.ram_bytes - self.ram_reserved - self.runtime_ram_overhead


@dataclass
class DeviceStatus:
    """What a device reports on its ``status`` topic (retained).

    Attributes:
        device: The device id.
        state: ``idle``, ``receiving``, ``loading`` or ``error``.
        model: The running model's id, or ``None``.
        version: Its version.
        sha256: Its digest.
        arena_used_bytes: The arena allocated for it.
        load_ms: How long loading it took.
        inference_ms: Its median self-test inference time.
        last_error: Why the latest update did not commit, if it did not.
        boots: Start-ups.
        seq: The last sequence number accepted and persisted.
        key_id: The trusted key's id (:func:`~tinyreg.core.protocol.key_id`).
        rejected_messages: Messages refused as malformed, unsigned, replayed or for another
            device since start-up.
        protocol: The protocol version.

    """

    device: str
    state: str = "idle"
    model: str | None = None
    version: str | None = None
    sha256: str | None = None
    arena_used_bytes: int | None = None
    load_ms: float | None = None
    inference_ms: float | None = None
    last_error: str | None = None
    boots: int = 0
    seq: int = 0
    key_id: str | None = None
    rejected_messages: int = 0
    protocol: int = PROTOCOL_VERSION


@dataclass
class _Transfer:
    manifest: Manifest
    message: bytes  # the signed manifest, as received
    slot: str
    crcs: dict[int, int] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    since_ack: int = 0
    finishing: bool = False
    fd: int | None = None  # the spare slot, open while chunks arrive
    # the spare slot mapped in memory: a chunk is one copy, without a system call
    image: mmap.mmap | None = None
    log: mmap.mmap | None = None  # the chunk log, mapped for appending
    log_end: int = 0  # where the next log line goes
    unlogged: list[str] = field(default_factory=list)  # log lines not yet written
    # derived from the manifest once, for the per-chunk path
    tid: bytes = b""  # the transfer id as chunk frames carry it
    bits: bytearray = field(default_factory=bytearray)  # the acknowledgement bitmap
    last_length: int = 0  # length of the last chunk (the others are chunk_size)
    window: int = 1

    def __post_init__(self) -> None:
        m = self.manifest
        self.tid = transfer_field(m.transfer)
        self.bits = bytearray((m.chunks + 7) // 8)
        self.last_length = m.size - (m.chunks - 1) * m.chunk_size if m.chunks else 0
        self.window = max(1, m.window)

    def renew(self, manifest: Manifest, message: bytes) -> None:
        """Go on under a newer signed manifest of the same transfer (a resume)."""
        self.manifest, self.message = manifest, message
        self.window = max(1, manifest.window)

    def hold(self, index: int, crc: int) -> None:
        """Record a chunk as held (bitmap and CRC)."""
        self.crcs[index] = crc
        self.bits[index >> 3] |= 1 << (index & 7)

    def open_image(self, path: Path) -> mmap.mmap:
        """Map the spare slot (``manifest.size`` bytes) for writing chunks."""
        size = self.manifest.size
        self.fd = os.open(path, os.O_RDWR)
        if os.fstat(self.fd).st_size < size:
            os.ftruncate(self.fd, size)
        self.image = mmap.mmap(self.fd, size)
        return self.image

    def close(self) -> None:
        """Unmap and close the slot file, close the chunk log.

        The written pages stay in the page cache (a killed process loses none of them);
        the commit ``fsync``s the slot before the state names it.
        """
        for mapping in (self.image, self.log):
            if mapping is not None:
                mapping.close()
        self.image = self.log = None
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


class _Loaded:
    """A model built on the TFLite Micro interpreter."""

    def __init__(self, interpreter: Any, inputs: list[dict[str, Any]], n_outputs: int) -> None:
        self.interpreter = interpreter
        self.inputs = inputs
        self.n_outputs = n_outputs

    def invoke(self) -> tuple[float, list[list[float]]]:
        """Run one inference on zero inputs; returns milliseconds and the outputs."""
        for index, details in enumerate(self.inputs):
            self.interpreter.set_input(np.zeros(details["shape"], dtype=details["dtype"]), index)
        start = time.perf_counter()
        self.interpreter.invoke()
        elapsed = (time.perf_counter() - start) * 1000
        outputs = [
            np.asarray(self.interpreter.get_output(i)).astype(float).ravel()[:16].tolist()
            for i in range(min(self.n_outputs, 8))
        ]
        return elapsed, outputs

    def run(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        """Run one inference on real input ``x`` (float); returns milliseconds and the output.

        A quantised input tensor gets ``x`` quantised with its scale and zero point, and a
        quantised output is dequantised, so the caller sees floats either way.
        """
        details = self.inputs[0]
        value = np.asarray(x, dtype=np.float32).reshape(details["shape"])
        if np.issubdtype(details["dtype"], np.integer):
            q = details["quantization_parameters"]
            info = np.iinfo(details["dtype"])
            value = np.clip(
                np.round(value / q["scales"][0]) + q["zero_points"][0], info.min, info.max
            ).astype(details["dtype"])
        self.interpreter.set_input(value, 0)
        start = time.perf_counter()
        self.interpreter.invoke()
        elapsed = (time.perf_counter() - start) * 1000
        out = np.asarray(self.interpreter.get_output(0))
        if np.issubdtype(out.dtype, np.integer):
            q = self.interpreter.get_output_details(0)["quantization_parameters"]
            out = (out.astype(np.float32) - q["zero_points"][0]) * q["scales"][0]
        return elapsed, out.astype(np.float32).ravel()


def _details(get: Callable[[int], dict[str, Any]]) -> list[dict[str, Any]]:
    """Details of every input (or output) tensor: asked by index until the runtime refuses."""
    found: list[dict[str, Any]] = []
    while len(found) < 64:
        try:
            found.append(get(len(found)))
        except (IndexError, RuntimeError, ValueError):
            break
    return found


def _resource_variables(data: bytes) -> int:
    """The resource variables an interpreter of the model must hold, as the runtime counts them.

    The runtime counts the distinct shared names of ``VAR_HANDLE`` operators after
    converting the whole model into Python objects, which takes longer than building the
    interpreter itself (about 8 ms for a 500 kB model, holding the interpreter lock of a
    process that serves a fleet). A model without a ``VAR_HANDLE`` operator code has none,
    which its operator codes tell at once; only the others are counted the runtime's way.
    """
    from tflite_micro.python.tflite_micro import runtime
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    model = schema.Model.GetRootAsModel(data, 0)
    codes = {
        runtime.get_builtin_code_from_operator_code(model.OperatorCodes(i))
        for i in range(model.OperatorCodesLength())
    }
    if schema.BuiltinOperator.VAR_HANDLE in codes:
        return int(runtime.count_resource_variables(data))
    return 0


def _interpreter(data: bytes, arena: int) -> Any:
    """A TFLite Micro interpreter of the model in ``arena`` bytes of arena.

    What ``runtime.Interpreter.from_bytes`` builds (same wrapper, same arguments), with the
    resource variables counted by :func:`_resource_variables`.
    """
    from tflite_micro.python.tflite_micro import runtime

    try:
        wrapper = runtime._runtime.InterpreterWrapper
        config = runtime._ENUM_TRANSLATOR[runtime.InterpreterConfig.kAllocationRecording]
    except AttributeError:  # pragma: no cover - another runtime release
        return runtime.Interpreter.from_bytes(data, arena_size=arena)
    interpreter = object.__new__(runtime.Interpreter)
    interpreter._interpreter = wrapper(data, [], arena, _resource_variables(data), config, 0)
    return interpreter


def _write_atomic(path: Path, data: bytes, durable: bool = True) -> None:
    """Replace a file in one rename; ``durable`` also waits until the data is on disk."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            if durable:
                os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class VirtualDevice:
    """One virtual microcontroller.

    Args:
        limits: What it enforces.
        directory: Its storage (created if absent).
        public_key: The registry's raw Ed25519 public key it trusts, until a signed
            ``rotate-key`` replaces it (the state keeps the rotated key, which then wins).
        publish: How it sends messages.
        defer: How it runs the load and self-test off the message thread (called with a
            function of no arguments); ``None`` runs them at once.
        self_test_runs: Inferences of the self-test (their median is the reported latency).
        check: How it loads and self-tests a received image somewhere else (a worker
            process); ``None`` does it in this process. Either way the commit happens here;
            with ``check``, the interpreter that answers ``infer`` is built on first use.
        recovery_key: A second raw public key that only ``rotate-key`` accepts (kept
            offline, it takes a device back after its current key leaked).

    """

    def __init__(
        self,
        limits: DeviceLimits,
        directory: Path,
        public_key: bytes,
        publish: Publish,
        *,
        defer: Callable[[Callable[[], None]], None] | None = None,
        self_test_runs: int = SELF_TEST_RUNS,
        check: Check | None = None,
        recovery_key: bytes | None = None,
    ) -> None:
        self.limits = limits
        self.check = check
        self.directory = directory
        self.public_key = public_key
        self.recovery_key = recovery_key
        self.publish = publish
        self.defer = defer
        self.self_test_runs = max(1, self_test_runs)
        self.status = DeviceStatus(limits.device, key_id=key_id(public_key))
        self._lock = threading.RLock()
        self._loaded: _Loaded | None = None
        self._committed: dict[str, Any] | None = None
        self._previous: dict[str, Any] | None = None  # the image a rollback returns to
        self._rotated = False  # whether the trusted key came from a rotate-key
        self._persisted_seq = 0  # the last accepted sequence number, as stored
        self._last_seq = 0  # the last accepted one, read-only commands included
        self._reverting = False  # a rollback is loading the previous image
        self._transfer: _Transfer | None = None
        directory.mkdir(parents=True, exist_ok=True)

    # ------------------------------------------------------------------ storage

    @property
    def _state_path(self) -> Path:
        return self.directory / "state.json"

    @property
    def _transfer_path(self) -> Path:
        return self.directory / "transfer.json"

    def _slot_path(self, slot: str) -> Path:
        return self.directory / f"slot-{slot}.bin"

    def _spare(self) -> str:
        active = self._committed["slot"] if self._committed else None
        return "b" if active == "a" else "a"

    def _read_state(self) -> None:
        if not self._state_path.is_file():
            return
        data = json.loads(self._state_path.read_text())
        if "slot" in data:  # a version 1 state: the committed image only
            data = {"committed": data}
        self._committed = data.get("committed")
        self._previous = data.get("previous")
        self._persisted_seq = self._last_seq = int(data.get("seq") or 0)
        if data.get("key"):
            self.public_key = bytes.fromhex(data["key"])
            self._rotated = True
        self.status.seq = self._persisted_seq
        self.status.key_id = key_id(self.public_key)

    def _write_state(self) -> None:
        """Replace ``state.json`` (durable, atomic): images, sequence number, key."""
        state = {
            "committed": self._committed,
            "previous": self._previous,
            "seq": self._persisted_seq,
            "key": self.public_key.hex() if self._rotated else None,
        }
        _write_atomic(self._state_path, json.dumps(state).encode())

    def _persist_seq(self, seq: int) -> None:
        """Accept ``seq`` for good: written with the state before the message takes effect."""
        self._persisted_seq = self._last_seq = seq
        self._write_state()
        self.status.seq = seq

    def boot(self) -> None:
        """Start up: load the committed model (if any) and the unfinished transfer.

        A committed image that no longer matches its digest is not run (the device
        reports the error and runs no model).
        """
        with self._lock:
            self._count_boot()
            self._read_state()
            if self._committed:
                c = self._committed
                try:
                    data = self._slot_path(c["slot"]).read_bytes()[: c["size"]]
                    if hashlib.sha256(data).hexdigest() != c["sha256"]:
                        raise DeviceRefusedError(self.limits.device, "boot", "active slot corrupt")
                    loaded, load_ms, inference_ms = self._load(data, c["arena_bytes"])
                except TinyregError as exc:
                    self.status.last_error = exc.message
                    self._committed = None
                else:
                    self._loaded = loaded
                    self._set_running(c, load_ms, inference_ms)
            self._resume_transfer()
            t = self._transfer
            if t is not None and len(t.crcs) == t.manifest.chunks:
                # every chunk was held when the power went, the commit was not done: do it now
                self._finish(COMMITTED_AT_BOOT)
            self._publish_status()  # its boot count tells a deployer still waiting to ask again

    def _count_boot(self) -> None:
        """Count a start-up in ``boots`` (a file of its own, not the commit record).

        The count tells a deployer that the device restarted (PROTOCOL.md); it is written
        without ``fsync``: a count lost with the power only delays the deployer's question.
        """
        path = self.directory / "boots"
        try:
            stored = int(path.read_text().strip() or 0)
        except (OSError, ValueError):
            stored = 0
        self.status.boots = max(self.status.boots, stored) + 1
        with contextlib.suppress(OSError):
            _write_atomic(path, f"{self.status.boots}\n".encode(), durable=False)

    def _resume_transfer(self) -> None:
        if not self._transfer_path.is_file():
            return
        try:
            saved = json.loads(self._transfer_path.read_text())
            message = base64.b64decode(saved["message"])
            manifest = verify_manifest(message, self.public_key)
        except (InputError, ValueError, KeyError, TypeError):
            self._drop_transfer()
            return
        slot = self._spare()
        # a manifest whose sequence number the state does not hold was never accepted (the
        # power went between the two writes): the deployer's resent manifest is taken anew
        accepted = manifest.seq <= self._persisted_seq
        if saved.get("slot") != slot or manifest.device != self.limits.device or not accepted:
            self._drop_transfer()
            return
        logged: dict[int, int] = {}
        if self._log_path.is_file():
            for line in self._log_path.read_text(errors="replace").splitlines():
                parts = line.split()
                if len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit():
                    logged[int(parts[0])] = int(parts[1])  # a torn last line is skipped
        transfer = _Transfer(manifest, message, slot)
        path = self._slot_path(slot)
        if path.is_file():
            with path.open("rb") as image:
                for index, crc in sorted(logged.items()):
                    if index >= manifest.chunks:
                        continue
                    image.seek(index * manifest.chunk_size)
                    data = image.read(self._chunk_length(manifest, index))
                    if zlib.crc32(data) == crc:  # a chunk torn by the power loss is dropped
                        transfer.hold(index, crc)
        self._open_log(transfer)  # written again: the chunks that survived
        self._transfer = transfer

    @property
    def _log_path(self) -> Path:
        return self.directory / "transfer.log"

    def _write_transfer_record(self, t: _Transfer) -> None:
        """The unfinished transfer's signed manifest and slot, durably (before its seq)."""
        data = {"message": base64.b64encode(t.message).decode(), "slot": t.slot}
        _write_atomic(self._transfer_path, json.dumps(data).encode())

    def _start_record(self, t: _Transfer) -> None:
        """Record a new transfer: its manifest (once), and an empty chunk log."""
        self._write_transfer_record(t)
        self._open_log(t)

    def _open_log(self, t: _Transfer) -> None:
        """Create the chunk log, listing the chunks ``t`` holds, and map it for appending.

        The file is made as large as the longest log can be (one line per chunk) and
        mapped, so that appending is a copy into memory, not a system call that can wait
        behind another device's ``fsync``. The unused tail holds NUL bytes, which no log
        line accepts.
        """
        capacity = max(1, t.manifest.chunks) * _LOG_LINE_MAX
        fd = os.open(self._log_path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.ftruncate(fd, capacity)
            t.log = mmap.mmap(fd, capacity)
        finally:
            os.close(fd)
        t.log_end = 0
        t.unlogged = [f"{index} {crc}\n" for index, crc in sorted(t.crcs.items())]
        self._flush_log(t)

    def _flush_log(self, t: _Transfer) -> None:
        """Append the chunks written since the last flush to the log, in one copy.

        Called before every acknowledgement, so that a chunk the deployer is told about
        is in the log; a power loss in between costs only the chunks since then, which
        the resumed transfer fetches again.
        """
        if not t.unlogged or t.log is None:
            return
        lines = "".join(t.unlogged).encode()
        end = t.log_end + len(lines)
        t.log[t.log_end : end] = lines
        t.log_end = end
        t.unlogged.clear()

    def _drop_transfer(self) -> None:
        """Forget the unfinished transfer, on disk too."""
        if self._transfer is not None:
            self._transfer.close()
        self._transfer = None
        self._transfer_path.unlink(missing_ok=True)
        self._log_path.unlink(missing_ok=True)

    @staticmethod
    def _chunk_length(manifest: Manifest, index: int) -> int:
        return min(manifest.chunk_size, manifest.size - index * manifest.chunk_size)

    # ------------------------------------------------------------------ messages

    def handle(self, leaf: str, payload: bytes) -> None:
        """Handle one message received on the device's topic ``leaf``; never raises."""
        if leaf == "manifest":
            self.on_manifest(payload)
        elif leaf == "chunk":
            self.on_chunk(payload)
        elif leaf == "cmd":
            self.on_command(payload)

    def _send(self, leaf: str, body: dict[str, Any], retain: bool = False) -> None:
        self.publish(leaf, json.dumps(body, separators=(",", ":")).encode(), QOS_CONTROL, retain)

    def _publish_status(self) -> None:
        self._send("status", asdict(self.status), retain=True)

    def _ack(self, complete: bool = False, sync: bool = False) -> None:
        t = self._transfer
        if t is None:
            return
        t.since_ack = 0
        self._flush_log(t)
        body = {
            "transfer": t.manifest.transfer,
            "have": base64.b64encode(t.bits).decode(),
            "count": len(t.crcs),
            "complete": complete,
            "sync": sync,
        }
        self._send("ack", body)

    def _result(
        self,
        manifest: Manifest,
        outcome: str,
        stage: str,
        reason: str | None,
        **figures: Any,
    ) -> None:
        body = {
            "seq": manifest.seq,
            "transfer": manifest.transfer,
            "model": manifest.model,
            "version": manifest.version,
            "outcome": outcome,
            "stage": stage,
            "reason": reason,
            "running": self.status.model,
            "running_version": self.status.version,
            **figures,
        }
        self._send("result", body)

    def _refuse(
        self,
        manifest: Manifest | None,
        transfer: str,
        stage: str,
        reason: str,
        seq: int | None = None,
        **extra: Any,
    ) -> None:
        self.status.last_error = f"{stage}: {reason}"
        self.status.state = "loading" if self._reverting else "idle"
        body = {
            "seq": manifest.seq if manifest else seq,
            "transfer": manifest.transfer if manifest else transfer,
            "model": manifest.model if manifest else None,
            "version": manifest.version if manifest else None,
            "outcome": "rolled_back",
            "stage": stage,
            "reason": reason,
            "running": self.status.model,
            "running_version": self.status.version,
            **extra,
        }
        self._send("result", body)
        self._publish_status()

    def _count_rejected(self, leaf: str, reason: str, quiet: bool = False) -> None:
        self.status.rejected_messages += 1
        (log.debug if quiet else log.warning)(
            "%s: %s refused: %s", self.limits.device, leaf, reason
        )

    def _fault(self, leaf: str, payload: bytes, exc: Exception) -> None:
        """A handler failed on a message: log, count and answer; the device goes on."""
        log.exception("%s: error handling a %s message", self.limits.device, leaf)
        reason = f"the message could not be handled ({type(exc).__name__})"
        with self._lock:
            self.status.rejected_messages += 1
            claimed = peek(payload)
            if leaf == "manifest":
                self._refuse(
                    None, claimed.get("transfer", ""), "manifest", reason, claimed.get("seq")
                )
            elif leaf == "cmd":
                self._answer(claimed.get("seq"), claimed.get("op"), "refused", "command", reason)

    def _binding(self, device: str, seq: int) -> tuple[str, dict[str, Any]] | None:
        """Why a signed message is not for this device now (another device, a replay)."""
        if device != self.limits.device:
            return f"the message is for another device ({device})", {}
        if seq <= self._last_seq:
            return (
                f"sequence number {seq} is not greater than the last accepted "
                f"{self._last_seq} (a replay)",
                {"last_seq": self._last_seq},
            )
        return None

    def on_manifest(self, payload: bytes) -> None:
        """A signed manifest: check it, then start (or resume) the transfer; never raises."""
        try:
            self._on_manifest(payload)
        except Exception as exc:  # no message may stop the device
            self._fault("manifest", payload, exc)

    def _on_manifest(self, payload: bytes) -> None:
        with self._lock:
            t = self._transfer
            if t is not None and payload == t.message:  # a resend (or a QoS 1 duplicate)
                if not t.finishing:
                    self._ack()
                return
            claimed = peek(payload)
            try:
                manifest = verify_manifest(payload, self.public_key)
            except InputError as exc:
                self._count_rejected("manifest", exc.message)
                self._refuse(
                    None, claimed.get("transfer", ""), "manifest", exc.message, claimed.get("seq")
                )
                return
            binding = self._binding(manifest.device, manifest.seq)
            if binding is not None:
                self._count_rejected("manifest", binding[0])
                self._refuse(manifest, manifest.transfer, "manifest", binding[0], **binding[1])
                return
            problem = self._check_manifest(manifest)
            if problem is not None:
                self._refuse(manifest, manifest.transfer, problem[0], problem[1])
                return
            if t is not None and t.finishing and t.manifest.same_transfer(manifest):
                return  # a newer manifest of the transfer being loaded: its verdict follows
            if (t is not None and t.finishing) or self._reverting:
                self._result(manifest, "rolled_back", "manifest", "busy: an image is loading")
                return
            if t is not None and t.manifest.same_transfer(manifest):
                t.renew(manifest, payload)  # resume, under the newer signed manifest
                self._write_transfer_record(t)
                self._persist_seq(manifest.seq)
                self._ack()
                return
            if t is not None:
                t.close()  # a different image replaces the unfinished one
            slot = self._spare()
            self._transfer = _Transfer(manifest, payload, slot)
            with self._slot_path(slot).open("wb") as image:
                image.truncate(manifest.size)
            self._start_record(self._transfer)
            self._previous = None  # the spare slot held it: it is being overwritten
            self._persist_seq(manifest.seq)  # accepted: from here on it is not replayable
            self.status.state = "receiving"
            self._ack(complete=manifest.chunks == 0)
            if manifest.chunks == 0:
                self._finish()

    def _check_manifest(self, m: Manifest) -> tuple[str, str] | None:
        lim = self.limits
        if m.runtime != lim.runtime:
            return "fit", f"built for runtime {m.runtime}, the device runs {lim.runtime}"
        if m.size > lim.slot_bytes:
            return "fit", (
                f"model of {m.size:,} B does not fit the flash slot of {lim.slot_bytes:,} B"
            )
        if m.arena_bytes > lim.arena_budget:
            return "fit", (
                f"arena of {m.arena_bytes:,} B does not fit the {lim.arena_budget:,} B of RAM "
                f"left ({lim.ram_bytes:,} − {lim.ram_reserved:,} reserved − "
                f"{lim.runtime_ram_overhead:,} runtime)"
            )
        running = self._committed
        if running and running["model"] == m.model and not m.force:
            new, old = version_key(m.version), version_key(running["version"])
            if new is not None and old is not None and new < old:
                return "manifest", (
                    f"version {m.version} is older than the running {running['version']} "
                    "(a downgrade needs force)"
                )
        return None

    def on_chunk(self, frame: bytes) -> None:
        """A chunk: check its CRC, write it to the spare slot, acknowledge now and then."""
        try:
            self._on_chunk(frame)
        except Exception as exc:  # no message may stop the device
            self._fault("chunk", frame, exc)

    def _on_chunk(self, frame: bytes) -> None:
        with self._lock:
            t = self._transfer
            if t is None or t.finishing:
                return
            try:
                tid, index, crc, data = parse_chunk(frame)
            except InputError as exc:
                # a damaged frame is dropped; the bitmap makes the deployer resend it
                self._count_rejected("chunk", exc.message, quiet=True)
                return
            m = t.manifest
            if tid != t.tid:
                return  # another transfer's (a late one): not malformed
            if index >= m.chunks or len(data) != (
                m.chunk_size if index < m.chunks - 1 else t.last_length
            ):
                self._count_rejected("chunk", f"chunk {index} of a wrong index or length", True)
                return
            if not t.bits[index >> 3] >> (index & 7) & 1:
                image = t.image if t.image is not None else t.open_image(self._slot_path(t.slot))
                start = index * m.chunk_size
                image[start : start + len(data)] = data
                t.hold(index, crc)
                t.unlogged.append(f"{index} {crc}\n")
            t.since_ack += 1
            if len(t.crcs) == m.chunks:
                self._ack(complete=True)
                self._finish()
            elif t.since_ack >= t.window:
                self._ack()

    def on_command(self, payload: bytes) -> None:
        """A signed command: sync, status, infer, abort, rollback or rotate-key.

        Never raises: errors are logged, counted and answered.
        """
        try:
            self._on_command(payload)
        except Exception as exc:  # no message may stop the device
            self._fault("cmd", payload, exc)

    def _answer(
        self,
        seq: int | None,
        op: str | None,
        outcome: str,
        stage: str,
        reason: str | None,
        **extra: Any,
    ) -> None:
        body = {
            "seq": seq,
            "op": op,
            "outcome": outcome,
            "stage": stage,
            "reason": reason,
            "running": self.status.model,
            "running_version": self.status.version,
            **extra,
        }
        self._send("result", body)

    def _on_command(self, payload: bytes) -> None:
        claimed = peek(payload)
        keys = [self.public_key]
        if claimed.get("op") == "rotate-key" and self.recovery_key is not None:
            keys.append(self.recovery_key)
        with self._lock:
            try:
                cmd = verify_command(payload, keys)
            except InputError as exc:
                self._count_rejected("cmd", exc.message)
                self._answer(
                    claimed.get("seq"), claimed.get("op"), "refused", "command", exc.message
                )
                return
            binding = self._binding(cmd.device, cmd.seq)
            if binding is not None:
                self._count_rejected("cmd", binding[0])
                self._answer(cmd.seq, cmd.op, "refused", "command", binding[0], **binding[1])
                return
            if cmd.op == "rotate-key":
                self._rotate_key(cmd)
                return
            if cmd.op in PERSISTED_OPS:
                self._persist_seq(cmd.seq)
            else:
                self._last_seq = cmd.seq  # read-only: not worth a write
            if cmd.op == "sync":
                t = self._transfer
                if t is not None and t.manifest.transfer == cmd.transfer:
                    self._ack(complete=len(t.crcs) == t.manifest.chunks, sync=True)
                elif self._committed_transfer() == cmd.transfer and self.status.model:
                    self._verdict_again()
                else:
                    self._send("ack", {"transfer": cmd.transfer, "unknown": True})
            elif cmd.op == "status":
                self._publish_status()
            elif cmd.op == "abort":
                t = self._transfer
                named = not cmd.transfer or (t is not None and t.manifest.transfer == cmd.transfer)
                if t is not None and named and not t.finishing:
                    self._drop_transfer()
                    self._refuse(t.manifest, t.manifest.transfer, "transfer", "aborted")
                    self._answer(cmd.seq, cmd.op, "done", "command", None)
                else:
                    self._answer(cmd.seq, cmd.op, "done", "command", "no such transfer")
            elif cmd.op == "infer":
                self._infer(cmd.seq)
            elif cmd.op == "rollback":
                self._rollback(cmd)

    def _committed_transfer(self) -> str | None:
        """The transfer that delivered the committed image (``None``: none, or unknown)."""
        c = self._committed
        if not c:
            return None
        if "transfer" not in c:  # committed by an older release: read its stored manifest
            with contextlib.suppress(ValueError, TypeError):
                c["transfer"] = peek(base64.b64decode(c.get("message") or "")).get("transfer")
                c["seq"] = peek(base64.b64decode(c.get("message") or "")).get("seq")
        transfer = c.get("transfer")
        return transfer if isinstance(transfer, str) and transfer else None

    def _verdict_again(self) -> None:
        """The committed image's verdict once more (its first sending may have been lost)."""
        c = self._committed
        assert c is not None
        s = self.status
        body = {
            "seq": c.get("seq"),
            "transfer": c.get("transfer"),
            "model": c["model"],
            "version": c["version"],
            "outcome": "committed",
            "stage": "commit",
            "reason": VERDICT_AGAIN,
            "running": s.model,
            "running_version": s.version,
            "load_ms": s.load_ms,
            "inference_ms": s.inference_ms,
            "arena_used_bytes": s.arena_used_bytes,
        }
        self._send("result", body)

    def _rotate_key(self, cmd: Command) -> None:
        new = bytes(cmd.argument)
        try:
            if not any(new):
                raise ValueError("all zero")
            Ed25519PublicKey.from_public_bytes(new)
        except ValueError as exc:
            self._persist_seq(cmd.seq)
            self._count_rejected("cmd", f"rotate-key to an invalid key: {exc}")
            self._answer(cmd.seq, cmd.op, "refused", "command", "the new key is not an Ed25519 key")
            return
        old = key_id(self.public_key)
        self.public_key, self._rotated = new, True
        self._persist_seq(cmd.seq)  # the key and the sequence number in one write
        self.status.key_id = key_id(new)
        log.info("%s: key %s replaced by %s", self.limits.device, old, self.status.key_id)
        self._answer(cmd.seq, cmd.op, "done", "command", None, key_id=self.status.key_id)
        self._publish_status()

    def _infer(self, seq: int) -> None:
        reply: dict[str, Any] = {"seq": seq, "id": seq, "model": self.status.model}
        reply["version"] = self.status.version
        try:
            loaded = self._interpreter_of_committed()
        except DeviceRefusedError as exc:
            loaded, reply["error"] = None, f"the running model does not load: {exc.detail}"
        if loaded is None:
            reply.setdefault("error", "no model running")
        else:
            ms, outputs = loaded.invoke()
            reply.update(latency_ms=round(ms, 4), outputs=outputs)
        self._send("inference", reply)

    # ------------------------------------------------------------------ rollback

    def _rollback(self, cmd: Command) -> None:
        """Return to the previous committed image: checked, loaded, self-tested, committed."""
        prev, t = self._previous, self._transfer
        refusal = None
        if self._reverting or (t is not None and t.finishing):
            refusal = "busy: an image is loading"
        elif prev is None:
            refusal = "no previous image (none committed before, or overwritten by a transfer)"
        elif any(cmd.argument) and cmd.argument.hex() != prev["sha256"]:
            refusal = (
                f"the previous image is {prev['sha256'][:16]}…, not {cmd.argument.hex()[:16]}…"
            )
        if refusal is not None or prev is None:
            self._answer(cmd.seq, cmd.op, "refused", "rollback", refusal)
            return
        if t is not None:  # it writes the slot that holds the previous image
            self._drop_transfer()
            self._refuse(t.manifest, t.manifest.transfer, "transfer", "aborted by a rollback")
        self._reverting = True
        self.status.state = "loading"

        def work() -> None:
            try:
                self._revert(cmd, prev)
            except Exception as exc:  # a rollback that fails changes nothing
                log.exception("%s: rollback failed", self.limits.device)
                with self._lock:
                    self._reverting = False
                    self.status.state = "idle"
                    reason = f"the rollback could not be done ({type(exc).__name__})"
                    self._answer(cmd.seq, cmd.op, "refused", "rollback", reason)

        if self.defer is None:
            work()
        else:
            self.defer(work)

    def _revert(self, cmd: Command, prev: dict[str, Any]) -> None:
        try:
            data = self._slot_path(prev["slot"]).read_bytes()[: prev["size"]]
            if hashlib.sha256(data).hexdigest() != prev["sha256"]:
                raise DeviceRefusedError(
                    self.limits.device, "verify", "the previous image no longer matches its digest"
                )
            loaded, load_ms, inference_ms = self._try_image(
                prev["slot"], data, prev["size"], prev["sha256"], prev["arena_bytes"]
            )
        except DeviceRefusedError as exc:
            with self._lock:
                self._reverting = False
                self.status.state = "idle"
                self._answer(cmd.seq, cmd.op, "refused", "rollback", f"{exc.stage}: {exc.detail}")
            return
        with self._lock:
            self._previous, self._committed = self._committed, prev
            self._write_state()  # the commit: one atomic write names the previous slot
            self._loaded = loaded
            self._reverting = False
            self.status.last_error = None
            self._set_running(prev, load_ms, inference_ms)
            figures = {
                "load_ms": round(load_ms, 4),
                "inference_ms": round(inference_ms, 4),
                "arena_used_bytes": prev["arena_bytes"],
            }
            self._answer(
                cmd.seq,
                cmd.op,
                "done",
                "rollback",
                None,
                model=prev["model"],
                version=prev["version"],
                **figures,
            )
            self._publish_status()

    def _try_image(
        self, slot: str, data: bytes, size: int, sha256: str, arena: int
    ) -> tuple[_Loaded | None, float, float]:
        """Operators, load and self-test of an image, here or in a worker process."""
        if self.limits.operators:  # a firmware with a fixed operator set
            self._check_operators(self._parse(data))
        if self.check is None:
            return self._load(data, arena)
        if arena > self.limits.arena_budget:
            raise DeviceRefusedError(
                self.limits.device, "fit", f"arena of {arena:,} B exceeds the RAM budget"
            )
        load_ms, inference_ms = self.check(
            self._slot_path(slot), size, sha256, arena, self.self_test_runs, self.limits.device
        )
        return None, load_ms, inference_ms

    # ------------------------------------------------------------------ verify, load, commit

    def _finish(self, reason: str | None = None) -> None:
        t = self._transfer
        assert t is not None
        self._flush_log(t)
        t.finishing = True  # no more chunks; the files are closed off the message thread
        self.status.state = "loading"
        if self.defer is None:
            self._verify_load_commit(t, reason)
        else:
            self.defer(lambda: self._verify_load_commit(t, reason))

    def _verify_load_commit(self, t: _Transfer, reason: str | None = None) -> None:
        m = t.manifest
        figures: dict[str, Any] = {}
        with self._lock:
            t.close()
        try:
            data = self._slot_path(t.slot).read_bytes()[: m.size]
            digest = hashlib.sha256(data).hexdigest()
            if digest != m.sha256:
                raise DeviceRefusedError(
                    self.limits.device, "verify", f"SHA-256 {digest[:16]}… is not {m.sha256[:16]}…"
                )
            verify_manifest(t.message, self.public_key)  # the stored copy, once more
            figures["verified_s"] = round(time.monotonic() - t.started, 6)
            with self._lock:
                self._send("ack", {"transfer": m.transfer, "verified": True, "count": m.chunks})
            loaded, load_ms, inference_ms = self._try_image(
                t.slot, data, m.size, m.sha256, m.arena_bytes
            )
            figures.update(
                load_ms=round(load_ms, 4),
                inference_ms=round(inference_ms, 4),
                arena_used_bytes=m.arena_bytes,
            )
        except Exception as exc:  # a failure at any stage keeps the previous model
            if isinstance(exc, DeviceRefusedError):
                stage, reason = exc.stage, exc.detail
            elif isinstance(exc, TinyregError):
                stage, reason = "verify", exc.message
            else:
                log.exception("%s: error finishing a transfer", self.limits.device)
                stage, reason = "load", f"{type(exc).__name__}: {exc}"
            with self._lock:
                self._drop_transfer()
                self._refuse(m, m.transfer, stage, reason)
            return
        with self._lock:
            committed = {
                "slot": t.slot,
                "model": m.model,
                "version": m.version,
                "sha256": m.sha256,
                "size": m.size,
                "arena_bytes": m.arena_bytes,
                "message": base64.b64encode(t.message).decode(),
                "transfer": m.transfer,  # a sync naming it gets this verdict again
                "seq": m.seq,
            }
            with self._slot_path(t.slot).open("rb+") as image:
                os.fsync(image.fileno())  # the image is on disk before the state names it
            self._previous, self._committed = self._committed, committed
            self._write_state()  # the commit
            self._loaded = loaded  # None after a worker's check: built on first ``infer``
            self._drop_transfer()
            self.status.last_error = None
            self._set_running(committed, figures["load_ms"], figures["inference_ms"])
            self._result(m, "committed", "commit", reason, **figures)
            self._publish_status()

    def _set_running(self, c: dict[str, Any], load_ms: float, inference_ms: float) -> None:
        self.status = replace(
            self.status,
            state="idle",
            model=c["model"],
            version=c["version"],
            sha256=c["sha256"],
            arena_used_bytes=c["arena_bytes"],
            load_ms=round(load_ms, 4),
            inference_ms=round(inference_ms, 4),
        )

    def _parse(self, data: bytes) -> ModelInfo:
        try:
            return parse_tflite(data, source=self.limits.device)
        except InputError as exc:
            raise DeviceRefusedError(self.limits.device, "load", exc.message) from exc

    def _check_operators(self, info: ModelInfo) -> None:
        if self.limits.operators:
            offered = set(self.limits.operators)
            missing = sorted({c.label for c in info.operator_codes} - offered)
            if missing:
                raise DeviceRefusedError(
                    self.limits.device,
                    "load",
                    f"the firmware does not register {', '.join(missing)}",
                )

    def _load(self, data: bytes, arena: int) -> tuple[_Loaded, float, float]:
        """Build the interpreter in ``arena`` bytes and run the self-test, in this process."""
        device = self.limits.device
        if arena > self.limits.arena_budget:
            raise DeviceRefusedError(device, "fit", f"arena of {arena:,} B exceeds the RAM budget")
        with RUNTIME_LOCK:
            loaded, load_ms = _build(data, arena, device)
        return loaded, load_ms, _self_test(loaded, self.self_test_runs, device)

    def run_model(self, x: np.ndarray) -> dict[str, Any]:
        """Run the running model on a sensed input (the device's application loop).

        Returns:
            ``model``, ``version``, ``sha256`` of the running model, and either ``output``
            (floats) with ``inference_ms``, or ``error`` (no model, or it fails).

        """
        with self._lock:
            reply: dict[str, Any] = {
                "model": self.status.model,
                "version": self.status.version,
                "sha256": self.status.sha256,
            }
            try:
                loaded = self._interpreter_of_committed()
                if loaded is None:
                    reply["error"] = "no model running"
                    return reply
                with RUNTIME_LOCK:
                    ms, output = loaded.run(x)
            except DeviceRefusedError as exc:
                reply["error"] = f"the running model does not load: {exc.detail}"
                return reply
            except Exception as exc:  # an inference that fails is reported, never raised
                reply["error"] = f"inference failed: {exc}"
                return reply
            reply.update(output=output, inference_ms=ms)
            return reply

    def _interpreter_of_committed(self) -> _Loaded | None:
        """The running model's interpreter, built on first use when a worker tested it."""
        c = self._committed
        if self._loaded is None and c is not None:
            data = self._slot_path(c["slot"]).read_bytes()[: c["size"]]
            if hashlib.sha256(data).hexdigest() != c["sha256"]:
                raise DeviceRefusedError(self.limits.device, "load", "active slot corrupt")
            with RUNTIME_LOCK:
                self._loaded, _ = _build(data, c["arena_bytes"], self.limits.device)
        return self._loaded


def _build(data: bytes, arena: int, device: str) -> tuple[_Loaded, float]:
    """Build the interpreter of ``data`` in ``arena`` bytes; returns it and the milliseconds.

    Building prints the runtime's reasons on file descriptor 2, which is redirected to read
    them back; the redirection is process-wide, so a caller sharing its process with other
    threads holds ``RUNTIME_LOCK``.

    Raises:
        DeviceRefusedError: Stage ``load``, with the runtime's reason.

    """
    with tempfile.TemporaryFile() as log:
        try:
            with stderr_to(log.fileno()):
                start = time.perf_counter()
                interpreter = _interpreter(data, arena)
                load_ms = (time.perf_counter() - start) * 1000
                inputs = _details(interpreter.get_input_details)
                n_outputs = len(_details(interpreter.get_output_details))
        except Exception as exc:
            log.seek(0)
            text = log.read().decode("utf-8", errors="replace")
            raise DeviceRefusedError(device, "load", runtime_reason(text, str(exc))) from exc
    return _Loaded(interpreter, inputs, n_outputs), load_ms


def _self_test(loaded: _Loaded, runs: int, device: str) -> float:
    """Run ``runs`` inferences on zero inputs; returns their median milliseconds.

    The runtime keeps Python's interpreter lock while it invokes, so in one process
    inferences run one at a time and nothing else runs meanwhile; the fleet therefore runs
    self-tests in worker processes (:func:`check_image`).

    Raises:
        DeviceRefusedError: Stage ``self-test``, when an inference fails or an output is
            not finite.

    """
    times: list[float] = []
    outputs: list[list[float]] = []
    try:
        for _ in range(max(1, runs)):
            ms, outputs = loaded.invoke()
            times.append(ms)
    except Exception as exc:
        raise DeviceRefusedError(device, "self-test", runtime_reason(str(exc))) from exc
    if not all(np.isfinite(v) for out in outputs for v in out):
        raise DeviceRefusedError(device, "self-test", "the output is not finite")
    return statistics.median(times)


def check_image(
    path: str, size: int, sha256: str, arena: int, runs: int, device: str
) -> tuple[str, Any, Any]:
    """Load and self-test the image in a slot file; what a fleet's worker process runs.

    The slot is read again and checked against ``sha256``, so the bytes tested are the
    bytes the device commits. Only plain values cross the process boundary.

    Args:
        path: The slot file.
        size: The image's size (the slot may be longer).
        sha256: The image's digest.
        arena: The arena to build the interpreter in (already checked against the budget).
        runs: Inferences of the self-test.
        device: The device id, for the reasons.

    Returns:
        ``("ok", load_ms, inference_ms)``, or ``("refused", stage, reason)``.

    """
    try:
        data = Path(path).read_bytes()[:size]
        if hashlib.sha256(data).hexdigest() != sha256:
            return "refused", "verify", "the slot changed after it was verified"
        # a worker runs one task at a time and no other thread writes on descriptor 2
        loaded, load_ms = _build(data, arena, device)
        return "ok", load_ms, _self_test(loaded, runs, device)
    except DeviceRefusedError as exc:
        return "refused", exc.stage, exc.detail
    except OSError as exc:
        return "refused", "load", f"the slot cannot be read: {exc.strerror or exc}"
