"""The deployer: ships a registered model to devices over MQTT, safely, and records it.

For each device the deployer asks the matchmaker first (a pair it rejects is refused
unless forced), signs a manifest with the registry's Ed25519 key, sends the image in
chunks through the broker, retransmits what the device's acknowledgement bitmap lacks,
and waits for the device's verdict: ``committed`` (the device verified, loaded and
self-tested the image and runs it) or ``rolled_back`` (it refused or failed the image at
some stage and still runs its previous model). A device that stops answering is
``failed``; its partial transfer stays on the device and the same deployment run again
resumes it (the transfer id depends only on device, image, version and chunk size).
Every outcome is recorded in the graph as a PROV-O activity
(:mod:`tinyreg.registry.deployments`), as the device's verdict states it. The protocol
(version 2) is in ``firmware/PROTOCOL.md``.

Every manifest and command is signed for one device with a sequence number from a
:class:`SequenceCounter`, which reserves numbers durably beside the store, so that a
restarted deployer never reuses one. Commands have their own API: :meth:`Deployer.infer`,
:meth:`Deployer.rollback` (a signed, explicit revert to the device's previous image, recorded
like a deployment) and :meth:`Deployer.rotate_key` (devices trust a new key, announced under
the current one, and no longer the old one).
"""

from __future__ import annotations

import fcntl
import getpass
import hashlib
import json
import logging
import math
import os
import queue
import threading
import time
import uuid
import zlib
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from rdflib import URIRef

from tinyreg.core.errors import (
    ConfigError,
    DeviceRefusedError,
    DeviceTimeoutError,
    InputError,
    PairRefusedError,
)
from tinyreg.core.mqtt import Connection
from tinyreg.core.namespaces import RUNTIME
from tinyreg.core.protocol import (
    DEFAULT_CHUNK_SIZE,
    MAX_SEQ,
    QOS_CHUNK,
    QOS_CONTROL,
    TOPIC_ROOT,
    Command,
    Manifest,
    decode_bitmap,
    device_topic,
    load_or_create_key,
    pack_chunk,
    public_key_bytes,
    sign_command,
    sign_manifest,
    topic_device,
    transfer_field,
    write_public_key,
)
from tinyreg.core.queries import load_query
from tinyreg.core.stores import default_store_path
from tinyreg.matchmaker import Matchmaker
from tinyreg.registry.catalogue import Catalogue, ModelRecord
from tinyreg.registry.deployments import DeploymentRecord

__all__ = [
    "KEY_ENV",
    "Deployer",
    "Progress",
    "SequenceCounter",
    "sequence_path",
    "signing_key_path",
]

log = logging.getLogger(__name__)

KEY_ENV = "TINYREG_SIGNING_KEY"
KEY_FILE = "signing-key.pem"
#: Windows of chunks the deployer keeps in flight per device: enough that the device's
#: receiving thread always has chunks queued while acknowledgements travel back.
IN_FLIGHT_WINDOWS = 4
SEQUENCE_FILE = "ota-sequence"
#: Sequence numbers reserved per durable write of the counter.
SEQUENCE_BLOCK = 1024
#: The most a device's answer may move the counter forward at once (PROTOCOL.md).
MAX_RESYNC_JUMP = 2**40
#: While waiting for a verdict, a ``sync`` every this many ``ack_wait`` periods of silence (a
#: fallback: a device's new boot count in its status triggers one at once).
VERDICT_SYNC_PERIODS = 5
#: Commands the device answers with their sequence number (on ``result`` or ``inference``).
ANSWERED_OPS = frozenset({"infer", "abort", "rollback", "rotate-key"})


def signing_key_path(registry: Catalogue) -> Path:
    """Where the registry's signing key lives.

    ``$TINYREG_SIGNING_KEY`` if set, else ``signing-key.pem`` in the embedded store's
    directory, else beside the per-user default store.
    """
    if os.environ.get(KEY_ENV):
        return Path(os.environ[KEY_ENV])
    label = Path(registry.store.label)
    if "://" not in registry.store.label and label.is_dir():
        return label / KEY_FILE
    return default_store_path().parent / KEY_FILE


def sequence_path(registry: Catalogue) -> Path:
    """Where the deployer's sequence counter lives.

    ``ota-sequence`` in the embedded store's directory, else beside the per-user default
    store (a remote store may be read-only and is not the deployer's bookkeeping).
    """
    label = Path(registry.store.label)
    if "://" not in registry.store.label and label.is_dir():
        return label / SEQUENCE_FILE
    return default_store_path().parent / SEQUENCE_FILE


class SequenceCounter:
    """Sequence numbers for signed messages, never handed out twice, restarts included.

    One counter serves every device, so it is monotonic for each. Numbers are reserved
    in blocks: under an exclusive lock on ``<path>.lock`` the stored high-water mark ``h``
    is replaced (write, ``fsync``, ``rename``) by ``max(h, now in µs) + block``, and the
    numbers in between are handed out from memory. A crash leaves a gap, which devices do
    not mind; two processes sharing the file get disjoint blocks; a lost file restarts
    from the clock.

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "seq"
    >>> first = SequenceCounter(path).next()
    >>> SequenceCounter(path).next() >= first + SEQUENCE_BLOCK
    True

    Args:
        path: The counter file.
        block: Numbers reserved per write.

    """

    def __init__(self, path: Path, block: int = SEQUENCE_BLOCK) -> None:
        self.path = path
        self.block = max(1, block)
        self._lock = threading.Lock()
        self._next = 0
        self._end = 0

    def next(self) -> int:
        """The next sequence number.

        Raises:
            ConfigError: If the counter file cannot be read or written.

        """
        with self._lock:
            if self._next >= self._end:
                self._reserve(self._next)
            value = self._next
            self._next += 1
            return value

    def advance(self, past: int) -> bool:
        """Go on above ``past`` (a device's last accepted number); ``False`` if refused.

        A jump of more than :data:`MAX_RESYNC_JUMP` is refused: device answers are not
        signed, and a forged one must not exhaust the counter.
        """
        with self._lock:
            if past < self._next:
                return True
            if past - max(self._next, time.time_ns() // 1000) > MAX_RESYNC_JUMP:
                return False
            if past >= MAX_SEQ - self.block:
                return False
            self._reserve(past + 1)
            return True

    def _reserve(self, floor: int) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.with_name(self.path.name + ".lock").open("a") as lock:
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
                try:
                    stored = int(self.path.read_text().strip() or 0)
                except FileNotFoundError:
                    stored = 0
                start = max(stored, floor, time.time_ns() // 1000, 1)
                end = start + self.block
                if end > MAX_SEQ:
                    raise ConfigError(f"{self.path}: the sequence numbers are exhausted")
                tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
                with tmp.open("w") as out:
                    out.write(f"{end}\n")
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(tmp, self.path)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{self.path}: cannot reserve sequence numbers: {exc}") from exc
        self._next, self._end = start, end


def _number(value: Any) -> float | None:
    """A figure from a device's answer, if it is a finite number (else ``None``)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) and abs(value) < 1e15 else None


def _seq_of(value: Any) -> int | None:
    """A sequence number from a device's answer, if it is one."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_SEQ:
        return value
    return None


@dataclass(frozen=True)
class Progress:
    """One step of one device's deployment (for live progress).

    Attributes:
        device: The device id.
        stage: ``refused``, ``manifest``, ``transfer``, ``verified``, ``committed``,
            ``rolled_back`` or ``failed``.
        chunks_done: Chunks the device has acknowledged.
        chunks: Chunks in the image.
        resent: Chunks sent more than once so far.
        detail: The reason, for the final stages that are not ``committed``.

    """

    device: str
    stage: str
    chunks_done: int
    chunks: int
    resent: int
    detail: str | None = None


ProgressFn = Callable[[Progress], None]


@dataclass
class _Outcome:
    outcome: str
    reason: str | None = None
    deploy_ms: float | None = None
    load_ms: float | None = None
    inference_ms: float | None = None
    arena_used_bytes: int | None = None
    resent: int = 0
    started: datetime | None = None
    ended: datetime | None = None


class Deployer:
    """Over-the-air deployments from a registry through an MQTT broker.

    Args:
        registry: The registry (models, devices, and where deployments are recorded).
        broker: The broker URL (``mqtt://host:port``).
        key: The signing key; default: :func:`signing_key_path`, created on first use.
        agent: Who deploys (recorded); default: the user name.
        chunk_size: Bytes per chunk.
        window: The device acknowledges every ``window`` chunks; up to
            :data:`IN_FLIGHT_WINDOWS` windows are in flight.
        parallel: Devices served at the same time.
        timeout: Seconds without progress after which a device counts as not answering.
        ack_wait: Seconds to wait for an acknowledgement before asking for one.
        sequence: The sequence counter; default: :func:`sequence_path` of the registry.

    """

    def __init__(
        self,
        registry: Catalogue,
        broker: str,
        *,
        key: Ed25519PrivateKey | None = None,
        agent: str | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        window: int = 32,
        parallel: int = 8,
        timeout: float = 30.0,
        ack_wait: float = 1.0,
        sequence: SequenceCounter | None = None,
    ) -> None:
        if chunk_size <= 0 or window <= 0 or parallel <= 0:
            raise InputError("chunk size, window and parallel must be positive")
        self.registry = registry
        self.broker = broker
        self.key = key if key is not None else load_or_create_key(signing_key_path(registry))
        self.agent = agent or getpass.getuser()
        self.chunk_size = chunk_size
        self.window = window
        self.parallel = parallel
        self.timeout = timeout
        self.ack_wait = ack_wait
        self.sequence = sequence or SequenceCounter(sequence_path(registry))
        self._inboxes: dict[str, queue.Queue[tuple[str, dict[str, Any]]]] = {}
        # answers to commands, by (device, sequence number)
        self._waiters: dict[tuple[str, int], queue.Queue[tuple[str, dict[str, Any]]]] = {}
        self._lock = threading.Lock()
        #: Device messages ignored as malformed (not JSON objects, fields of wrong types).
        self.rejected_messages = 0
        subs = [(f"{TOPIC_ROOT}/+/{leaf}", QOS_CONTROL) for leaf in ("ack", "result", "inference")]
        self.connection = Connection(broker, subs, self._on_message, name="deployer", fast=True)
        self._started = False
        #: Called with each chunk frame before it is published; may return changed bytes
        #: or ``None`` to drop it (used to inject faults in tests and benchmarks).
        self.chunk_filter: Callable[[str, int, bytes], bytes | None] | None = None

    def write_public_key(self, path: Path) -> None:
        """Write the signing key's public half (PEM) for devices to trust."""
        write_public_key(self.key, path)

    # ------------------------------------------------------------------ connection

    def start(self) -> None:
        """Connect to the broker (done by :meth:`deploy` when needed)."""
        if not self._started:
            self.connection.start()
            self._started = True

    def close(self) -> None:
        """Disconnect."""
        if self._started:
            self.connection.stop()
            self._started = False

    def __enter__(self) -> Deployer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _reject(self, topic: str, reason: str) -> None:
        self.rejected_messages += 1
        log.warning("ignored a message on %s: %s", topic, reason)

    def _on_message(self, topic: str, payload: bytes) -> None:
        try:
            device, leaf = topic_device(topic)
            body = json.loads(payload)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            self._reject(topic, f"not JSON: {type(exc).__name__}")
            return
        if not isinstance(body, dict):
            self._reject(topic, "not a JSON object")
            return
        seq = _seq_of(body.get("seq"))
        with self._lock:
            waiter = self._waiters.get((device, seq)) if seq is not None else None
            inbox = self._inboxes.get(device)
        if waiter is not None and leaf in ("result", "inference"):
            waiter.put((leaf, body))
        elif inbox is not None:
            inbox.put((leaf, body))

    # ------------------------------------------------------------------ deploying

    def model_version(self, model: ModelRecord) -> str:
        """The model's version: its card's, else ``sha256:`` and 12 hex digits."""
        rows = self.registry.store.select(
            load_query("tinyreg.registry", "deployments_model_version"),
            {"model": URIRef(model.iri)},
        )
        if rows:
            return str(rows[0]["version"])
        return f"sha256:{model.sha256[:12]}"

    def check_pair(self, model: str, device: str) -> None:
        """Refuse a pair the matchmaker rejects.

        Raises:
            PairRefusedError: With the failing constraints and their details.

        """
        match = Matchmaker(self.registry).explain(model, device)
        if not match.fits:
            failed = match.verdict.failed
            details = "; ".join(c.detail for c in match.verdict.constraints if not c.passed)
            raise PairRefusedError(model, device, failed, details)

    def deploy(
        self,
        model: str,
        devices: Sequence[str],
        *,
        image: bytes | None = None,
        version: str | None = None,
        force: bool = False,
        progress: ProgressFn | None = None,
        record: bool = True,
    ) -> list[DeploymentRecord]:
        """Deploy one model to devices, ``parallel`` at a time, and record every outcome.

        Args:
            model: The model id, IRI or name.
            devices: Device ids, short ids or titles.
            image: The ``.tflite`` bytes; default: the ones the registry keeps.
            version: The version to announce; default: :meth:`model_version`.
            force: Deploy pairs the matchmaker rejects, and allow downgrades.
            progress: Called with each step of each device.
            record: Record the deployments in the graph.

        Returns:
            One record per device, in the order given.

        Raises:
            NotFoundError: If the model or a device is unknown.
            ModelFileError: If the model's bytes are not found.
            InputError: If the image is not the registered model or is not runnable.
            BrokerError: If the broker cannot be reached.

        """
        info = self.registry.get_model(model)
        if not info.runnable or info.arena_bytes is None:
            raise InputError(f"{info.id}: the runtime does not run it: {info.reason}")
        data = image if image is not None else self.registry.model_bytes(info.iri).data
        if hashlib.sha256(data).hexdigest() != info.sha256:
            raise InputError(f"{info.id}: the image is not the registered model (SHA-256 differs)")
        version = version or self.model_version(info)
        runtime_name, _, runtime_version = (
            (info.runtime or "").removeprefix(str(RUNTIME)).partition("/")
        )
        targets = [self.registry.resolve("device", d) for d in devices]
        for device in targets:  # every field fits its place before anything is sent
            self._manifest(info, device, data, version, runtime_name, runtime_version, force).body()
        self.start()

        refused: dict[str, _Outcome] = {}
        for device in targets if not force else []:
            try:
                self.check_pair(info.id, device)
            except PairRefusedError as exc:
                now = datetime.now(UTC)
                refused[device] = _Outcome("refused", exc.reason, started=now, ended=now)
                if progress:
                    progress(Progress(device, "refused", 0, 0, 0, exc.reason))

        # the image's chunks and their CRCs, cut once for every device
        chunks = [data[i : i + self.chunk_size] for i in range(0, len(data), self.chunk_size)]
        crcs = [zlib.crc32(chunk) for chunk in chunks]

        def one(device: str) -> DeploymentRecord:
            started = datetime.now(UTC)
            out = refused.get(device)
            if out is None:
                manifest = self._manifest(
                    info, device, data, version, runtime_name, runtime_version, force
                )
                out = self._transfer(device, manifest, (chunks, crcs), progress)
            out.started = out.started or started
            out.ended = out.ended or datetime.now(UTC)
            return DeploymentRecord(
                id=uuid.uuid4().hex,
                model=info.id,
                model_version=version,
                device=device,
                agent=self.agent,
                started=out.started,
                ended=out.ended,
                outcome=out.outcome,
                reason=out.reason,
                deploy_ms=out.deploy_ms,
                load_ms=out.load_ms,
                inference_ms=out.inference_ms,
                arena_used_bytes=out.arena_used_bytes,
            )

        with ThreadPoolExecutor(max_workers=self.parallel, thread_name_prefix="deploy") as pool:
            records = list(pool.map(one, targets))
        if record:
            for rec in records:
                self.registry.record_deployment(rec)
        return records

    def _manifest(
        self,
        info: ModelRecord,
        device: str,
        data: bytes,
        version: str,
        runtime: str,
        runtime_version: str,
        force: bool,
    ) -> Manifest:
        size = len(data)
        key = f"{device}|{info.sha256}|{version}|{self.chunk_size}|{force}"
        return Manifest(
            model=info.id,
            version=version,
            size=size,
            sha256=info.sha256,
            arena_bytes=int(info.arena_bytes or 0),
            runtime=runtime,
            runtime_version=runtime_version,
            chunk_size=self.chunk_size,
            chunks=-(-size // self.chunk_size),
            transfer=hashlib.sha256(key.encode()).hexdigest()[:16],
            window=self.window,
            force=force,
            device=device,
            seq=1,  # each sending signs it with a new number (``_Session._sign``)
        )

    def _transfer(
        self,
        device: str,
        manifest: Manifest,
        image: tuple[list[bytes], list[int]],
        progress: ProgressFn | None,
    ) -> _Outcome:
        inbox: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        with self._lock:
            self._inboxes[device] = inbox
        # its status (retained: the current one arrives first) tells of a restart
        status = device_topic(device, "status")
        self.connection.subscribe(status, QOS_CONTROL)
        try:
            return _Session(self, device, manifest, image, inbox, progress).run()
        finally:
            self.connection.unsubscribe(status)
            with self._lock:
                self._inboxes.pop(device, None)

    # ------------------------------------------------------------------ commands

    def command(
        self,
        device: str,
        op: str,
        *,
        transfer: str = "",
        argument: bytes = bytes(32),
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Send a signed command to one device and return its answer.

        ``sync`` and ``status`` are answered on ``ack`` and ``status``, not here: for them
        the answer is ``{}``. A device that refuses the sequence number as a replay (its
        counter is ahead, e.g. another deployer signed newer ones) gets the command once
        more under a number above its own.

        Args:
            device: The device id (as the device knows itself).
            op: ``sync``, ``status``, ``infer``, ``abort``, ``rollback`` or ``rotate-key``.
            transfer: The transfer ``sync`` and ``abort`` name.
            argument: The 32-byte argument (see ``firmware/PROTOCOL.md``).
            timeout: Seconds to wait for the answer; default: the deployer's timeout.

        Returns:
            The device's answer (a ``result`` or ``inference`` body).

        Raises:
            InputError: If the command is unknown or a field does not fit.
            DeviceTimeoutError: If no answer comes in time.
            BrokerError: If the broker cannot be reached.

        """
        wait = self.timeout if timeout is None else timeout
        self.start()
        body: dict[str, Any] = {}
        for _attempt in range(2):
            seq = self.sequence.next()
            message = sign_command(Command(op, device, seq, transfer, argument), self.key)
            if op not in ANSWERED_OPS:
                self.connection.publish(device_topic(device, "cmd"), message, QOS_CONTROL)
                return {}
            answers: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
            with self._lock:
                self._waiters[(device, seq)] = answers
            try:
                self.connection.publish(device_topic(device, "cmd"), message, QOS_CONTROL)
                _, body = answers.get(timeout=wait)
            except queue.Empty:
                raise DeviceTimeoutError(device, wait, f"the answer to {op}") from None
            finally:
                with self._lock:
                    self._waiters.pop((device, seq), None)
            last = _seq_of(body.get("last_seq"))
            if body.get("outcome") != "refused" or last is None or last < seq:
                return body
            if not self.sequence.advance(last):
                return body
        return body

    def infer(self, device: str, timeout: float | None = None) -> dict[str, Any]:
        """Ask a device for one inference with its running model (zero inputs).

        Returns:
            Its answer: ``model``, ``version``, ``latency_ms`` and ``outputs``, or ``error``.

        """
        return self.command(device, "infer", timeout=timeout)

    def rollback(
        self,
        devices: Sequence[str],
        *,
        sha256: str | None = None,
        record: bool = True,
    ) -> list[DeploymentRecord]:
        """Return devices to their previous committed image (a signed, explicit revert).

        The device checks the previous image against its digest, loads and self-tests it,
        and commits it; otherwise it refuses and keeps its model. A successful rollback
        is recorded as a ``committed`` deployment of the model and version the device
        reports running (reason ``rollback``), a refusal as ``rolled_back``; a device
        that does not answer as ``failed``.

        Args:
            devices: Device ids, short ids or titles.
            sha256: The digest of the image to return to; default: whichever is previous.
            record: Record the outcomes in the graph.

        Returns:
            One record per device that names the model it runs (a device that runs no
            model after a refused rollback, or did not answer, has no deployment to show).

        """
        argument = bytes.fromhex(sha256) if sha256 else bytes(32)
        if len(argument) != 32:
            raise InputError("a rollback digest is 32 bytes (64 hex digits)")
        targets = [self.registry.resolve("device", d) for d in devices]

        def one(device: str) -> DeploymentRecord | None:
            started = datetime.now(UTC)
            try:
                body = self.command(device, "rollback", argument=argument)
            except DeviceTimeoutError:
                return None
            done = body.get("outcome") == "done"
            model = body.get("model") if done else body.get("running")
            version = body.get("version") if done else body.get("running_version")
            if not isinstance(model, str) or not isinstance(version, str):
                return None
            outcome = "committed" if done else "rolled_back"
            reason = "rollback" if done else f"rollback: {body.get('reason')}"
            inference = _number(body.get("inference_ms"))
            arena = _number(body.get("arena_used_bytes"))
            return DeploymentRecord(
                id=uuid.uuid4().hex,
                model=model,
                model_version=version,
                device=device,
                agent=self.agent,
                started=started,
                ended=datetime.now(UTC),
                outcome=outcome,
                reason=reason,
                deploy_ms=None,
                load_ms=_number(body.get("load_ms")),
                inference_ms=inference,
                arena_used_bytes=int(arena) if arena is not None else None,
            )

        with ThreadPoolExecutor(max_workers=self.parallel, thread_name_prefix="rollback") as pool:
            records = [r for r in pool.map(one, targets) if r is not None]
        if record:
            for rec in records:
                self.registry.record_deployment(rec)
        return records

    def rotate_key(
        self, devices: Sequence[str], new_key: Ed25519PrivateKey
    ) -> dict[str, dict[str, Any]]:
        """Make devices trust ``new_key`` instead of the deployer's key, signed by the latter.

        The device replaces its key and records the command's sequence number in one
        write, which revokes the old key on it. Afterwards sign with ``new_key``; keep the
        old key for the devices that have not confirmed (they still trust it).

        Returns:
            Each device's answer (``outcome`` ``done`` and the new ``key_id``, or
            ``refused`` with the reason, or ``failed`` when it did not answer).

        """
        public = public_key_bytes(new_key)
        targets = [self.registry.resolve("device", d) for d in devices]

        def one(device: str) -> dict[str, Any]:
            try:
                return self.command(device, "rotate-key", argument=public)
            except DeviceTimeoutError as exc:
                return {"outcome": "failed", "reason": exc.reason}

        with ThreadPoolExecutor(max_workers=self.parallel, thread_name_prefix="rotate") as pool:
            return dict(zip(targets, pool.map(one, targets), strict=True))


class _Session:
    """One device's transfer: manifest, chunks with selective retransmission, verdict."""

    def __init__(
        self,
        deployer: Deployer,
        device: str,
        manifest: Manifest,
        image: tuple[list[bytes], list[int]],
        inbox: queue.Queue[tuple[str, dict[str, Any]]],
        progress: ProgressFn | None,
    ) -> None:
        self.d = deployer
        self.device = device
        self.m = manifest
        self.chunks, self.crcs = image  # the image cut in chunks, and their CRC-32s
        self.tid = transfer_field(manifest.transfer)
        self.chunk_topic = device_topic(device, "chunk")
        self.inbox = inbox
        self.progress = progress
        self.seqs: set[int] = set()  # the sequence numbers this session signed
        self.resynced = False
        self.signed = self._sign()
        self.have: set[int] = set()
        self.sent: dict[int, int] = {}  # chunk index -> order of its latest sending
        self.sends = 0
        self.sync_mark = 0  # the sendings before the latest sync
        self.resent = 0
        self.boots: int | None = None  # the device's boot count, from its first status seen
        self.last_progress = time.monotonic()
        self._reported = -1

    def _tell(self, stage: str, detail: str | None = None) -> None:
        if self.progress:
            done = len(self.have)
            self.progress(Progress(self.device, stage, done, self.m.chunks, self.resent, detail))

    def _sign(self) -> bytes:
        """The manifest signed under a new sequence number."""
        self.m = replace(self.m, seq=self.d.sequence.next())
        self.seqs.add(self.m.seq)
        return sign_manifest(self.m, self.d.key)

    def _send_manifest(self) -> None:
        self.d.connection.publish(device_topic(self.device, "manifest"), self.signed, QOS_CONTROL)

    def _send_chunk(self, index: int) -> None:
        frame = pack_chunk(self.tid, index, self.chunks[index], self.crcs[index])
        if index in self.sent:
            self.resent += 1
        self.sends += 1
        self.sent[index] = self.sends
        if self.d.chunk_filter is not None:
            changed = self.d.chunk_filter(self.device, index, frame)
            if changed is None:
                return
            frame = changed
        self.d.connection.publish(self.chunk_topic, frame, QOS_CHUNK)

    def _sync(self) -> None:
        self.sync_mark = self.sends  # a chunk sent later may still be on its way
        command = Command("sync", self.device, self.d.sequence.next(), self.m.transfer)
        message = sign_command(command, self.d.key)
        self.d.connection.publish(device_topic(self.device, "cmd"), message, QOS_CONTROL)

    def _stalled(self) -> bool:
        return time.monotonic() - self.last_progress > self.d.timeout

    def run(self) -> _Outcome:
        """The transfer, in three stages the device's answers move it between.

        ``manifest``: the manifest is out, its acknowledgement (the bitmap of what the device
        already holds) is awaited. ``transfer``: chunks go out, acknowledgements come back,
        what they lack is sent again. ``verified``: the device checked the image; its verdict
        is awaited. A device that reports a new boot count (its status) lost what it held in
        RAM: it is asked again at once (the manifest, or a ``sync``), so that a reset during
        the transfer or the commit costs one round trip, not the timeout. A device that no
        longer knows the transfer gets a fresh manifest and the transfer starts over from
        what it holds.
        """
        started = datetime.now(UTC)
        t0 = time.monotonic()
        chunks = self.m.chunks
        self._tell("manifest")
        self._send_manifest()
        stage = "manifest"
        pending: deque[int] = deque()
        in_flight: set[int] = set()
        arrived = 0  # the latest sending known to have reached the device
        deploy_ms: float | None = None
        quiet = 0  # ack_wait periods without an answer while the verdict is awaited
        waiting_for = {
            "manifest": "the manifest's acknowledgement",
            "transfer": "chunk acknowledgements",
            "verified": "the device's verdict",
        }
        while True:
            room = IN_FLIGHT_WINDOWS * self.m.window
            while stage == "transfer" and pending and len(in_flight) < room:
                index = pending.popleft()
                self._send_chunk(index)
                in_flight.add(index)
            msg = self._next()
            if msg is None:
                if self._stalled():
                    return self._failed(started, waiting_for[stage], deploy_ms)
                if stage == "manifest":
                    self._send_manifest()
                elif stage == "transfer":
                    self._sync()
                else:
                    quiet += 1
                    if quiet % VERDICT_SYNC_PERIODS == 0:
                        self._sync()
                continue
            quiet = 0
            leaf, body = msg
            if leaf == "result":
                return self._verdict(body, started, deploy_ms)
            if leaf == "status":  # a new boot: ask again now
                log.info(
                    "%s restarted during the deployment (%s): asking again", self.device, stage
                )
                if stage == "manifest":
                    self._send_manifest()
                else:
                    self._sync()
                continue
            if body.get("unknown"):
                # the device lost the transfer (restarted, aborted): a fresh manifest
                self.signed = self._sign()
                self._send_manifest()
                self.last_progress = time.monotonic()
                stage, deploy_ms = "manifest", None
                continue
            if body.get("verified"):
                if stage != "verified":
                    deploy_ms = (time.monotonic() - t0) * 1000
                    self.have = set(range(chunks))
                    self._tell("verified")
                    stage = "verified"
                continue
            if "have" not in body:
                continue
            have = self._bitmap(body)
            if have is None:
                continue
            if stage == "verified":
                if len(have) < chunks:  # it no longer holds the image: resume the transfer
                    self.signed = self._sign()
                    self._send_manifest()
                    stage, deploy_ms = "manifest", None
                continue  # all held: it is committing, its verdict follows
            if stage == "manifest":  # what it already holds (resume)
                self.have = have
                pending = deque(i for i in range(chunks) if i not in have)
                in_flight.clear()
                arrived = 0
                stage = "transfer"
                self._tell("transfer")
                continue
            if have - self.have:
                self.last_progress = time.monotonic()
            self.have = have  # the device's word: a chunk it dropped (a torn page) goes again
            landed = in_flight & have
            if landed:
                arrived = max(arrived, max(self.sent[i] for i in landed))
                in_flight -= landed
            # chunks arrive in the order they were sent: whatever was sent before one the
            # device holds and is still missing was lost (or damaged) on the way; so was
            # what was sent before a sync that the answer does not list
            mark = self.sync_mark if body.get("sync") else 0
            lost = {i for i in in_flight if self.sent[i] <= mark or self.sent[i] < arrived}
            if lost:
                in_flight -= lost
                pending.extendleft(sorted(lost, reverse=True))
            taken = have | in_flight | set(pending)  # once: not once per chunk
            pending.extend(i for i in range(chunks) if i not in taken)
            if len(self.have) // max(1, chunks // 4) != self._reported:
                self._reported = len(self.have) // max(1, chunks // 4)
                self._tell("transfer")

    def _bitmap(self, body: dict[str, Any]) -> set[int] | None:
        try:
            return decode_bitmap(body["have"], self.m.chunks)
        except InputError as exc:
            self.d._reject(device_topic(self.device, "ack"), exc.message)
            return None

    def _next(self) -> tuple[str, dict[str, Any]] | None:
        deadline = time.monotonic() + self.d.ack_wait
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            try:
                leaf, body = self.inbox.get(timeout=remaining)
            except queue.Empty:
                return None
            if leaf == "status":
                if self._rebooted(body):
                    return leaf, body
                continue
            if body.get("transfer") != self.m.transfer:
                continue
            if leaf == "result" and self._replayed(body):
                continue
            return leaf, body

    def _rebooted(self, body: dict[str, Any]) -> bool:
        """Whether a status shows more boots than the first one this session saw."""
        boots = body.get("boots")
        if not isinstance(boots, int) or isinstance(boots, bool):
            return False
        seen = self.boots
        self.boots = boots if seen is None else max(seen, boots)
        return seen is not None and boots > seen

    def _replayed(self, body: dict[str, Any]) -> bool:
        """Whether ``body`` refused this session's manifest as a replay, now handled.

        The manifest is signed again above the device's number (once) and sent again.
        """
        last = _seq_of(body.get("last_seq"))
        if self.resynced or last is None or _seq_of(body.get("seq")) not in self.seqs:
            return False
        self.resynced = True
        if not self.d.sequence.advance(last):
            return False
        self.signed = self._sign()
        self._send_manifest()
        return True

    def _failed(self, started: datetime, what: str, deploy_ms: float | None = None) -> _Outcome:
        error = DeviceTimeoutError(self.device, self.d.timeout, what)
        self._tell("failed", error.reason)
        return _Outcome("failed", error.reason, deploy_ms, resent=self.resent, started=started)

    def _verdict(
        self, body: dict[str, Any], started: datetime, deploy_ms: float | None
    ) -> _Outcome:
        if body.get("outcome") == "committed":  # of this transfer: device, image, version
            self._tell("committed")
            arena = _number(body.get("arena_used_bytes"))
            return _Outcome(
                "committed",
                None,
                deploy_ms,
                _number(body.get("load_ms")),
                _number(body.get("inference_ms")),
                int(arena) if arena is not None else None,
                self.resent,
                started,
            )
        stage, reason = str(body.get("stage"))[:64], str(body.get("reason"))[:1000]
        error = DeviceRefusedError(self.device, stage, reason)
        running = body.get("running")
        reason = error.reason
        if isinstance(running, str) and running:
            reason += f" (still running {running[:64]} {str(body.get('running_version'))[:32]})"
        self._tell("rolled_back", reason)
        return _Outcome("rolled_back", reason, deploy_ms, resent=self.resent, started=started)
