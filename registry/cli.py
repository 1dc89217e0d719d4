"""The ``tinyreg`` command line: a thin shell over :class:`tinyreg.registry.Registry`.

Each command parses its options, calls one method of the service and formats the answer.
Models are named by their card id (``hello-world``) and devices by their Thing
Description's ``id`` (``urn:tinyreg:device:arduino-nano-33-ble-sense``), as ``tinyreg
list`` prints them, in every table, CSV and JSON answer (JSON adds ``model_iri`` and
``device_iri``). Warnings of the library (such as the same bytes registered under two ids)
go to stderr.

Exit codes: 0 success, 1 refused input (nothing written) or not found, 2 usage or
configuration error, 3 graph store failure (or MQTT broker unreachable), 4 a
deployment that did not commit on every device.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from tinyreg import __version__
from tinyreg.core.errors import TinyregError

BENCH_TARGETS = ("qemu-mps2-an386", "qemu-mps3-an547")
"""The emulated boards of ``bench --target`` (``tinyreg.firmware.target.TARGETS``, not imported
so that ``--help`` stays light; a test keeps them equal)."""

if TYPE_CHECKING:
    from tinyreg.core.stores import QueryResult
    from tinyreg.registry.reader import CatalogueReader
    from tinyreg.registry.service import Registry

__all__ = ["main"]

F = TypeVar("F", bound=Callable[..., Any])

FORMATS = click.Choice(["table", "json", "csv"])


def _echo(text: str = "") -> None:
    click.echo(text)


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Render rows as an aligned plain-text table."""
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    line = "  ".join(h.ljust(widths[i]) for i, h in enumerate(headers))
    out = [line.rstrip(), "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(widths[i]) for i, c in enumerate(row)).rstrip() for row in cells]
    return "\n".join(out)


def _csv_cell(value: Any) -> Any:
    """A value as CSV holds it: lists joined with ``;``, ``None`` empty."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return value


def _csv(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    return buffer.getvalue().rstrip("\n")


def _emit(
    fmt: str, headers: Sequence[str], rows: Sequence[Sequence[Any]], objects: list[dict[str, Any]]
) -> None:
    if fmt == "json":
        _echo(json.dumps(objects, indent=2))
    elif fmt == "csv":
        _echo(_csv(headers, rows))
    else:
        _echo(_table(headers, rows))


def _cell(value: Any) -> Any:
    """A value as a table shows it: numbers with separators, floats to 4 decimals, lists joined."""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.4f}".rstrip("0").rstrip(".")
    return value


def _emit_records(fmt: str, columns: Sequence[str], records: list[dict[str, Any]]) -> None:
    """Print records: the given columns in a table or CSV, every key in JSON."""
    if fmt == "table":
        rows = [[_cell(r[c]) for c in columns] for r in records]
    else:
        rows = [[r[c] for c in columns] for r in records]
    _emit(fmt, columns, rows, records)


def _bytes(n: int | None) -> str:
    return "" if n is None else f"{n:,}"


class _TaskChoice(click.Choice):
    """The model cards' task names, read when an option is parsed or helped."""

    def __init__(self) -> None:
        super().__init__([])

    @property  # type: ignore[override]
    def choices(self) -> tuple[str, ...]:
        from tinyreg.core.vocabulary import TASKS

        return tuple(TASKS)

    @choices.setter
    def choices(self, value: Any) -> None:
        """Ignored: the choices are the vocabulary's."""


def _match_dict(match: Any) -> dict[str, Any]:
    from tinyreg.registry.service import match_dict

    return match_dict(match)


class _WarningsToStderr(logging.Handler):
    """Library warnings on the command's stderr (looked up when written, as click does)."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(f"warning: {record.getMessage()}", err=True)


def _warnings_to_stderr() -> None:
    logger = logging.getLogger("tinyreg")
    if not any(isinstance(h, _WarningsToStderr) for h in logger.handlers):
        handler = _WarningsToStderr(logging.WARNING)
        logger.addHandler(handler)
    if logger.level == logging.NOTSET or logger.level > logging.WARNING:
        logger.setLevel(logging.WARNING)


class _Context:
    def __init__(self, store: str | None) -> None:
        self.location = store
        self._registry: Registry | None = None
        self._reader: CatalogueReader | None = None

    @property
    def reader(self) -> CatalogueReader | Registry:
        """What a reading command (``list``, ``show``) reads.

        The light reader of an embedded store when it can serve (no rdflib, no lock),
        else the service.
        """
        if self._reader is None and self._registry is None:
            from tinyreg.core.stores import default_store_path

            where = self.location or str(default_store_path())
            if "://" not in where:
                from tinyreg.registry.reader import CatalogueReader

                self._reader = CatalogueReader.open(Path(where).expanduser())
        return self._reader if self._reader is not None else self.registry

    @property
    def registry(self) -> Registry:
        if self._registry is None:
            # the service (graph store, rdflib) loads when a command needs it, so that
            # --help and --version start fast
            from tinyreg.core.stores import default_store_path
            from tinyreg.registry.service import Registry

            where = self.location or str(default_store_path())
            fresh = "://" not in where and not Path(where).exists()
            served = self._served(where)
            self._registry = served if served is not None else Registry.open(self.location)
            if fresh:  # a mistyped --store would otherwise pass unnoticed
                click.echo(
                    f"note: there was no store at {where}; a new, empty one was made there "
                    "(check --store or TINYREG_STORE)",
                    err=True,
                )
        return self._registry

    @staticmethod
    def _served(where: str) -> Registry | None:
        """The registry of a store a running ``tinyreg serve`` holds, through its credential."""
        if "://" in where:
            return None
        from tinyreg.registry.local import LocalCredential

        folder = Path(where).expanduser()
        credential = LocalCredential.read(folder)
        if credential is None:
            return None
        import os

        from tinyreg.registry.served import ServedRegistry

        models = os.environ.get("TINYREG_MODEL_STORE")
        return ServedRegistry(folder, credential, Path(models) if models else None)

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
        if self._registry is not None:
            self._registry.close()


pass_ctx = click.make_pass_decorator(_Context)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--store",
    envvar="TINYREG_STORE",
    metavar="DIR|URL",
    help="Graph store: a directory (embedded Oxigraph), or an http(s):// SPARQL endpoint. "
    "Default: a per-user directory (~/.local/share/tinyreg/store). Env: TINYREG_STORE.",
)
# the version from the package, not from its distribution metadata (importlib.metadata
# costs a tenth of a second to load); tests/test_cli.py checks that the two agree
@click.version_option(version=__version__, package_name="tinyreg")
@click.pass_context
def cli(ctx: click.Context, store: str | None) -> None:
    """tinyreg: a semantic registry of TinyML models and microcontroller devices.

    Register .tflite models (parsed, arena measured by the real TFLite Micro runtime) and
    devices (W3C WoT Thing Descriptions), then query the knowledge graph with SPARQL.
    Models are named by their card id (hello-world), devices by their TD id
    (urn:tinyreg:device:...), as `tinyreg list` prints them; commands also accept a
    device's short id (the part after urn:tinyreg:device:) or a model's or device's name.
    """
    _warnings_to_stderr()
    state = _Context(store)
    ctx.obj = state
    ctx.call_on_close(state.close)


@cli.group()
def add() -> None:
    """Register one model or one device."""


_INFER_HELP = (
    "Also run one inference with all-zero inputs at the minimal arena, so that "
    "'runnable' says Invoke works too (default: the runtime builds the model)."
)


@add.command("model")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--card",
    type=click.Path(path_type=Path),
    help="Model card (YAML/JSON); default: FILE's stem with .yaml/.yml/.json.",
)
@click.option("--id", "ident", help="Model id (slug); default: the card's id or the file stem.")
@click.option("--infer", is_flag=True, help=_INFER_HELP)
@pass_ctx
def add_model(
    state: _Context, file: Path, card: Path | None, ident: str | None, infer: bool
) -> None:
    """Register a .tflite model: parse, measure its arena, validate, store."""
    record = state.registry.add_model(file, card, ident=ident, infer=infer)
    status = (
        f"arena {_bytes(record.arena_bytes)} B"
        if record.runnable
        else f"NOT runnable on TFLM: {record.reason}"
    )
    _echo(
        f"registered model {record.id}: {record.name}, {_bytes(record.model_bytes)} B, "
        f"{_bytes(record.macs)} MACs, {status}"
    )


@add.command("device")
@click.argument("td", type=click.Path(path_type=Path))
@pass_ctx
def add_device(state: _Context, td: Path) -> None:
    """Register a device from its W3C WoT Thing Description (JSON-LD)."""
    record = state.registry.add_device(td)
    _echo(
        f"registered device {record.id}: {record.title}, RAM {_bytes(record.ram_bytes)} B, "
        f"flash {_bytes(record.flash_bytes)} B, sensors: {', '.join(record.sensors) or 'none'}"
    )


def _builtin_dir() -> Path:
    from importlib import resources

    return Path(str(resources.files("tinyreg.kg_data"))).resolve()


@cli.command("import")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--builtin",
    is_flag=True,
    help="Also import tinyreg's own starter graph (kg_data: boards and models).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option("--infer", is_flag=True, help=_INFER_HELP)
@pass_ctx
def import_cmd(
    state: _Context, paths: tuple[Path, ...], builtin: bool, quiet: bool, infer: bool
) -> None:
    """Register every model and device under PATHS (directories are searched recursively).

    Finds .tflite models (cards beside them or in a models_information.csv), Thing
    Descriptions (.jsonld, .td.json) and the seed project's Turtle device descriptions
    (.ttl, converted with the assumptions reported). Exit 1 if anything was refused.
    """
    targets = list(paths)
    if builtin:
        targets.insert(0, _builtin_dir())
    if not targets:
        raise click.UsageError("give a PATH to import, or --builtin")
    refused = 0
    for target in targets:
        progress = _Progress(f"import {target.name or target}", quiet)
        try:
            report = state.registry.import_path(
                target, progress=progress.step, on_total=progress.start, infer=infer
            )
        finally:
            progress.close()
        _echo(
            f"{target}: {len(report.models)} models, {len(report.devices)} devices registered, "
            f"{len(report.refused)} refused"
        )
        for note in report.notes:
            _echo(f"  assumed: {note}")
        for file, why in report.refused:
            click.echo(f"  refused {file}: {why}", err=True)
        refused += len(report.refused)
    if refused:
        sys.exit(1)


class _Progress:
    """A tqdm progress bar on stderr, created once the total is known."""

    def __init__(self, desc: str, quiet: bool) -> None:
        self.desc = desc
        self.quiet = quiet
        self.bar: Any = None

    def start(self, total: int) -> None:
        from tqdm import tqdm

        self.bar = tqdm(
            total=total, desc=self.desc, unit="file", disable=self.quiet, file=sys.stderr
        )

    def step(self, name: str) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(name[-30:])
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


MODEL_COLUMNS = [
    "id",
    "name",
    "version",
    "arena_bytes",
    "flash_bytes",
    "macs",
    "runnable",
    "reason",
]
DEVICE_COLUMNS = ["id", "title", "ram_bytes", "flash_bytes", "sensors"]


@cli.command("list")
@click.argument("kind", type=click.Choice(["models", "devices", "all"]), default="all")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@pass_ctx
def list_cmd(state: _Context, kind: str, fmt: str) -> None:
    """List registered models and/or devices.

    The id column is what every other command prints and accepts: a model's card id,
    a device's TD id. JSON keys (a public interface): models have id, iri, name,
    arena_bytes, flash_bytes, macs, runnable, reason (and more); devices have id, title,
    ram_bytes, flash_bytes, sensors (and more). CSV joins lists with ";".
    """
    reader = state.reader
    if kind == "all" and fmt == "json":
        models = [m.to_dict() for m in reader.list_models()]
        devices = [d.to_dict() for d in reader.list_devices()]
        _echo(json.dumps({"models": models, "devices": devices}, indent=2))
        return
    if kind in ("models", "all"):
        _emit_records(fmt, MODEL_COLUMNS, [m.to_dict() for m in reader.list_models()])
    if kind == "all" and fmt == "table":
        _echo()
    if kind in ("devices", "all"):
        _emit_records(fmt, DEVICE_COLUMNS, [d.to_dict() for d in reader.list_devices()])


@cli.command("show")
@click.argument("ident")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "turtle"]),
    default="table",
    show_default=True,
)
@pass_ctx
def show(state: _Context, ident: str, fmt: str) -> None:
    """Show one model or device (by id, short id or name).

    A model: its figures, operators, metric and its input and output tensors (shape,
    dtype, scale and zero point). A device: its figures, sensors with their parts and the
    operators its firmware offers.
    """
    if fmt == "turtle":
        reg = state.registry
        _echo(reg.export("turtle", reg.locate(ident)))
        return
    reader = state.reader
    data = reader.details(reader.locate(ident))
    if fmt == "json":
        _echo(json.dumps(data, indent=2))
        return
    lines = _show_lines(data)
    width = max(len(k) for k, _ in lines)
    for key, value in lines:
        _echo(f"{key.ljust(width)}  {value}".rstrip())


def _tensor_text(tensor: dict[str, Any]) -> str:
    """One tensor on a line: ``#0 name  int8 [1, 49, 10, 1]  scale 0.33 zero point 29``."""
    text = (
        f"#{tensor['index']} {tensor['name'] or '(unnamed)'}  {tensor['dtype']} {tensor['shape']}"
    )
    if tensor.get("quantization") == "per-tensor":
        text += f"  scale {tensor['scale']:.6g} zero point {tensor['zero_point']}"
    elif tensor.get("quantization"):
        text += (
            f"  {tensor['quantization']}: {tensor['channels']} scales along dimension "
            f"{tensor['quantized_dimension']}"
        )
    return text


def _show_lines(data: dict[str, Any]) -> list[tuple[str, str]]:
    """The key/value lines of ``tinyreg show`` as a table (lists and records spelled out)."""
    lines: list[tuple[str, str]] = []
    skip = {"sensor_parts", "sensor_list", "firmware_operators_declared"}
    for key, value in data.items():
        if key in skip:
            continue
        if key == "operators":
            text = ", ".join(f"{o['name']} v{o['version']}" for o in value)
        elif key == "metric" and isinstance(value, dict):
            text = f"{value.get('name')} = {_cell(value.get('value'))}"
        elif key in ("inputs", "outputs"):
            for number, tensor in enumerate(value):
                lines.append((key if number == 0 else "", _tensor_text(tensor)))
            continue
        elif key == "sensors" and "sensor_list" in data:
            text = ", ".join(
                f"{s['type']} ({s['part']})" if s["part"] else str(s["type"])
                for s in data["sensor_list"]
            )
            text = text or "none declared in the TD"
        elif key == "firmware_operators":
            if data.get("firmware_operators_declared") or not value:
                text = ", ".join(value) or "none known"
                text += f"  ({len(value)}, registered by the TD's firmware build)" if value else ""
            else:
                text = (
                    f"{len(value)}: every builtin operator of its runtime release "
                    "(the TD declares no fixed set; --format json lists them)"
                )
        else:
            cell = _cell(value)
            text = "" if cell is None else str(cell)
        lines.append((key, text))
    return lines


@cli.command("delete")
@click.argument("ident")
@pass_ctx
def delete(state: _Context, ident: str) -> None:
    """Delete a model or device and everything said of it."""
    _echo(f"deleted {state.registry.delete(ident)}")


def _result_table(result: QueryResult) -> tuple[list[str], list[list[Any]], list[dict[str, Any]]]:
    headers = list(result.variables)
    rows = [[(None if row.get(v) is None else str(row[v])) for v in headers] for row in result.rows]
    objects = [
        {v: (None if row.get(v) is None else _json_term(row[v])) for v in headers}
        for row in result.rows
    ]
    return headers, rows, objects


def _json_term(term: Any) -> Any:
    from rdflib import Literal

    if isinstance(term, Literal):
        value = term.toPython()
        if isinstance(value, bool | int | float | str):
            return value
        return str(term)
    return str(term)


@cli.command("query")
@click.argument("sparql", required=False)
@click.option(
    "--file",
    "-f",
    "file",
    type=click.Path(exists=True, path_type=Path),
    help="Read the query from a file.",
)
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@pass_ctx
def query(state: _Context, sparql: str | None, file: Path | None, fmt: str) -> None:
    """Run a SPARQL query over the registry (default graph = all registered resources).

    The prefixes tr:, td:, sosa:, ssn:, s3n:, schema:, rdf:, rdfs:, xsd:, owl:, prov:
    are predeclared. CONSTRUCT/DESCRIBE results are printed as Turtle.
    """
    if file is not None:
        sparql = file.read_text(encoding="utf-8")
    if not sparql:
        raise click.UsageError("give a SPARQL query or --file")
    result = state.registry.query(sparql)
    if result.kind == "ask":
        _echo(json.dumps({"boolean": result.boolean}) if fmt == "json" else str(result.boolean))
    elif result.kind == "graph":
        assert result.graph is not None
        _echo(result.graph.serialize(format="turtle"))
    else:
        headers, rows, objects = _result_table(result)
        _emit(fmt, headers, rows, objects)


@cli.command("check")
@click.option(
    "--owl/--no-owl",
    default=True,
    show_default=True,
    help="Also check OWL consistency of ontology + graph (owlready2 + HermiT, Java).",
)
@pass_ctx
def check_cmd(state: _Context, owl: bool) -> None:
    """Validate the whole graph: SHACL shapes, and OWL consistency with HermiT."""
    violations = state.registry.check()
    for v in violations:
        click.echo(f"SHACL: {v}", err=True)
    _echo(f"SHACL: {len(violations)} violation(s)")
    consistent = True
    if owl:
        from tinyreg.registry.reasoning import owl_consistency

        outcome = owl_consistency(state.registry.graph())
        consistent = outcome.consistent
        _echo(f"OWL: {outcome.summary}")
    if violations or not consistent:
        sys.exit(1)


MATCH_COLUMNS = (
    "rank",
    "model",
    "device",
    "fits",
    "latency_ms",
    "metric",
    "ram_margin",
    "flash_margin",
    "failed",
    "flags",
)


def _match_row(match: Any) -> dict[str, Any]:
    data = _match_dict(match)
    margins = {c["name"]: c["margin"] for c in data["constraints"]}
    return {
        "rank": data["rank"],
        "model": data["model"],
        "device": data["device"],
        "fits": "yes" if data["fits"] else "no",
        "latency_ms": (
            f"{data['estimated_latency_ms']:,.2f}"
            if data["estimated_latency_ms"] is not None
            else None
        ),
        "metric": data["metric"],
        "ram_margin": margins.get("ram"),
        "flash_margin": margins.get("flash"),
        "failed": data["failed"],
        "flags": data["flags"],
    }


@cli.command("match")
@click.option("--model", "model", metavar="ID", help="Devices that can run this model.")
@click.option("--device", "device", metavar="ID", help="Models that fit this device.")
@click.option("--all", "everything", is_flag=True, help="Every model-device pair.")
@click.option(
    "--all-verdicts", is_flag=True, help="Also list pairs that do not fit, with the reasons."
)
@click.option("--task", type=_TaskChoice(), help="Only models for this task.")
@click.option("--min-metric", type=float, help="Only models whose metric value is at least this.")
@click.option(
    "--max-latency",
    "max_latency",
    type=float,
    metavar="MS",
    help="A limit on the estimated latency, in milliseconds.",
)
@click.option("--text", help="Only models whose name, description or dataset contains this.")
@click.option("--dataset", help="Only models whose dataset contains this.")
@click.option(
    "--order",
    type=click.Choice(["rank", "metric"]),
    default="rank",
    show_default=True,
    help="With --device: rank (fit, latency, metric) or metric (best metric first).",
)
@click.option("--limit", type=click.IntRange(min=1), help="At most this many pairs.")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@pass_ctx
def match_cmd(
    state: _Context,
    model: str | None,
    device: str | None,
    everything: bool,
    all_verdicts: bool,
    task: str | None,
    min_metric: float | None,
    max_latency: float | None,
    text: str | None,
    dataset: str | None,
    order: str,
    limit: int | None,
    fmt: str,
) -> None:
    """Find compatible model-device pairs, ranked (fitting pairs first, then latency).

    Give exactly one of --model, --device or --all. Models and devices are named by the
    ids `tinyreg list` prints. JSON prints an array of pair objects: model, model_iri,
    device, device_iri, fits, estimated_latency_ms, failed, flags, and constraints (each
    with name, passed, required, available, unit, margin, detail).
    """
    if sum(x is not None and x is not False for x in (model, device, everything or None)) != 1:
        raise click.UsageError("give exactly one of --model ID, --device ID or --all")
    if model is not None and (task or min_metric is not None or text or dataset):
        raise click.UsageError(
            "--task, --min-metric, --text and --dataset filter models: "
            "use them with --device or --all"
        )
    matches = state.registry.match(
        model=model,
        device=device,
        everything=everything,
        all_verdicts=all_verdicts,
        task=task,
        min_metric=min_metric,
        max_latency_ms=max_latency,
        text=text,
        dataset=dataset,
        order=order,
        limit=limit,
    )
    if fmt == "json":
        _echo(json.dumps([_match_dict(m) for m in matches], indent=2))
        return
    _emit_records(fmt, MATCH_COLUMNS, [_match_row(m) for m in matches])


@cli.command("reindex")
@click.option("--all", "everything", is_flag=True, help="Drop the fit index and build it again.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@pass_ctx
def reindex_cmd(state: _Context, everything: bool, quiet: bool) -> None:
    """Bring the matchmaker's fit index up to date (after a bulk load), or rebuild it.

    Registering models and devices keeps the index up to date by itself; data loaded
    into the store around the registry is not in it until this runs. Until then the
    matchmaker answers from its verdict query over every pair (the same answers, slower).
    """
    from tqdm import tqdm

    with tqdm(desc="index", unit="model", disable=quiet, file=sys.stderr, delay=0.5) as bar:

        def step(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        indexed = state.registry.reindex(everything=everything, progress=step)
    if indexed is None:
        _echo("fit index: up to date")
        return
    _echo(f"fit index: {indexed} model(s) indexed; every model and profile covered")


@cli.command("explain")
@click.argument("model")
@click.argument("device")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@pass_ctx
def explain_cmd(state: _Context, model: str, device: str, fmt: str) -> None:
    """Explain the verdict on MODEL and DEVICE, constraint by constraint, with numbers."""
    match = state.registry.explain(model, device)
    if fmt == "json":
        _echo(json.dumps(_match_dict(match), indent=2))
    elif fmt == "csv":
        data = _match_dict(match)
        headers = ("name", "passed", "required", "available", "unit", "margin", "detail")
        _echo(_csv(headers, [[c[h] for h in headers] for c in data["constraints"]]))
    else:
        _echo(match.explain())


@cli.command("export")
@click.argument("ident", required=False)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["turtle", "json-ld", "nt", "td"]),
    default="turtle",
    show_default=True,
    help="td: the device's W3C WoT Thing Description as registered.",
)
@click.option("--out", "-o", type=click.Path(path_type=Path), help="Write to a file.")
@pass_ctx
def export(state: _Context, ident: str | None, fmt: str, out: Path | None) -> None:
    """Export one model/device (IDENT) or the whole registry."""
    text = state.registry.export(fmt, ident)
    if out is not None:
        out.write_text(text, encoding="utf-8")
        _echo(f"wrote {out}")
    else:
        _echo(text)


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option(
    "--store",
    "serve_store",
    metavar="DIR|URL",
    help="Graph store to serve (default: the global --store / TINYREG_STORE).",
)
@click.option(
    "--token",
    envvar="TINYREG_TOKEN",
    help="Bearer token that writes need. Env: TINYREG_TOKEN. Without one, writes are refused. "
    "WARNING: a token given here is visible to every user of the machine (ps); prefer "
    "--token-file or TINYREG_TOKEN.",
)
@click.option(  # security: a token that ps does not show
    "--token-file",
    envvar="TINYREG_TOKEN_FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File whose first line is the write token (instead of --token). Env: TINYREG_TOKEN_FILE.",
)
@click.option("--read-only", is_flag=True, default=None, help="Refuse every write.")
@click.option(
    "--cors-origin", "cors_origins", multiple=True, help="Origin allowed by CORS (repeatable)."
)
@click.option("--log-level", default="info", show_default=True)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Server processes on the port. One holds the store and takes every write; the "
    "others serve reads from the store opened read-only and forward the rest to it. "
    "Use the number of cores for throughput (2 on a 2-core machine).",
)
@pass_ctx
def serve(
    state: _Context,
    host: str,
    port: int,
    serve_store: str | None,
    token: str | None,
    token_file: Path | None,
    read_only: bool | None,
    cors_origins: tuple[str, ...],
    log_level: str,
    workers: int,
) -> None:
    """Serve the registry over HTTP (a W3C WoT Thing Description Directory and more).

    Routes: /things, /search/sparql, /events, /.well-known/wot, /models, /match,
    /reports/latest, /healthz, /readyz, /metrics. Other settings come from TINYREG_*
    environment variables. While it runs, `tinyreg add`, `list`, `match` and the other
    commands on the same store work: they read the store read-only and send writes to
    the server through the local credential file it keeps beside the store.
    """
    from tinyreg.registry.rest import Settings
    from tinyreg.registry.rest.serving import serve as run_server

    given: dict[str, Any] = {
        "store": serve_store or state.location,
        "token": token,
        "token_file": token_file,
        "read_only": read_only,
        "cors_origins": list(cors_origins) or None,
    }
    settings = Settings(**{k: v for k, v in given.items() if v is not None})
    if settings.token is None and not settings.read_only:
        click.echo(
            "no token given (--token-file, TINYREG_TOKEN or --token): writes are refused",
            err=True,
        )
    run_server(settings, host, port, workers, log_level)


@cli.group("device")
def device_group() -> None:
    """Run devices for over-the-air deployment: virtual ones, emulated boards, bridges."""


@device_group.command("run")
@click.option(
    "--target",
    type=click.Choice(["qemu-mps2-an386", "qemu-mps3-an547"]),
    help="Run each device as the C agent on an emulated board (QEMU) behind a serial "
    "bridge, instead of a virtual device; the firmware is built if needed.",
)
@click.option(
    "--td",
    "tds",
    multiple=True,
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Thing Description of a device (repeatable); RAM, flash, runtime and operators "
    "come from it.",
)
@click.option("--broker", required=True, metavar="URL", help="MQTT broker, mqtt://host:port.")
@click.option(
    "--public-key",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The registry's Ed25519 public key (PEM) the devices trust "
    "(written by `tinyreg deploy --export-public-key`).",
)
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("tinyreg-devices"),
    show_default=True,
    help="Flash slots and state, one directory per device.",
)
@click.option(
    "--replicas",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Devices per TD; with more than one, their ids are <id>-1 ... <id>-N.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    default=2,
    show_default=True,
    help="Worker processes that load and self-test received images (the devices are "
    "hosted in one process; its interpreter lock would stall them during inferences). "
    "0 self-tests in the devices' process (also the fallback where processes cannot be "
    "forked); workers end with the devices' process.",
)
@click.option(
    "--self-test-runs",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="Inferences of each self-test (their median is reported).",
)
@click.option(
    "--recovery-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A second public key (PEM) the devices accept for key rotation only; kept "
    "offline, it takes devices back after the signing key leaked.",
)
@click.option(
    "--sense",
    "sense_s",
    type=click.FloatRange(min=0.01),
    default=None,
    metavar="SECONDS",
    help="Sense a rotary machine: one vibration window every SECONDS, scored by the "
    "running model and published as telemetry (docs/telemetry.md).",
)
@click.option(
    "--drift-at",
    type=click.IntRange(min=0),
    default=None,
    metavar="WINDOW",
    help="With --sense: from this window on, the machines' operating conditions drift "
    "(heavier load, softer mounting, noisier sensor) over 3 windows.",
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="With --sense: the machines' seed."
)
def device_run(
    target: str | None,
    tds: tuple[Path, ...],
    broker: str,
    public_key: Path,
    state_dir: Path,
    replicas: int,
    workers: int,
    self_test_runs: int,
    recovery_key: Path | None,
    sense_s: float | None,
    drift_at: int | None,
    seed: int,
) -> None:
    """Run virtual devices (or emulated boards, --target) until interrupted.

    Each device enforces its TD's limits and runs models on the real TFLite Micro
    interpreter; a restarted device comes back on its last committed model. All devices
    live in one process; received images are loaded and self-tested in --workers worker
    processes before the device commits them. A key accepted by a signed rotation is kept
    in the state and wins over --public-key. Broker credentials: TINYREG_MQTT_USERNAME,
    TINYREG_MQTT_PASSWORD or TINYREG_MQTT_PASSWORD_FILE (mqtts:// for TLS).

    With --target, each device is the firmware agent on an emulated board: one QEMU per
    device (its flash image in the state directory), connected to the broker by a serial
    bridge (see `tinyreg device bridge`); --workers and --self-test-runs do not apply.
    """
    import signal
    import threading

    from tinyreg.core.protocol import load_public_key
    from tinyreg.firmware.fleet import Fleet, replicate
    from tinyreg.registry.limits import device_limits

    limits = [d for td in tds for d in replicate(device_limits(td), replicas)]
    if target is not None:
        if sense_s is not None:
            raise click.UsageError("--sense is for virtual devices, not with --target")
        _run_agents(target, broker, limits, state_dir, public_key, recovery_key)
        return
    sense = None
    if drift_at is not None and sense_s is None:
        raise click.UsageError("--drift-at needs --sense")
    if sense_s is not None:
        from tinyreg.firmware.sensing import SensingOptions
        from tinyreg.firmware.vibration import DRIFTED, Scenario

        scenario = Scenario(after=DRIFTED, onset=drift_at, ramp=3) if drift_at is not None else None
        sense = SensingOptions(
            period_s=sense_s,
            seed=seed,
            scenarios={d.device: scenario for d in limits} if scenario else {},
            raw_every=2,
        )
    fleet = Fleet(
        broker,
        limits,
        state_dir,
        load_public_key(public_key),
        workers=workers,
        self_test_runs=self_test_runs,
        recovery_key=load_public_key(recovery_key) if recovery_key else None,
        sense=sense,
    )
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    fleet.start()
    try:
        for device in fleet.devices.values():
            running = device.status.model
            text = f"{running} {device.status.version}" if running else "no model"
            _echo(f"{device.limits.device}: {text}")
        _echo(f"ready: {len(fleet.devices)} device(s) on {broker}")
        sys.stdout.flush()
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        fleet.stop()


def _run_agents(
    target: str,
    broker: str,
    limits: list[Any],
    state_dir: Path,
    public_key: Path,
    recovery_key: Path | None,
) -> None:
    import signal
    import threading

    from tinyreg.core.protocol import load_public_key
    from tinyreg.firmware.agents import AgentFleet

    fleet = AgentFleet(
        broker,
        limits,
        target,
        state_dir,
        load_public_key(public_key),
        load_public_key(recovery_key) if recovery_key else None,
    )
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    fleet.start()
    try:
        for device in fleet.devices.values():
            _echo(f"{device.limits.device}: {target}, serial on 127.0.0.1:{device.port}")
        _echo(f"ready: {len(fleet.devices)} device(s) on {broker}")
        sys.stdout.flush()
        while not done.wait(0.5):
            for device in fleet.devices.values():
                if device.process is not None and device.process.poll() is not None:
                    _echo(f"{device.limits.device}: the emulator stopped, restarting it")
                    device.start_qemu()
    except KeyboardInterrupt:
        pass
    finally:
        fleet.stop()


@device_group.command("bridge")
@click.option(
    "--serial",
    "line",
    required=True,
    metavar="tcp:HOST:PORT|PATH",
    help="The device's serial line: a TCP socket (QEMU's -serial tcp:...,server) or a "
    "device file (a pty, /dev/ttyACM0; set to raw mode).",
)
@click.option("--device", "device", required=True, metavar="ID", help="The device id (TD id).")
@click.option("--broker", required=True, metavar="URL", help="MQTT broker, mqtt://host:port.")
def device_bridge(line: str, device: str, broker: str) -> None:
    """Connect a device's framed serial line to its MQTT topics until interrupted.

    Messages on the device's manifest, cmd and chunk topics go to the line as frames; the
    device's answers (ack, result, status, inference) are published on its topics, so
    `tinyreg deploy` and the deployment records treat it like any other device. Torn or
    garbled frames are dropped and counted; a line that closes is opened again.
    """
    import signal
    import threading

    from tinyreg.firmware.bridge import Bridge, line_opener

    bridge = Bridge(broker, device, line_opener(line))
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    bridge.start()
    try:
        _echo(f"ready: {device} on {line} <-> {broker}")
        sys.stdout.flush()
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        bridge.stop()
        c = bridge.counters
        _echo(
            f"{c.to_device} frame(s) to the device, {c.from_device} from it; dropped: "
            f"{c.frames_dropped} garbled, {c.answers_dropped} not JSON, "
            f"{c.messages_dropped} too long"
        )


def _progress_line(step: Any) -> None:
    done = f"{step.chunks_done}/{step.chunks} chunks" if step.chunks else ""
    resent = f", {step.resent} resent" if step.resent else ""
    detail = f": {step.detail}" if step.detail else ""
    click.echo(f"  {step.device}  {step.stage:<11} {done}{resent}{detail}", err=True)


@cli.command("deploy")
@click.option("--model", metavar="ID", help="The model to deploy (id, IRI or name).")
@click.option(
    "--device", "devices", multiple=True, metavar="ID", help="A target device (repeatable)."
)
@click.option(
    "--fleet",
    is_flag=True,
    help="Every device the matchmaker pairs with the model, or those --where selects.",
)
@click.option(
    "--where",
    metavar="SPARQL|FILE",
    help="With --fleet: a SELECT query (or a .rq "
    "file) binding ?device; the matchmaker still checks each pair.",
)
@click.option("--broker", metavar="URL", help="MQTT broker, mqtt://host:port.")
@click.option(
    "--file",
    "image",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The model's .tflite (must be the registered one); default: the bytes the "
    "registry keeps, else found by digest in $TINYREG_MODEL_PATH and the starter models.",
)
@click.option(
    "--version",
    "version",
    help="Version to announce; default: the card's, else sha256:<12 hex digits>.",
)
@click.option(
    "--force", is_flag=True, help="Deploy pairs the matchmaker rejects, and allow downgrades."
)
@click.option(
    "--parallel",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="Devices served at the same time.",
)
@click.option(
    "--chunk-size",
    type=click.IntRange(min=64),
    default=1024,
    show_default=True,
    help="Bytes per chunk.",
)
@click.option(
    "--window",
    type=click.IntRange(min=1),
    default=32,
    show_default=True,
    help="Chunks between acknowledgements.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.5),
    default=30.0,
    show_default=True,
    help="Seconds without progress before a device counts as not answering.",
)
@click.option("--agent", help="Who deploys (recorded); default: the user name.")
@click.option(
    "--key",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="TINYREG_SIGNING_KEY",
    help="Ed25519 signing key (PEM), created if absent; default: signing-key.pem in "
    "the store's directory. Env: TINYREG_SIGNING_KEY.",
)
@click.option(
    "--export-public-key",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the signing key's public half (PEM) for devices.",
)
@click.option(
    "--rollback",
    is_flag=True,
    help="Instead of deploying: return the devices to their previous image (a signed "
    "command; recorded like a deployment).",
)
@click.option(
    "--rotate-key",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="NEW.pem",
    help="Instead of deploying: make the devices trust the key in NEW.pem (created if "
    "absent) instead of the current one, signed by the current one; then deploy with "
    "--key NEW.pem.",
)
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@pass_ctx
def deploy_cmd(
    state: _Context,
    model: str | None,
    devices: tuple[str, ...],
    fleet: bool,
    where: str | None,
    broker: str | None,
    image: Path | None,
    version: str | None,
    force: bool,
    parallel: int,
    chunk_size: int,
    window: int,
    timeout: float,
    agent: str | None,
    key: Path | None,
    export_public_key: Path | None,
    rollback: bool,
    rotate_key: Path | None,
    fmt: str,
) -> None:
    """Deploy a model over the air to devices, with live progress per device.

    Signed manifest, chunked transfer with acknowledgements and retransmission; each
    device verifies, loads and self-tests the model before it commits, and otherwise keeps
    its previous model. A pair the matchmaker rejects is refused unless --force. Running
    the same deployment again resumes unfinished transfers. Every outcome is recorded in
    the graph (see `tinyreg deployments`). Exit 4 if a device did not commit.

    Manifests and commands are signed for one device each, with sequence numbers the
    devices remember (a replay is refused). Broker credentials: TINYREG_MQTT_USERNAME,
    TINYREG_MQTT_PASSWORD or TINYREG_MQTT_PASSWORD_FILE (mqtts:// for TLS).
    """
    from tinyreg.core.errors import DeploymentError

    registry = state.registry
    if export_public_key is not None:
        registry.export_public_key(export_public_key, key)
        _echo(f"wrote public key {export_public_key}")
        if model is None and not rollback and rotate_key is None:
            return
    if rollback or rotate_key is not None:
        if broker is None or not devices or (rollback and rotate_key is not None):
            raise click.UsageError("--rollback or --rotate-key take --device ID and --broker")
        _commands(registry, broker, key, agent, timeout, devices, rotate_key, fmt)
        return
    if model is None or broker is None:
        raise click.UsageError("--model and --broker are required to deploy")
    if not devices and not fleet:
        raise click.UsageError("give --device ID (repeatable) or --fleet")
    query = Path(where).read_text("utf-8") if where and where.endswith(".rq") else where
    targets = registry.deploy_targets(model, devices, fleet=fleet, where=query or "")
    if not targets:
        raise click.UsageError("no device selected")
    click.echo(f"deploying {model} to {len(targets)} device(s) through {broker}", err=True)
    records = registry.deploy(
        model,
        targets,
        broker=broker,
        file=image,
        version=version,
        force=force,
        key=key,
        progress=_progress_line,
        agent=agent,
        chunk_size=chunk_size,
        window=window,
        parallel=parallel,
        timeout=timeout,
    )
    _emit_deployments(fmt, [r.to_dict() for r in records])
    bad = [r for r in records if r.outcome != "committed"]
    if bad:
        raise DeploymentError(
            f"{len(bad)} of {len(records)} device(s)",
            "not committed: " + ", ".join(f"{r.device} ({r.outcome})" for r in bad),
        )


def _commands(
    registry: Any,
    broker: str,
    key: Path | None,
    agent: str | None,
    timeout: float,
    devices: tuple[str, ...],
    rotate_key: Path | None,
    fmt: str,
) -> None:
    """``deploy --rollback`` and ``deploy --rotate-key``: signed commands to devices."""
    from tinyreg.core.errors import DeploymentError
    from tinyreg.core.protocol import key_id, load_or_create_key, public_key_bytes

    options = {"broker": broker, "key": key, "agent": agent, "timeout": timeout}
    if rotate_key is None:
        records = registry.rollback(list(devices), **options)
        _emit_deployments(fmt, [r.to_dict() for r in records])
        bad = [r.device for r in records if r.outcome != "committed"]
        missing = len(devices) - len(records)
    else:
        answers = registry.rotate_key(list(devices), rotate_key, **options)
        rows = [
            {"device": d, "outcome": a.get("outcome"), "reason": a.get("reason")}
            for d, a in answers.items()
        ]
        _emit_records(fmt, ["device", "outcome", "reason"], rows)
        new = key_id(public_key_bytes(load_or_create_key(rotate_key)))
        click.echo(f"new key {new} in {rotate_key}", err=True)
        bad = [d for d, a in answers.items() if a.get("outcome") != "done"]
        missing = 0
    if bad or missing:
        raise DeploymentError(
            f"{len(bad) + missing} of {len(devices)} device(s)",
            "not done: " + ", ".join(bad or ["no answer"]),
        )


_DEPLOYMENT_COLUMNS = [
    "device",
    "model",
    "model_version",
    "outcome",
    "deploy_ms",
    "load_ms",
    "inference_ms",
    "arena_used_bytes",
    "reason",
]


def _emit_deployments(fmt: str, records: list[dict[str, Any]]) -> None:
    _emit_records(fmt, _DEPLOYMENT_COLUMNS, records)


@cli.command("deployments")
@click.option("--model", metavar="ID", help="Only deployments of this model.")
@click.option("--device", metavar="ID", help="Only deployments to this device.")
@click.option(
    "--running", is_flag=True, help="What runs where: each device's latest committed deployment."
)
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@pass_ctx
def deployments_cmd(
    state: _Context, model: str | None, device: str | None, running: bool, fmt: str
) -> None:
    """List recorded deployments, oldest first (or, with --running, what runs where).

    With --running, each device's latest committed deployment (of --model, if given).
    JSON keys: model and device (the ids `tinyreg list` prints), model_iri, device_iri,
    model_version, outcome, started, ended, agent and the device's figures.
    """
    records = state.registry.deployments(model=model, device=device, running=running)
    columns = ["started", "agent", *_DEPLOYMENT_COLUMNS]
    _emit_records(fmt, columns, [r.to_dict() for r in records])


@cli.command("bench")
@click.argument("models", nargs=-1, metavar="MODEL...")
@click.option("--all", "every", is_flag=True, help="Every registered model the runtime runs.")
@click.option(
    "--file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The .tflite of MODEL (one model only); default: the bytes the registry keeps.",
)
@click.option(
    "--search",
    multiple=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A folder to find models registered before the registry kept their bytes "
    "(repeatable); $TINYREG_MODEL_PATH and kg_data are searched too.",
)
@click.option("--runs", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random inputs.")
@click.option(
    "--device",
    metavar="ID",
    help="Also show the matchmaker's verdict and estimated latency on this device.",
)
@click.option(
    "--target",
    type=click.Choice(BENCH_TARGETS),
    help="Run on the firmware agent on this emulated board (QEMU) instead of the host: "
    "minimal 32-bit arena, instructions (not cycles) to load and per inference, code bytes, "
    "output hash for the zero-point input.",
)
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@pass_ctx
def bench_cmd(
    state: _Context,
    models: tuple[str, ...],
    every: bool,
    file: Path | None,
    search: tuple[Path, ...],
    runs: int,
    seed: int,
    device: str | None,
    target: str | None,
    fmt: str,
    quiet: bool,
) -> None:
    """Measure MODEL with the real TFLite Micro runtime; store it in the graph.

    Minimal arena, load time (median of 5 interpreter builds) and invoke time (median of
    --runs inferences with random inputs of each input's dtype and shape). The result
    replaces the model's previous host benchmark and appears in reports and SPARQL
    (tr:HostBenchmark). Host figures are not a board's: --device adds the matchmaker's
    estimate for a board.

    With --target, the firmware agent runs MODEL on an emulated Cortex-M board (QEMU,
    -icount shift=0) and the result is stored as a tr:TargetBenchmark beside the host one:
    the minimal arena on the 32-bit target, instructions (not cycles) to load the model and
    per inference, the firmware's code bytes, and the SHA-256 of the outputs for the
    zero-point input. A model the firmware refuses is reported with the reason, not stored,
    and the exit code is 1.
    """
    from tqdm import tqdm

    if every and models:
        raise click.UsageError("give MODEL names or --all, not both")
    if not every and not models:
        raise click.UsageError("give a MODEL to measure, or --all")
    if file is not None and (every or len(models) != 1):
        raise click.UsageError("--file goes with exactly one MODEL")
    bar = tqdm(desc="bench", unit="model", disable=quiet, file=sys.stderr)

    def start(total: int) -> None:
        bar.total = total
        bar.refresh()

    def step(ident: str) -> None:
        bar.set_postfix_str(ident[-30:])
        bar.update(1)

    try:
        outcome = state.registry.bench(
            models,
            every=every,
            file=file,
            search=search,
            runs=runs,
            seed=seed,
            device=device,
            target=target,
            on_total=start,
            progress=step,
        )
    finally:
        bar.close()
    if target is not None:
        columns = ["model", "target", "arena_bytes", "init_instructions"]
        columns += ["inference_instructions", "code_bytes", "output_sha256"]
    else:
        columns = ["model", "arena_bytes", "load_ms", "invoke_median_ms", "invoke_min_ms", "runs"]
    if device:
        columns += ["device", "fits", "estimated_latency_ms"]
    _emit_records(fmt, columns, [r.to_dict() for r in outcome.results])
    if target is not None and fmt != "json":
        click.echo(
            "instruction counts are instructions, not cycles (QEMU -icount shift=0)", err=True
        )
    for ident, why in outcome.failed:
        click.echo(f"  not measured {ident}: {why}", err=True)
    if outcome.failed:
        sys.exit(1)


@cli.command("report")
@click.option(
    "--out",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("tinyreg-report"),
    show_default=True,
    help="Folder to write report.html, report.md, report.json, plots/ and data/ into.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@pass_ctx
def report_cmd(state: _Context, out: Path, quiet: bool) -> None:
    """Write the registry's report: a self-contained HTML page, Markdown with PNG plots, CSV/JSON.

    Sections: fleet and model inventory, compatibility matrix, memory against capacity,
    per-model operators/MACs/parameters/quantization, host latency (tinyreg bench) and
    estimated latency per board, and the recorded deployments.
    """
    from tqdm import tqdm

    from tinyreg.registry.report import REPORT_STEPS

    with tqdm(
        total=REPORT_STEPS, desc="report", unit="step", disable=quiet, file=sys.stderr
    ) as bar:

        def step(name: str) -> None:
            bar.set_postfix_str(name)
            bar.update(1)

        files = state.registry.report(out, progress=step)
    _echo(f"wrote {files.html} (self-contained HTML)")
    _echo(f"wrote {files.markdown} with {len(files.plots)} plots in {out / 'plots'}")
    _echo(f"wrote {files.json} and {len(files.csv)} CSV files in {out / 'data'}")


# ---------------------------------------------------------------------------------- the loop

_BROKER = click.option(
    "--broker", required=True, metavar="URL", help="MQTT broker, mqtt://host:port."
)
_KEY = click.option(
    "--key",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="TINYREG_SIGNING_KEY",
    help="Ed25519 signing key (PEM); default: signing-key.pem in the store's directory.",
)
_FORMAT = click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)


@cli.group()
def telemetry() -> None:
    """Device telemetry (docs/telemetry.md)."""


@telemetry.command("collect")
@_BROKER
@click.option("--seconds", type=click.FloatRange(min=0), default=60.0, show_default=True)
@click.option("--bucket", "bucket_s", type=click.FloatRange(min=0.1), default=10.0)
@pass_ctx
def telemetry_collect(state: _Context, broker: str, seconds: float, bucket_s: float) -> None:
    """Ingest telemetry from the broker for a while; print the counters as JSON."""
    result = state.registry.telemetry_collect(broker, seconds=seconds, bucket_s=bucket_s)
    _echo(json.dumps(result, indent=2, default=str))


TELEMETRY_COLUMNS = ["device", "window", "model", "version", "score", "verdict", "inference_ms"]


@telemetry.command("show")
@click.option("--device", help="One device's latest windows (default: each device's latest).")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@_FORMAT
@pass_ctx
def telemetry_show(state: _Context, device: str | None, limit: int, fmt: str) -> None:
    """The windows kept of the devices' telemetry."""
    rows = [r.to_dict() for r in state.registry.telemetry_show(device, limit=limit)]
    for r in rows:
        r.pop("input", None)
        r.pop("raw", None)
    _emit_records(fmt, TELEMETRY_COLUMNS, rows)


DRIFT_COLUMNS = ["device", "model", "version", "kind", "mean_psi", "ks", "envelope_ratio", "reason"]


@cli.group()
def drift() -> None:
    """Drift of devices against their own baselines (docs/loop.md)."""


@drift.command("check")
@click.option("--device", "devices", multiple=True, help="A device (repeatable; default: all).")
@_FORMAT
@pass_ctx
def drift_check(state: _Context, devices: tuple[str, ...], fmt: str) -> None:
    """Test devices for drift on the model version they run; record the assessments."""
    results = state.registry.drift_check(devices)
    _emit_records(fmt, DRIFT_COLUMNS, [r.to_dict() for r in results])


@drift.command("establish")
@click.option("--model", required=True, metavar="ID", help="The model (a vibration autoencoder).")
@pass_ctx
def drift_establish(state: _Context, model: str) -> None:
    """Make a model version 1 of its family: its threshold and training reference.

    The drift test and the gate read them; a model has to be established before the loop
    watches the devices that run it (docs/loop.md).
    """
    reference = state.registry.establish_version(model)
    _echo(json.dumps({"model": model, "version": 1, "threshold": reference["threshold"]}))


@cli.command("retrain")
@click.option("--device", "devices", multiple=True, help="A device (repeatable; default: all).")
@click.option("--epochs", type=click.IntRange(min=1), default=8, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@pass_ctx
def retrain_cmd(state: _Context, devices: tuple[str, ...], epochs: int, seed: int) -> None:
    """Retrain on drifted devices' windows, register the version with lineage, gate it."""
    result = state.registry.retrain(devices, epochs=epochs, seed=seed)
    _echo(json.dumps(result, indent=2, default=str))


ROLLOUT_COLUMNS = ["id", "model", "version", "status", "next_wave", "waves"]


def _rollout_rows(states: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "id": s["id"],
            "model": s["model"],
            "version": s["version"],
            "status": s["status"],
            "next_wave": s["next_wave"],
            "waves": "/".join(str(len(w)) for w in s["waves"]),
        }
        for s in states
    ]


@cli.group()
def rollout() -> None:
    """Staged rollouts: canary, then waves; halts and rolls back by itself (docs/loop.md)."""


@rollout.command("start")
@click.option("--model", required=True, help="The version (id, family@N, or family: gated).")
@click.option("--device", "devices", multiple=True, required=True, help="Repeatable.")
@_BROKER
@_KEY
@click.option("--expected-alarm-rate", type=click.FloatRange(0, 1), default=0.0)
@click.option("--window", "window_s", type=click.FloatRange(min=0.01), default=1.0)
@click.option("--plan-only", is_flag=True, help="Plan it; run it with rollout resume.")
@pass_ctx
def rollout_start(
    state: _Context,
    model: str,
    devices: tuple[str, ...],
    broker: str,
    key: Path | None,
    expected_alarm_rate: float,
    window_s: float,
    plan_only: bool,
) -> None:
    """Roll a model version out in waves; print its state as JSON."""
    result = state.registry.rollout_start(
        model,
        devices,
        broker=broker,
        key=key,
        expected_alarm_rate=expected_alarm_rate,
        window_s=window_s,
        run=not plan_only,
    )
    _echo(json.dumps(result, indent=2, default=str))


@rollout.command("status")
@click.argument("ident", required=False)
@_FORMAT
@pass_ctx
def rollout_status(state: _Context, ident: str | None, fmt: str) -> None:
    """A rollout's state with its events (JSON), or every rollout."""
    states = state.registry.rollout_status(ident)
    if fmt == "json":
        _echo(json.dumps(states if ident is None else states[0], indent=2, default=str))
        return
    _emit_records(fmt, ROLLOUT_COLUMNS, _rollout_rows(states))


@rollout.command("halt")
@click.argument("ident")
@click.option("--reason", default="halted by hand", show_default=True)
@pass_ctx
def rollout_halt(state: _Context, ident: str, reason: str) -> None:
    """Stop a rollout before its next wave."""
    result = state.registry.rollout_halt(ident, reason)
    _echo(json.dumps(result, indent=2, default=str))


@rollout.command("resume")
@click.argument("ident")
@_BROKER
@_KEY
@click.option("--window", "window_s", type=click.FloatRange(min=0.01), default=1.0)
@pass_ctx
def rollout_resume(
    state: _Context, ident: str, broker: str, key: Path | None, window_s: float
) -> None:
    """Run a planned or interrupted rollout on from its recorded state."""
    result = state.registry.rollout_resume(ident, broker=broker, key=key, window_s=window_s)
    _echo(json.dumps(result, indent=2, default=str))


@cli.group("loop")
def loop_group() -> None:
    """The whole loop unattended."""


@loop_group.command("run")
@_BROKER
@_KEY
@click.option("--seconds", type=click.FloatRange(min=0), default=60.0, show_default=True)
@click.option("--epochs", type=click.IntRange(min=1), default=8, show_default=True)
@click.option("--window", "window_s", type=click.FloatRange(min=0.01), default=1.0)
@click.option(
    "--watch",
    is_flag=True,
    help="Run turn after turn, one JSON line each, until Ctrl-C (or --turns).",
)
@click.option(
    "--turns", type=click.IntRange(min=1), default=None, help="With --watch: stop after N turns."
)
@pass_ctx
def loop_run(
    state: _Context,
    broker: str,
    key: Path | None,
    seconds: float,
    epochs: int,
    window_s: float,
    watch: bool,
    turns: int | None,
) -> None:
    """One turn: collect telemetry, test drift, retrain and gate, roll out if it passed.

    With --watch, turns follow each other until interrupted: the first Ctrl-C (or SIGTERM)
    ends the turn under way after its step (the collection at once, what arrived written)
    and exits 0; a second one stops at once (a rollout it cut is resumable with
    `tinyreg rollout resume`).
    """
    if not watch:
        if turns is not None:
            raise click.UsageError("--turns needs --watch")
        result = state.registry.loop_run(
            broker=broker, seconds=seconds, key=key, epochs=epochs, window_s=window_s
        )
        _echo(json.dumps(result, indent=2, default=str))
        return
    import signal
    import threading

    stop = threading.Event()
    previous: dict[signal.Signals, Any] = {}

    def first_stop(signum: int, frame: object) -> None:
        stop.set()
        click.echo("stopping after the step under way (again to stop now)", err=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)  # a second signal stops at once

    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, first_stop)
    try:
        done = state.registry.loop_watch(
            broker=broker,
            seconds=seconds,
            key=key,
            epochs=epochs,
            window_s=window_s,
            turns=turns,
            stop=stop,
            on_turn=lambda result: _echo(json.dumps(result, default=str)),
        )
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo(f"watched {done} turn(s)", err=True)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``tinyreg`` console script."""
    try:
        cli.main(args=list(argv) if argv is not None else None, standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except TinyregError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
