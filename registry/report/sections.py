"""The report's sections, each described once as blocks (see :mod:`.blocks`).

One function per section reads the report's figures and says what the section shows:
inventory, compatibility matrix, memory against capacity, per-model figures, latency,
deployments. The HTML and Markdown writers render the same descriptions.
"""

from __future__ import annotations

from collections.abc import Callable

from tinyreg.registry.report.blocks import (
    Block,
    Cell,
    Collapsed,
    Figure,
    Note,
    Plot,
    Section,
    Subheading,
    Table,
    Text,
)
from tinyreg.registry.report.data import (
    BEST_BOARDS,
    ReportData,
    constraint_figures,
    deployment_stats,
    device_label,
    model_id,
    verdict_text,
)

__all__ = [
    "SECTIONS",
    "compatibility",
    "deployments",
    "inventory",
    "latency",
    "loop",
    "memory",
    "per_model",
    "sections",
]


def inventory(data: ReportData) -> Section:
    """How many of everything, then every device and every model with its figures."""
    summary = [
        ("models", len(data.models)),
        ("devices", len(data.devices)),
        ("model–device pairs", len(data.matches)),
        ("fitting pairs", sum(1 for m in data.matches if m.fits)),
        ("host benchmarks", len(data.benchmarks)),
        ("deployments", len(data.deployments)),
    ]
    blocks: list[Block] = [
        Table(["", "count"], [[Text(k), Figure(f"summary|{k}", v)] for k, v in summary]),
        Subheading("Devices"),
        _devices(data),
        Subheading("Models"),
        _models(data),
    ]
    return Section("inventory", "Fleet and model inventory", "Inventory", blocks)


def _devices(data: ReportData) -> Table:
    headers = [
        "device",
        "title",
        "core",
        "clock (Hz)",
        "RAM (B)",
        "RAM reserved (B)",
        "flash (B)",
        "flash reserved (B)",
        "sensors",
        "runtime",
    ]
    rows: list[list[Cell]] = []
    for d in data.devices:
        key = f"device|{d.id}|"
        rows.append(
            [
                Text(device_label(d.id)),
                Text(d.title),
                Text(d.core),
                Figure(key + "clock_hz", d.clock_hz),
                Figure(key + "ram_bytes", d.ram_bytes),
                Figure(key + "reserved_ram_bytes", d.reserved_ram_bytes),
                Figure(key + "flash_bytes", d.flash_bytes),
                Figure(key + "reserved_flash_bytes", d.reserved_flash_bytes),
                Text(", ".join(d.sensors)),
                Text(f"{d.runtime or ''} {d.runtime_version or ''}".strip()),
            ]
        )
    return Table(headers, rows)


def _models(data: ReportData) -> Table:
    headers = [
        "model",
        "name",
        "task",
        "quantization",
        "model size (B)",
        "arena (B)",
        "arena 32-bit est. (B)",
        "MACs",
        "parameters",
        "operator codes",
        "runnable",
    ]
    rows: list[list[Cell]] = []
    for m in data.models:
        key = f"model|{m.id}|"
        rows.append(
            [
                Text(m.id),
                Text(m.name),
                Text(m.task),
                Figure(key + "quantization", m.quantization, numeric=False),
                Figure(key + "model_bytes", m.model_bytes),
                Figure(key + "arena_bytes", m.arena_bytes),
                Figure(key + "arena_bytes_32bit_estimate", m.arena_bytes_32bit_estimate),
                Figure(key + "macs", m.macs),
                Figure(key + "parameters", m.parameters),
                Figure(key + "operator_codes", len(data.operators.get(m.iri, []))),
                Text("yes" if m.runnable else f"no: {m.reason}"),
            ]
        )
    return Table(headers, rows)


def compatibility(data: ReportData) -> Section:
    """The matrix of verdicts, every pair's figures, and which boards each model fits."""
    blocks: list[Block] = [
        Note(
            "Each cell is the matchmaker's verdict on the pair; a failing pair names every "
            "constraint it fails (RT runtime, R RAM, F flash, S sensors, O operators)."
        ),
        Plot("compatibility", "Compatibility matrix: models × boards."),
        Collapsed(
            "Every pair: verdict, memory figures, estimated latency, why not "
            f"({len(data.matches)} pairs)",
            _pairs(data),
            "data/pairs.csv",
        ),
        _fitting_boards(data),
        Subheading("Best boards per model"),
        Note(
            f"The first {BEST_BOARDS} fitting boards of each model as `tinyreg match --model` "
            "ranks them: boards that would emulate floats in software last, then by "
            "estimated latency (MACs × cycles per MAC of the core family ÷ clock: an "
            "estimate that ignores memory stalls and per-operator differences, so compare "
            "boards with it rather than trust it to the millisecond; deployments below "
            "measure the real figure), then by device id. RAM margin: the board's free RAM "
            "minus the model's need (arena measured by the TFLM runtime plus the runtime's "
            "own RAM); the arena is the 64-bit host figure, so the margin errs on the safe side."
        ),
        _best_boards(data),
    ]
    return Section("compatibility", "Compatibility matrix", "Compatibility", blocks)


def _best_boards(data: ReportData) -> Table:
    headers = [
        "model",
        "fitting boards",
        "best board",
        "its est. latency (ms)",
        "its RAM margin (B)",
        "next best",
    ]
    fitting: dict[str, int] = {}
    for match in data.matches:
        if match.fits:
            fitting[match.model] = fitting.get(match.model, 0) + 1
    rows: list[list[Cell]] = []
    for m in data.models:
        key = f"best|{m.id}|"
        ranked = data.best.get(m.iri, [])
        first = ranked[0] if ranked else None
        ram = (constraint_figures(first, "ram") or {}) if first is not None else {}
        margin = (
            ram["available"] - ram["required"]
            if ram.get("available") is not None and ram.get("required") is not None
            else None
        )
        rows.append(
            [
                Text(m.id),
                Figure(key + "fitting", fitting.get(m.iri, 0)),
                Figure(
                    key + "board",
                    device_label(first.device) if first else "no board fits",
                    numeric=False,
                    css="fits" if first else "fails",
                ),
                Figure(
                    key + "estimated_latency_ms",
                    first.verdict.estimated_latency_ms if first else None,
                ),
                Figure(key + "ram_margin_bytes", margin),
                Figure(
                    key + "next",
                    ", ".join(device_label(x.device) for x in ranked[1:]),
                    numeric=False,
                ),
            ]
        )
    return Table(headers, rows)


def _pairs(data: ReportData) -> Table:
    headers = [
        "model",
        "device",
        "verdict",
        "RAM need (B)",
        "RAM free (B)",
        "flash need (B)",
        "flash free (B)",
        "est. latency (ms)",
        "why not",
    ]
    rows: list[list[Cell]] = []
    for match in data.matches:
        ident = model_id(data, match.model)
        key = f"pair|{ident}|{match.device}|"
        ram = constraint_figures(match, "ram") or {}
        flash = constraint_figures(match, "flash") or {}
        css = "fits" if match.fits else "fails"
        rows.append(
            [
                Text(ident),
                Text(device_label(match.device)),
                Figure(key + "verdict", verdict_text(match), numeric=False, css=css),
                Figure(key + "ram_required", ram.get("required")),
                Figure(key + "ram_available", ram.get("available")),
                Figure(key + "flash_required", flash.get("required")),
                Figure(key + "flash_available", flash.get("available")),
                Figure(key + "estimated_latency_ms", match.verdict.estimated_latency_ms),
                Text("; ".join(c.detail for c in match.verdict.constraints if not c.passed)),
            ]
        )
    return Table(headers, rows)


def _fitting_boards(data: ReportData) -> Table:
    rows: list[list[Cell]] = []
    for m in data.models:
        boards = [device_label(x.device) for x in data.matches if x.model == m.iri and x.fits]
        rows.append([Text(m.id), Text(len(boards)), Text(", ".join(boards))])
    return Table(["model", "fitting boards", "boards"], rows, only="markdown")


def memory(data: ReportData) -> Section:
    """RAM and flash need as a share of each board's free memory."""
    note = (
        "RAM need is the measured tensor arena plus the runtime's own RAM; flash need is the "
        "model plus the runtime code of its operators for the board's core; free memory is "
        "capacity minus what the application reserves (figures of the matchmaker)."
    )
    blocks: list[Block] = [
        Note(note),
        Plot("ram_use", "RAM need against free RAM."),
        Plot("flash_use", "Flash need against free flash."),
    ]
    return Section("memory", "Memory against capacity", "Memory", blocks)


def per_model(data: ReportData) -> Section:
    """Arena, size, MACs and parameters by quantization, and each model's operator codes."""
    rows: list[list[Cell]] = []
    for m in data.models:
        text = ", ".join(
            f"{o['operator']} v{o['version']}" + (f" ×{o['uses']}" if o["uses"] else "")
            for o in data.operators.get(m.iri, [])
        )
        rows.append([Text(m.id), Text(m.quantization), Text(text)])
    blocks: list[Block] = [
        Plot("models", "Per model: arena, size, MACs, parameters."),
        Table(["model", "quantization", "operators (version × uses)"], rows),
    ]
    title = "Per model: operators, MACs, parameters, quantization"
    return Section("models", title, "Models", blocks)


def _estimate_provenance(data: ReportData) -> str:
    """Where the per-board latency estimates come from and how far off they can be."""
    estimated = [m.verdict for m in data.matches if m.verdict.estimated_latency_ms is not None]
    checked = sorted(
        {
            (v.latency_error_band, v.latency_basis or "")
            for v in estimated
            if v.latency_error_band is not None
        },
        key=lambda item: item[1],
    )
    text = (
        "Per-board estimates: the model's MACs × the core family's cycles per MAC ÷ the clock "
        "(kg_data/runtimes). "
    )
    for band, basis in checked:
        pairs = sum(1 for v in estimated if v.latency_basis == basis)
        text += (
            f"{pairs} pair(s) use figures checked against real boards, median error "
            f"{float(band or 0):.0%} on held-out published measurements ({basis}). "
        )
    unchecked = sum(1 for v in estimated if v.latency_error_band is None)
    if unchecked:
        text += (
            f"{unchecked} pair(s) use figures not checked against a board (estimates or "
            "instruction counts only): treat them as rough."
        )
    return text.strip()


def latency(data: ReportData) -> Section:
    """Host measurements (when any) and the estimated latency on every board."""
    blocks: list[Block] = []
    if data.benchmarks:
        first = data.benchmarks[0]
        note = (
            f"Host figures: the real TFLite Micro runtime ({first.runtime_name} "
            f"{first.runtime_version}) on {first.host_machine}, minimal arena, median of the "
            "timed inferences with random inputs (tinyreg bench). A host is much faster than "
            "a microcontroller: the per-board figures are the estimates below."
        )
        blocks += [
            Note(note),
            Plot("host_latency", "Host latency (TFLite Micro runtime)."),
            _benchmarks(data),
        ]
    else:
        blocks.append(
            Note("No host benchmark recorded yet: run `tinyreg bench MODEL` (or `--all`).")
        )
    blocks.append(Plot("estimated_latency", "Estimated inference latency per board."))
    blocks.append(Note(_estimate_provenance(data)))
    title = "Latency: measured on the host, estimated per board"
    return Section("latency", title, "Latency", blocks)


def _benchmarks(data: ReportData) -> Table:
    headers = [
        "model",
        "arena (B)",
        "load (ms)",
        "invoke median (ms)",
        "fastest (ms)",
        "slowest (ms)",
        "runs",
        "measured at",
    ]
    rows: list[list[Cell]] = []
    for b in data.benchmarks:
        ident = model_id(data, b.model)
        key = f"bench|{ident}|"
        rows.append(
            [
                Text(ident),
                Figure(key + "arena_bytes", b.arena_bytes),
                Figure(key + "load_ms", b.load_ms),
                Figure(key + "invoke_median_ms", b.invoke_median_ms),
                Figure(key + "invoke_min_ms", b.invoke_min_ms),
                Figure(key + "invoke_max_ms", b.invoke_max_ms),
                Figure(key + "runs", b.runs),
                Text(b.measured_at.isoformat(timespec="seconds")),
            ]
        )
    return Table(headers, rows)


def deployments(data: ReportData) -> Section:
    """Latency distributions and medians per pair, and every recorded deployment."""
    blocks: list[Block] = []
    if not data.deployments:
        blocks.append(Note("No deployment recorded."))
    else:
        blocks += [
            Plot("deployments", "Deployment latency distributions."),
            _deployment_medians(data),
            Collapsed(
                f"Every deployment ({len(data.deployments)})",
                _deployment_records(data),
                "data/deployments.csv",
            ),
        ]
    return Section("deployments", "Deployments", "Deployments", blocks)


def _deployment_medians(data: ReportData) -> Table:
    headers = [
        "model",
        "device",
        "deployments",
        "committed",
        "deploy median (ms)",
        "load median (ms)",
        "inference median (ms)",
    ]
    rows: list[list[Cell]] = []
    for row in deployment_stats(data.deployments):
        key = f"deployments|{row['model']}|{row['device']}|"
        rows.append(
            [
                Text(row["model"]),
                Text(device_label(row["device"])),
                Figure(key + "count", row["deployments"]),
                Figure(key + "committed", row["committed"]),
                Figure(key + "deploy_ms_median", row["deploy_ms_median"]),
                Figure(key + "load_ms_median", row["load_ms_median"]),
                Figure(key + "inference_ms_median", row["inference_ms_median"]),
            ]
        )
    return Table(headers, rows)


def _deployment_records(data: ReportData) -> Table:
    headers = [
        "started",
        "model",
        "version",
        "device",
        "outcome",
        "deploy (ms)",
        "load (ms)",
        "inference (ms)",
        "arena used (B)",
        "reason",
    ]
    rows: list[list[Cell]] = []
    for r in data.deployments:
        key = f"deployment|{r.id}|"
        rows.append(
            [
                Text(r.started.isoformat(timespec="seconds")),
                Text(r.model),
                Text(r.model_version),
                Text(device_label(r.device)),
                Figure(key + "outcome", r.outcome, numeric=False),
                Figure(key + "deploy_ms", r.deploy_ms),
                Figure(key + "load_ms", r.load_ms),
                Figure(key + "inference_ms", r.inference_ms),
                Figure(key + "arena_used_bytes", r.arena_used_bytes),
                Text(r.reason or ""),
            ]
        )
    return Table(headers, rows)


def loop(data: ReportData) -> Section:
    """The loop: scores over time with its events, latencies per device, false alarm rates."""
    blocks: list[Block] = []
    if data.loop is None:
        blocks.append(Note("No telemetry and no rollout recorded (`tinyreg loop run`)."))
        return Section("loop", "The loop (Tiny-MLOps)", "Loop", blocks)
    blocks += [
        Note(
            "Each window's anomaly score as the device reported it (telemetry, "
            "`docs/telemetry.md`), coloured by the model version it ran; drift onset from the "
            "simulation's ground truth when the windows carry it, detection from the first "
            "recorded drift assessment, retraining from the version's PROV activity, rollout "
            "and rollback from the rollout's recorded events."
        ),
        Plot("loop_scores", "Anomaly score over time per device, with the loop's events."),
        Subheading("False alarm rate before and after"),
        Note(
            "Gate: the running version and the candidate on the same held-out recent normal "
            "windows (the gate's record). Devices: each version's alarm rate at its own "
            "threshold on the windows it scored after drift was detected, faulty windows left "
            "out when the simulation says so; different windows per version, a rate from n "
            "windows is uncertain by about ±1/√n."
        ),
        _false_alarms(data),
        Subheading("Latency per device"),
        Note(
            "Deployment (transfer to verified image) and loading as the deployment recorded "
            "them (the device's latest committed deployment of that version); inference: "
            "median of the on-device TFLite Micro invoke times in the version's telemetry."
        ),
        _loop_devices(data),
    ]
    return Section("loop", "The loop (Tiny-MLOps)", "Loop", blocks)


def _false_alarms(data: ReportData) -> Table:
    from tinyreg.registry.report.loop import alarm_rates

    assert data.loop is not None
    rows: list[list[Cell]] = []
    for v in data.loop.versions:
        if v["false_alarm_rate"] is None:
            continue
        key = f"loop|gate|{v['model']}|"
        rows.append(
            [
                Text(f"gate of {v['model']}"),
                Figure(key + "baseline_false_alarm_rate", v["baseline_false_alarm_rate"]),
                Figure(key + "false_alarm_rate", v["false_alarm_rate"]),
                Figure(key + "passed", v["gate_passed"], numeric=False),
            ]
        )
    for r in alarm_rates(data.loop):
        key = f"loop|devices|{r['model']}|"
        rows.append(
            [
                Text(f"devices running {r['model']}"),
                Text(""),
                Figure(key + "alarm_rate", r["rate"]),
                Figure(key + "windows", r["windows"]),
            ]
        )
    return Table(["where", "before (running version)", "after / rate", "passed / windows"], rows)


def _loop_devices(data: ReportData) -> Table:
    from tinyreg.registry.report.loop import device_rows

    assert data.loop is not None
    rows: list[list[Cell]] = []
    for r in device_rows(data.loop, data.deployments):
        key = f"loop|device|{r['device']}|{r['model']}|"
        rows.append(
            [
                Text(device_label(r["device"])),
                Text(r["model"]),
                Figure(key + "windows", r["windows"]),
                Text(r["drift_found"] or ""),
                Figure(key + "deploy_ms", r["deploy_ms"]),
                Figure(key + "load_ms", r["load_ms"]),
                Figure(key + "inference_ms_median", r["inference_ms_median"]),
            ]
        )
    headers = [
        "device",
        "model",
        "windows",
        "drift found",
        "deploy (ms)",
        "load (ms)",
        "inference median (ms)",
    ]
    return Table(headers, rows)


SECTIONS: tuple[Callable[[ReportData], Section], ...] = (
    inventory,
    compatibility,
    memory,
    per_model,
    latency,
    deployments,
    loop,
)
"""Every section, in the order the report shows them."""


def sections(data: ReportData) -> list[Section]:
    """The report's sections, described."""
    return [describe(data) for describe in SECTIONS]
