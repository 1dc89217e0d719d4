"""The service: every use case of tinyreg behind one class, :class:`Registry`.

A :class:`Registry` is the :class:`~tinyreg.registry.catalogue.Catalogue` (add, list, show,
delete, import, query, export, check) plus the use cases built on it: the WoT directory,
matching and explanations, the fit index, over-the-air deployments and their records,
host benchmarks and the report. The CLI, the REST app and Python callers all call these
methods; they only parse input and format output. Heavy parts (the TFLite Micro runtime,
matplotlib, the MQTT deployer) are imported when a use case needs them.

Ids: a model is named by its card id (``hello-world``), a device by its Thing
Description's ``id`` (``urn:tinyreg:device:arduino-nano-33-ble-sense``): what ``list``
prints. JSON answers carry that id under ``model`` and ``device`` with ``model_iri`` and
``device_iri`` beside it (:func:`match_dict`, :meth:`BenchResult.to_dict`,
:meth:`~tinyreg.registry.deployments.DeploymentRecord.to_dict`).

>>> with Registry.open(in_memory=True) as registry:
...     registry.match(everything=True), registry.deployments(running=True)
([], [])
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tinyreg.core.errors import InputError
from tinyreg.core.queries import load_query
from tinyreg.registry.bench import HostBenchmark, bench_registered
from tinyreg.registry.catalogue import Catalogue, ModelRecord, model_id
from tinyreg.registry.deployments import DeploymentRecord

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from tinyreg.matchmaker import Match, Matchmaker
    from tinyreg.registry.deployer import Progress
    from tinyreg.registry.directory import Directory, TDSchema
    from tinyreg.registry.drift import DriftResult, DriftTest
    from tinyreg.registry.loop import RolloutPlan
    from tinyreg.registry.report import ReportFiles
    from tinyreg.registry.target_bench import StoredTargetBenchmark
    from tinyreg.registry.telemetry import TelemetryRecord, TelemetryStore

__all__ = ["BenchOutcome", "BenchResult", "Registry", "match_dict"]


def match_dict(match: Match) -> dict[str, Any]:
    """A match as JSON-ready data, with the ids ``list`` prints.

    ``model`` and ``device`` hold the ids, ``model_iri`` and ``device_iri`` the IRIs; the
    rest is :meth:`Match.to_dict`.
    """
    data = match.to_dict()
    return {
        "rank": data.pop("rank"),
        "model": model_id(match.model),
        "model_iri": match.model,
        "device": match.device,
        "device_iri": match.device,
        **{k: v for k, v in data.items() if k not in ("model", "device")},
    }


@dataclass(frozen=True)
class BenchResult:
    """One benchmark of a registered model (host or target), and the verdict on a board if asked.

    Attributes:
        model: The model's id.
        file: The file the bytes were read from (``None`` for bytes kept in memory).
        benchmark: The measurement, as stored in the graph: a host benchmark, or a target
            benchmark when :meth:`Registry.bench` was given a ``target``.
        match: The matchmaker's verdict on the board given to :meth:`Registry.bench`.

    """

    model: str
    file: Path | None
    benchmark: HostBenchmark | StoredTargetBenchmark
    match: Match | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data: ``model``, ``model_iri``, ``file``, the figures, the verdict."""
        figures = self.benchmark.to_dict()
        iri = figures.pop("model")
        data: dict[str, Any] = {
            "model": self.model,
            "model_iri": iri,
            "file": None if self.file is None else str(self.file),
            **figures,
        }
        if self.match is not None:
            data["device"] = self.match.device
            data["device_iri"] = self.match.device
            data["fits"] = self.match.fits
            data["failed"] = self.match.verdict.failed
            data["estimated_latency_ms"] = self.match.verdict.estimated_latency_ms
        return data


@dataclass
class BenchOutcome:
    """What :meth:`Registry.bench` measured, and what it could not (with ``every``)."""

    results: list[BenchResult] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


class Registry(Catalogue):
    """tinyreg's one service: the catalogue and every use case built on it.

    Open one with :meth:`Registry.open` (a directory, a SPARQL endpoint URL, or
    ``in_memory=True``); see :class:`~tinyreg.registry.catalogue.Catalogue` for the
    catalogue's methods. The layers below receive the catalogue only.

    Args:
        store: An open graph store (see :func:`tinyreg.core.stores.open_store`).
        blobs: Where models' bytes are kept (see :class:`Catalogue`).

    """

    _matchmaker: Matchmaker | None = None

    @property
    def matchmaker(self) -> Matchmaker:
        """The matchmaker over this registry (built on first use)."""
        if self._matchmaker is None:
            from tinyreg.matchmaker import Matchmaker

            self._matchmaker = Matchmaker(self)
        return self._matchmaker

    # ------------------------------------------------------------------ catalogue

    def find_models(
        self, *, task: str | None = None, runnable: bool | None = None, text: str | None = None
    ) -> list[ModelRecord]:
        """Registered models, filtered by task, runnability and text in id, name or dataset."""
        needle = text.lower() if text else None
        return [
            r
            for r in self.list_models()
            if (task is None or r.task == task)
            and (runnable is None or r.runnable == runnable)
            and (
                needle is None
                or any(needle in (v or "").lower() for v in (r.id, r.name, r.dataset))
            )
        ]

    def directory(
        self, *, schema: TDSchema | None = None, default_ttl: int | None = None
    ) -> Directory:
        """The W3C WoT Thing Description Directory over this registry.

        Args:
            schema: The TD JSON Schema TDs are checked against (besides the shapes).
            default_ttl: Seconds a registration lives when the TD asks for no ``ttl``.

        """
        from tinyreg.registry.directory import Directory

        return Directory(self, schema, default_ttl=default_ttl)

    # ------------------------------------------------------------------ matching

    def match(
        self,
        *,
        model: str | None = None,
        device: str | None = None,
        everything: bool = False,
        all_verdicts: bool = False,
        task: str | None = None,
        min_metric: float | None = None,
        max_latency_ms: float | None = None,
        text: str | None = None,
        dataset: str | None = None,
        order: str = "rank",
        limit: int | None = None,
    ) -> Sequence[Match]:
        """Compatible model–device pairs, ranked (fitting pairs first, then latency).

        Give exactly one of ``model`` (devices that run it), ``device`` (models that fit
        it) or ``everything`` (every pair).

        Args:
            model: A model id, IRI or name.
            device: A device id, short id, IRI or title.
            everything: Every model–device pair.
            all_verdicts: Also pairs that do not fit.
            task: Only models for this task (not with ``model``).
            min_metric: Only models whose metric is at least this (not with ``model``).
            max_latency_ms: A limit on the estimated latency.
            text: Only models whose name, description or dataset contains this (with
                ``device``).
            dataset: Only models whose dataset contains this (with ``device``).
            order: With ``device``: ``rank`` or ``metric`` (best metric first).
            limit: At most this many pairs.

        Raises:
            InputError: If not exactly one of ``model``, ``device``, ``everything`` is
                given, or model filters come with ``model``.

        """
        if sum((model is not None, device is not None, everything)) != 1:
            raise InputError("give exactly one of a model, a device or every pair")
        if model is not None and (task or min_metric is not None or text or dataset):
            raise InputError(
                "task, minimum metric, text and dataset filter models: "
                "use them with a device or every pair"
            )
        if model is not None:
            return self.matchmaker.devices_for(
                model, all_verdicts=all_verdicts, max_latency_ms=max_latency_ms, limit=limit
            )
        if device is not None:
            return self.matchmaker.models_for(
                device,
                task=task,
                min_metric=min_metric,
                max_latency_ms=max_latency_ms,
                text=text,
                dataset=dataset,
                all_verdicts=all_verdicts,
                limit=limit,
                order=order,
            )
        if text or dataset:
            raise InputError("text and dataset filter the models of one device")
        pairs = self.matchmaker.pairs(
            all_verdicts=all_verdicts,
            task=task,
            min_metric=min_metric,
            max_latency_ms=max_latency_ms,
        )
        return pairs[:limit] if limit is not None else pairs

    def explain(self, model: str, device: str) -> Match:
        """The verdict on one pair, constraint by constraint (``.explain()`` renders it)."""
        return self.matchmaker.explain(model, device)

    def reindex(
        self, *, everything: bool = False, progress: Callable[[int, int], None] | None = None
    ) -> int | None:
        """Bring the fit index up to date, or rebuild it with ``everything``.

        Returns:
            The number of models indexed, or ``None`` when it was already up to date.

        """
        models, profiles = self.fits.missing()
        if not everything and not (models or profiles):
            return None
        return self.index_fits(everything=everything, progress=progress)

    # ------------------------------------------------------------------ deployments

    def deployments(
        self, *, model: str | None = None, device: str | None = None, running: bool = False
    ) -> list[DeploymentRecord]:
        """Recorded deployments, oldest first, or with ``running`` what runs where.

        Args:
            model: Only deployments of this model (a deleted model's id works too).
            device: Only deployments to this device.
            running: Only each device's latest committed deployment
                (``deployments_running.rq``), ordered by device.

        """
        records = self.list_deployments(model=model, device=device)
        if not running:
            return records
        rows = self.store.select(load_query("tinyreg.registry", "deployments_running"))
        current = {str(r["deployment"]) for r in rows}
        return sorted((r for r in records if r.iri in current), key=lambda r: r.device)

    def signing_key(self, path: Path | None = None) -> Ed25519PrivateKey:
        """The deployments' Ed25519 signing key (created if absent).

        Args:
            path: The PEM file; default: ``$TINYREG_SIGNING_KEY``, else
                ``signing-key.pem`` in the store's directory.

        """
        from tinyreg.core.protocol import load_or_create_key
        from tinyreg.registry.deployer import signing_key_path

        return load_or_create_key(path or signing_key_path(self))

    def export_public_key(self, out: Path, key: Path | None = None) -> None:
        """Write the signing key's public half (PEM) for devices to trust."""
        from tinyreg.core.protocol import write_public_key

        write_public_key(self.signing_key(key), out)

    def deploy_targets(
        self, model: str, devices: Sequence[str] = (), *, fleet: bool = False, where: str = ""
    ) -> list[str]:
        """The devices a deployment goes to, in order, without repeats.

        Those named, plus with ``fleet`` either the devices a SELECT query (``where``,
        binding ``?device``) gives or every device the matchmaker pairs with the model.
        """
        targets = list(devices)
        if fleet and where:
            rows = self.query(where).rows
            targets += [str(r["device"]) for r in rows if r.get("device") is not None]
        elif fleet:
            targets += [m.device for m in self.matchmaker.devices_for(model)]
        return list(dict.fromkeys(targets))

    def deploy(
        self,
        model: str,
        devices: Sequence[str],
        *,
        broker: str,
        file: Path | None = None,
        search: Sequence[Path] = (),
        version: str | None = None,
        force: bool = False,
        key: Path | None = None,
        progress: Callable[[Progress], None] | None = None,
        **options: Any,
    ) -> list[DeploymentRecord]:
        """Deploy a model over the air to devices and record every outcome.

        Args:
            model: The model's id, IRI or name, ``family@N``, or a family (its latest
                gated version, ``docs/loop.md``); its bytes are the ones the registry keeps
                (else found by digest, see :meth:`model_bytes`).
            devices: Device ids, short ids or titles (see :meth:`deploy_targets`).
            broker: The MQTT broker URL (``mqtt://host:port``).
            file: The model's ``.tflite`` (it must hold the registered bytes).
            search: Extra folders to find the bytes in.
            version: The version to announce; default: the card's, else the digest's.
            force: Deploy pairs the matchmaker rejects, and allow downgrades.
            key: The signing key's PEM file (see :meth:`signing_key`).
            progress: Called with each step of each device.
            **options: :class:`~tinyreg.registry.deployer.Deployer` settings
                (``agent``, ``chunk_size``, ``window``, ``parallel``, ``timeout``).

        Returns:
            One record per device.

        Raises:
            InputError: If no device is given.
            NotFoundError: If the model or a device is unknown.
            ModelFileError: If the model's bytes are not found.
            BrokerError: If the broker cannot be reached.

        """
        from tinyreg.registry.deployer import Deployer

        if not devices:
            raise InputError("no device selected")
        from tinyreg.registry.versions import resolve_version, version_info

        model = resolve_version(self, model)  # family@N, or a family: its latest gated version
        if version is None and (info := version_info(self, model)) is not None:
            version = str(info.number)
        found = self.model_bytes(model, search=search, file=file)
        with Deployer(self, broker, key=self.signing_key(key), **options) as deployer:
            return deployer.deploy(
                model,
                devices,
                image=found.data,
                version=version,
                force=force,
                progress=progress,
            )

    def rollback(
        self, devices: Sequence[str], *, broker: str, key: Path | None = None, **options: Any
    ) -> list[DeploymentRecord]:
        """Return devices to their previous committed model with a signed ``rollback``.

        Args:
            devices: Device ids.
            broker: The MQTT broker URL.
            key: The signing key's PEM file (see :meth:`signing_key`).
            **options: :class:`~tinyreg.registry.deployer.Deployer` settings.

        Returns:
            One record per device that answered (recorded in the graph).

        """
        from tinyreg.registry.deployer import Deployer

        if not devices:
            raise InputError("no device selected")
        with Deployer(self, broker, key=self.signing_key(key), **options) as deployer:
            return deployer.rollback(list(devices))

    def rotate_key(
        self,
        devices: Sequence[str],
        new_key: Path,
        *,
        broker: str,
        key: Path | None = None,
        **options: Any,
    ) -> dict[str, dict[str, Any]]:
        """Announce a new signing key to devices, signed by the current one (which it revokes).

        Args:
            devices: Device ids.
            new_key: The new key's PEM file (created if absent).
            broker: The MQTT broker URL.
            key: The current signing key's PEM file (see :meth:`signing_key`).
            **options: :class:`~tinyreg.registry.deployer.Deployer` settings.

        Returns:
            Each device's answer (``outcome`` ``done`` or ``refused`` with a ``reason``).

        """
        from tinyreg.core.protocol import load_or_create_key
        from tinyreg.registry.deployer import Deployer

        if not devices:
            raise InputError("no device selected")
        with Deployer(self, broker, key=self.signing_key(key), **options) as deployer:
            return deployer.rotate_key(list(devices), load_or_create_key(new_key))

    # ------------------------------------------------------------------ bench and report

    def bench(
        self,
        models: Sequence[str] = (),
        *,
        every: bool = False,
        file: Path | None = None,
        search: Sequence[Path] = (),
        runs: int = 50,
        seed: int = 0,
        device: str | None = None,
        target: str | None = None,
        on_total: Callable[[int], None] | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> BenchOutcome:
        """Measure models with the real TFLite Micro runtime; store the results.

        On the host by default; with ``target``, on the firmware agent in QEMU (see
        :mod:`tinyreg.registry.target_bench`): minimal 32-bit arena, instructions (not
        cycles) to load and per inference, code bytes, and the output hash. A model the
        firmware refuses is not stored.

        Args:
            models: Model ids, IRIs or names.
            every: Every registered model the runtime runs (instead of ``models``); a
                model that cannot be measured is reported in ``failed``, not raised.
            file: The ``.tflite`` of the one model given.
            search: Extra folders to find models' bytes in.
            runs: Timed inferences.
            seed: Seed of the random inputs.
            device: Also give the matchmaker's verdict on this device.
            target: Run on this emulated board (``qemu-mps2-an386``, ``qemu-mps3-an547``)
                instead of the host; ``runs`` and ``seed`` do not apply (one inference with
                the zero-point input).
            on_total: Called once with the number of models.
            progress: Called with each model's id once it is handled.

        Raises:
            InputError: If neither or both of ``models`` and ``every`` are given, or
                ``file`` comes with more than one model.
            NotFoundError: If a model is unknown.
            BenchmarkError: If the runtime (or the firmware, with ``target``) refuses a model,
                or its bytes differ; the detail gives the reason.
            ModelFileError: If a model's bytes are not found.
            ConfigError: If ``target`` is unknown, or the firmware or QEMU is not available.

        """
        if target is not None:
            from tinyreg.firmware.target import TARGETS

            if target not in TARGETS:
                raise InputError(f"unknown target {target!r}: one of {', '.join(sorted(TARGETS))}")
        if every == bool(models):
            raise InputError("give model names or every model, not both or neither")
        if every:
            targets = [m.iri for m in self.list_models() if m.runnable]
        else:
            targets = [self.resolve("model", m) for m in models]
        if file is not None and len(targets) != 1:
            raise InputError("a file goes with exactly one model")
        if on_total is not None:
            on_total(len(targets))
        outcome = BenchOutcome()
        for iri in targets:
            try:
                outcome.results.append(
                    self._bench_one(iri, file, search, runs, seed, device, target)
                )
            except InputError as exc:
                if not every:
                    raise
                outcome.failed.append((model_id(iri), getattr(exc, "detail", exc.message)))
            if progress is not None:
                progress(model_id(iri))
        return outcome

    def _bench_one(
        self,
        iri: str,
        file: Path | None,
        search: Sequence[Path],
        runs: int,
        seed: int,
        device: str | None,
        target: str | None,
    ) -> BenchResult:
        found = self.model_bytes(iri, search=search, file=file)
        measured: HostBenchmark | StoredTargetBenchmark
        if target is None:
            measured = bench_registered(self.store, iri, found.data, runs=runs, seed=seed)
        else:
            from tinyreg.registry.target_bench import bench_registered_target

            measured = bench_registered_target(
                self.store, iri, found.data, target, label=model_id(iri)
            )
            self.fits.index_models([iri])  # the verdicts use the target arena of its core family
        match = self.explain(iri, device) if device is not None else None
        return BenchResult(model_id(iri), found.source, measured, match)

    def report(self, out: Path, *, progress: Callable[[str], None] | None = None) -> ReportFiles:
        """Write the report (HTML, Markdown with plots, JSON and CSV) into a folder.

        Args:
            out: The folder (created if missing).
            progress: Called after each of the report's steps
                (:data:`tinyreg.registry.report.REPORT_STEPS` calls).

        """
        from tinyreg.registry.report import write_report

        return write_report(self, out, progress=progress, loop_folder=self.loop_folder())

    # ------------------------------------------------------------------ the loop

    _loop_folder: Path | None = None

    def loop_folder(self) -> Path:
        """Where telemetry and rollouts are kept: beside an embedded store, else a temp folder."""
        if self._loop_folder is None:
            label = Path(self.store.label)
            if "://" not in self.store.label and label.is_dir():
                self._loop_folder = label
            else:
                import tempfile

                self._loop_folder = Path(tempfile.mkdtemp(prefix="tinyreg-loop-"))
        return self._loop_folder

    def telemetry(self) -> TelemetryStore:
        """The bounded store of the devices' recent windows (``telemetry/``)."""
        from tinyreg.registry.telemetry import TelemetryStore

        return TelemetryStore(self.loop_folder() / "telemetry")

    def _rollouts(self) -> Path:
        return self.loop_folder() / "rollouts"

    def telemetry_collect(
        self,
        broker: str,
        *,
        seconds: float,
        bucket_s: float = 10.0,
        stop: threading.Event | None = None,
    ) -> dict[str, Any]:
        """Ingest the devices' telemetry from a broker for ``seconds`` (``docs/telemetry.md``).

        Args:
            broker: The MQTT broker URL.
            seconds: How long to collect.
            bucket_s: The aggregation bucket.
            stop: Ends the collection early when set (what arrived is written).

        Returns:
            The ingest's counters (accepted, dropped by reason, lag) and silent devices.

        Raises:
            BrokerError: If the broker cannot be reached.

        """
        from tinyreg.registry.telemetry import Ingest

        ingest = Ingest(self.store, self.telemetry(), bucket_s=bucket_s)
        ingest.start(broker, period_s=min(0.5, bucket_s))
        try:
            (stop or threading.Event()).wait(max(0.0, seconds))
        finally:
            ingest.stop()
        return {**ingest.counters.to_dict(), "silent": ingest.silent(max(5.0, 3 * bucket_s))}

    def telemetry_show(self, device: str | None = None, limit: int = 20) -> list[TelemetryRecord]:
        """A device's latest kept windows (every device's latest one without ``device``)."""
        store = self.telemetry()
        if device is not None:
            return store.recent(self.resolve("device", device), limit=limit)
        return [rows[-1] for d in store.devices() if (rows := store.recent(d, limit=1))]

    def establish_version(self, model: str) -> dict[str, Any]:
        """Make an unversioned model version 1 of its family (threshold, training reference)."""
        from tinyreg.registry.loop import establish_version

        return establish_version(self, model)

    def drift_check(
        self, devices: Sequence[str] = (), test: DriftTest | None = None, *, record: bool = True
    ) -> list[DriftResult]:
        """Test devices for drift against their own baselines (``docs/loop.md``).

        Every device with telemetry, or those given, on the model version it runs now;
        the assessments are recorded in the graph with ``record``.
        """
        from tinyreg.registry.loop import check_drift

        targets = [self.resolve("device", d) for d in devices]
        return check_drift(self, self.telemetry(), targets, test, record=record)

    def retrain(
        self,
        devices: Sequence[str] = (),
        *,
        epochs: int = 8,
        seed: int = 0,
        original_windows: int = 300,
    ) -> dict[str, Any]:
        """Retrain the family of drifted devices' model, register the version and gate it.

        Returns:
            ``candidate`` (the new version's id), ``number``, ``gate`` (its figures) and
            ``drifted`` (the devices retrained on).

        Raises:
            InputError: If no device drifted by its operating conditions.
            ConfigError: Without TensorFlow (the ``[train]`` extra).

        """
        from tinyreg.registry.loop import gate_candidate, retrain_family

        drifted = [r for r in self.drift_check(devices) if r.kind == "operating-conditions"]
        if not drifted:
            raise InputError("no device drifted by its operating conditions: nothing to retrain")
        candidate = retrain_family(
            self,
            self.telemetry(),
            drifted,
            self.loop_folder() / "snapshots",
            epochs=epochs,
            seed=seed,
            original_windows=original_windows,
        )
        targets = [r.device for r in drifted]
        gate = gate_candidate(self, candidate.model, drifted[0].model, candidate.heldout, targets)
        return {
            "candidate": candidate.model,
            "number": candidate.number,
            "gate": gate.to_dict(),
            "drifted": targets,
        }

    def rollout_start(
        self,
        model: str,
        devices: Sequence[str],
        *,
        broker: str,
        key: Path | None = None,
        plan: RolloutPlan | None = None,
        expected_alarm_rate: float = 0.0,
        window_s: float = 1.0,
        run: bool = True,
        **options: Any,
    ) -> dict[str, Any]:
        """Plan a staged rollout of a model version and run it (``docs/loop.md``).

        Args:
            model: The version's model id (``family@N`` and a family name the gated one).
            devices: The devices, canary first.
            broker: The MQTT broker URL.
            key: The signing key's PEM file.
            plan: Canary share, waves and halting thresholds.
            expected_alarm_rate: The gate's false alarm rate.
            window_s: Seconds per device window.
            run: Run it now (else only plan it; :meth:`rollout_resume` runs it).
            **options: :class:`~tinyreg.registry.deployer.Deployer` settings.

        Returns:
            The rollout's state.

        """
        from tinyreg.registry.loop import RolloutPlan, new_rollout
        from tinyreg.registry.versions import resolve_version, version_info

        if not devices:
            raise InputError("no device selected")
        ident = resolve_version(self, model)
        info = version_info(self, ident)
        state = new_rollout(
            self._rollouts(),
            ident,
            str(info.number if info else 1),
            list(devices),
            plan or RolloutPlan(),
            expected_alarm_rate,
            None,
        )
        if not run:
            return state
        return self.rollout_resume(
            state["id"], broker=broker, key=key, window_s=window_s, **options
        )

    def rollout_resume(
        self,
        ident: str,
        *,
        broker: str,
        key: Path | None = None,
        window_s: float = 1.0,
        **options: Any,
    ) -> dict[str, Any]:
        """Run a planned or interrupted rollout on from its recorded state.

        Telemetry is ingested from the broker while the rollout watches its waves.
        """
        from tinyreg.registry.loop import load_rollout, run_rollout
        from tinyreg.registry.telemetry import Ingest
        from tinyreg.registry.versions import version_info

        state = load_rollout(self._rollouts(), ident)
        info = version_info(self, state["model"])
        if info is None or info.threshold is None:
            raise InputError(f"{state['model']} has no version record with a threshold")
        telemetry = self.telemetry()
        ingest = Ingest(self.store, telemetry, bucket_s=10.0)
        ingest.start(broker, period_s=min(0.5, window_s))
        try:
            return run_rollout(
                self._rollouts(),
                ident,
                deploy=lambda model, targets, version: self.deploy(
                    model, targets, broker=broker, key=key, version=version, **options
                ),
                rollback=lambda targets: self.rollback(targets, broker=broker, key=key, **options),
                telemetry=telemetry.recent,
                threshold=info.threshold,
                window_s=window_s,
            )
        finally:
            ingest.stop()

    def rollout_status(self, ident: str | None = None) -> list[dict[str, Any]]:
        """A rollout's state, or every rollout's (oldest first)."""
        from tinyreg.registry.loop import load_rollout

        folder = self._rollouts()
        if ident is not None:
            return [load_rollout(folder, ident)]
        states = [load_rollout(folder, p.stem) for p in folder.glob("*.json")]
        return sorted(states, key=lambda s: s["events"][0]["at"] if s["events"] else 0)

    def rollout_halt(self, ident: str, reason: str = "halted by hand") -> dict[str, Any]:
        """Stop a rollout before its next wave (touched devices stay; roll back by hand)."""
        from tinyreg.registry.loop import halt_rollout

        return halt_rollout(self._rollouts(), ident, reason)

    def loop_run(
        self,
        *,
        broker: str,
        seconds: float,
        key: Path | None = None,
        epochs: int = 8,
        window_s: float = 1.0,
        stop: threading.Event | None = None,
    ) -> dict[str, Any]:
        """One unattended turn: collect, test drift, retrain and gate, roll out if it passed.

        Args:
            broker: The MQTT broker URL.
            seconds: How long to collect telemetry first.
            key: The signing key's PEM file.
            epochs: Training epochs.
            window_s: Seconds per device window (how long the rollout watches a wave).
            stop: When set, the turn ends after the step under way (``stopped`` is true);
                the collection ends at once, with what arrived written.

        Returns:
            What each step found: ``telemetry``, ``drift``, ``retrain`` and ``rollout``
            (``None`` for the steps not reached), and ``stopped``.

        """
        out: dict[str, Any] = {
            "telemetry": None,
            "drift": None,
            "retrain": None,
            "rollout": None,
            "stopped": False,
        }
        out["telemetry"] = self.telemetry_collect(broker, seconds=seconds, stop=stop)
        if stop is not None and stop.is_set():
            out["stopped"] = True
            return out
        drift = self.drift_check()
        out["drift"] = [r.to_dict() for r in drift]
        if not any(r.kind == "operating-conditions" for r in drift):
            return out
        retrained = self.retrain(epochs=epochs)
        out["retrain"] = retrained
        if stop is not None and stop.is_set():
            out["stopped"] = True  # the version is registered and gated; not rolled out
            return out
        if retrained["gate"]["passed"]:
            out["rollout"] = self.rollout_start(
                retrained["candidate"],
                retrained["drifted"],
                broker=broker,
                key=key,
                expected_alarm_rate=retrained["gate"]["false_alarm_rate"],
                window_s=window_s,
            )
        return out

    def loop_watch(
        self,
        *,
        broker: str,
        seconds: float,
        key: Path | None = None,
        epochs: int = 8,
        window_s: float = 1.0,
        turns: int | None = None,
        stop: threading.Event | None = None,
        on_turn: Callable[[dict[str, Any]], None] | None = None,
    ) -> int:
        """Run turns of the loop (:meth:`loop_run`) one after the other until ``stop`` is set.

        A turn that fails (broker unreachable, retraining impossible) is reported with its
        ``error`` and the watch goes on after a pause; the fleet is left as it was. A rollout
        interrupted by a hard stop is resumable (``rollout resume``).

        Args:
            broker: The MQTT broker URL.
            seconds: Telemetry collected per turn.
            key: The signing key's PEM file.
            epochs: Training epochs.
            window_s: Seconds per device window.
            turns: Stop after this many turns (``None``: until ``stop``).
            stop: Set it to end the watch (the turn under way ends after its step).
            on_turn: Called with each turn's result (``turn`` numbers it, from 1).

        Returns:
            The turns run.

        """
        from tinyreg.core.errors import TinyregError

        stop = stop or threading.Event()
        done = 0
        while not stop.is_set() and (turns is None or done < turns):
            try:
                result = self.loop_run(
                    broker=broker,
                    seconds=seconds,
                    key=key,
                    epochs=epochs,
                    window_s=window_s,
                    stop=stop,
                )
            except TinyregError as exc:
                result = {"error": exc.message, "kind": type(exc).__name__}
                stop.wait(max(1.0, min(seconds, 10.0)))  # no tight loop on a lasting failure
            done += 1
            if on_turn is not None:
                on_turn({"turn": done, **result})
        return done
