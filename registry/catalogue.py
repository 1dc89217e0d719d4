"""The catalogue: models and devices over one graph store, and the models' bytes.

:class:`Catalogue` registers, lists, resolves, exports and deletes models and devices; it is
what the layers above it (the directory, the deployer, the report, the matchmaker) receive.
The public service, :class:`tinyreg.registry.Registry`, is a catalogue plus the use cases
built on it. Each registered model or device lives in its own named graph (the graph name
is the resource's IRI), so registering again replaces it atomically and deleting removes
all of it. A model's bytes are kept content-addressed (:mod:`tinyreg.registry.blobs`).

>>> with Catalogue.open(in_memory=True) as catalogue:
...     catalogue.list_models()
[]
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, Self

from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from tinyreg.core.errors import (
    ConflictError,
    InputError,
    ModelFileError,
    NotFoundError,
    QueryError,
    ThingDescriptionError,
)
from tinyreg.core.namespaces import MODEL_PREFIX, OP, PREFIXES, TR, model_iri
from tinyreg.core.queries import load_query, with_values
from tinyreg.core.sparql_text import friendly_syntax_error, relocate_error, with_prefixes
from tinyreg.core.stores import GraphStore, QueryResult, default_store_path, open_store
from tinyreg.matchmaker.dialect import filtered_for_virtuoso
from tinyreg.matchmaker.fits import FitIndex, fits_graph_name
from tinyreg.ontology import ontology_graph
from tinyreg.registry.bench import benchmark_iri
from tinyreg.registry.blobs import (
    MODEL_STORE_ENV,
    DirectoryBlobs,
    FoundModel,
    MemoryBlobs,
    ModelBlobs,
    find_model,
    model_path_folders,
)
from tinyreg.registry.cards import ModelCard, load_card, parse_card, seed_cards, slugify
from tinyreg.registry.deployments import DeploymentRecord, list_deployments, record_deployment
from tinyreg.registry.ids import check_model_id
from tinyreg.registry.profile import PROFILE_PREFIX, profile_facts, profile_graph
from tinyreg.registry.records import (
    DeviceRecord,
    ModelRecord,
    device_details,
    device_records,
    iri_like,
    locate_id,
    model_records,
    model_tensors,
    resolve_id,
)
from tinyreg.registry.reference import (
    ONTOLOGY_IRI,
    REFERENCE_FOLDER,
    reference_texts,
    text_digest,
)
from tinyreg.registry.requirements import (
    TABLES_QUERY,
    OperatorUse,
    ReleaseTable,
    release_tables,
    requirements_graph,
    requirements_triples,
)

if TYPE_CHECKING:
    from tinyreg.core.arena import ArenaMeasurement
    from tinyreg.core.tflite import ModelInfo
    from tinyreg.registry.model_rdf import ModelDescription
    from tinyreg.registry.validate import LeanCheck

__all__ = [
    "Catalogue",
    "DeviceRecord",
    "ImportReport",
    "ModelRecord",
    "ThingGraphs",
]

CARD_SUFFIXES = (".yaml", ".yml", ".json")
SEED_CARDS_FILE = "models_information.csv"
IMPORT_BATCH = 64
"""Most models :meth:`Catalogue.import_path` validates together and writes in one step.

Batches start at :data:`IMPORT_FIRST_BATCH` and double up to this size. An on-disk store
writes a batch of new models with its bulk loader, ~15 ms a call plus ~4.6 µs a triple (see
:data:`~tinyreg.core.stores.oxigraph_store.BULK_WRITE_TRIPLES`), so larger batches cost
less CPU; on two cores that mattered more than overlapping a small first batch's write with
the next files' parse. Measured: the 23 seed models in one batch, 268 ms (median of 6),
against 290 ms as 8 + 15 and 341 ms as 4 + 8 + 11; the 1,000-model corpus at 120-130
models/s for 32 + 64 + ..., within the runs' spread of 8 + 16 + 32 + ... ."""
IMPORT_FIRST_BATCH = 32
"""The size of an import's first batch of models (see :data:`IMPORT_BATCH`)."""
IMPORT_LOOKAHEAD = 1024
"""Most parsed models :meth:`Catalogue.import_path` keeps waiting for their arena.

The import parses on while the arena worker is behind, up to this many models or
:data:`IMPORT_LOOKAHEAD_BYTES` of them, whichever comes first; then it waits for a batch.
Models whose inference is slow (the larger convolutional ones) often come together in a
folder, and the worker then has more to do than the import's other threads: parsing ahead
keeps the second core busy meanwhile. Measured on the 1,000-model corpus with two batches
ahead (128 models) at most: the process kept 0.1-0.3 cores busy for ~1.2 s of an ~8 s
import while the worker measured the convolutional variants; with this limit it parsed on."""
IMPORT_LOOKAHEAD_BYTES = 64 * 1024 * 1024
"""Most bytes of parsed models an import keeps waiting for their arena (see above)."""
MODELS_FOLDER = "models"
log = logging.getLogger("tinyreg.registry")


def model_id(iri: str) -> str:
    """A model IRI as the id ``list`` prints (the card id).

    >>> model_id("https://w3id.org/tinyreg/model/hello-world")
    'hello-world'
    """
    return iri.removeprefix(MODEL_PREFIX)


def _default_blobs(store: GraphStore) -> ModelBlobs:
    """``models/`` in an embedded store's directory, else memory."""
    label = Path(store.label)
    if "://" not in store.label and label.is_dir():
        return DirectoryBlobs(label / MODELS_FOLDER)
    return MemoryBlobs()


def _py(term: Node | None) -> Any:
    """An RDF term as a plain Python value (IRIs as strings)."""
    if term is None:
        return None
    if isinstance(term, Literal):
        return term.toPython()
    return str(term)


def _plain(rows: Iterable[Mapping[str, Node]]) -> list[dict[str, Any]]:
    """Query rows with every term a plain Python value (see :func:`_py`)."""
    return [{name: _py(term) for name, term in row.items()} for row in rows]


@dataclass(frozen=True)
class ThingGraphs:
    """A validated Thing Description, as the graphs to write (see ``describe_thing``).

    Attributes:
        iri: The Thing's IRI (the TD's ``id``).
        graphs: The graphs to write in one transaction, by graph name: the Thing's own
            graph under its IRI and, for a device, its profile's graph.
        device: Whether the TD describes a tinyreg device (typed ``tr:Device``, with a
            profile, seen by ``list_devices`` and the matchmaker); otherwise it is a plain
            ``td:Thing``.

    """

    iri: str
    graphs: dict[str, Graph]
    device: bool


@dataclass
class _PreparedModel:
    """A parsed and measured model, described and lean-checked, not yet decided or written.

    ``text`` is the model's graph as N-Triples: its description with the triples derived
    from the runtime release tables (see :func:`~tinyreg.registry.requirements.requirements_graph`).
    ``kept`` says whether its bytes are kept already.
    """

    ident: str
    iri: str
    description: ModelDescription
    info: ModelInfo
    arena: ArenaMeasurement
    data: bytes
    check: LeanCheck
    text: str
    kept: bool = False


@dataclass
class _ParsedModel:
    """A read and parsed model with its card and id, not yet measured."""

    ident: str
    label: str
    data: bytes
    info: ModelInfo
    card: ModelCard

    def described(self, arena: ArenaMeasurement, tables: Sequence[ReleaseTable]) -> _PreparedModel:
        """The model described with its arena measurement, lean-checked, as N-Triples.

        The lean check (:func:`~tinyreg.registry.validate.lean_check`) reads the
        description alone; the derived triples are added after it, as they are not the
        model's own statements.
        """
        from tinyreg.registry.model_rdf import describe_model
        from tinyreg.registry.validate import lean_check

        description = describe_model(self.ident, self.info, arena, self.card)
        check = lean_check(description.iri, description.triples)
        uses = [
            OperatorUse(code.label, code.version, code.is_custom)
            for code in self.info.operator_codes
        ]
        description.add_graph(requirements_triples(description.iri, uses, tables))
        return _PreparedModel(
            self.ident,
            description.iri,
            description,
            self.info,
            arena,
            self.data,
            check,
            description.text(),
        )


class _ImportState:
    """What one bulk import keeps across its batches, and its writer thread.

    :meth:`write` runs a batch's write on a thread of its own, after the batch before
    it (one at a time, in order), so that parsing and describing the next batch goes on
    meanwhile (Oxigraph releases the interpreter lock while it writes). Leaving the
    ``with`` block waits for the last write and raises its error, if any.
    """

    def __init__(self) -> None:
        self.shas: dict[str, str] = {}  # SHA-256 → the first model with those bytes
        self.runtimes: set[str] = set()  # runtime graphs written or queued
        self.batch = IMPORT_FIRST_BATCH  # models in the next batch; doubles to IMPORT_BATCH
        self._pool: Any = None
        self._last: Any = None

    def write(self, function: Callable[..., None], *args: Any) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.wait()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-writer")
        self._last = self._pool.submit(function, *args)

    def wait(self) -> None:
        """Wait for the write in flight; raise its error."""
        last, self._last = self._last, None
        if last is not None:
            last.result()

    def __enter__(self) -> _ImportState:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.wait()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)


@dataclass
class ImportReport:
    """The outcome of a bulk import: what was registered and what was refused."""

    models: list[str] = field(default_factory=list)
    devices: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing was refused."""
        return not self.refused


class Catalogue:
    """The models and devices registered in one graph store, and the models' bytes.

    Args:
        store: An open graph store (see :func:`tinyreg.core.stores.open_store`).
        blobs: Where models' bytes are kept; default: ``models/`` in an embedded store's
            directory, else in memory.

    """

    def __init__(self, store: GraphStore, blobs: ModelBlobs | None = None) -> None:
        self.store = store
        self.blobs = blobs if blobs is not None else _default_blobs(store)
        self.fits = FitIndex(store)
        self._tables: list[ReleaseTable] | None = None
        self._ensure_ontology()

    def _ensure_ontology(self) -> None:
        """Keep the ontology and the reference tables in the store, each in its own graph.

        Queries can then follow the class hierarchy (``rdfs:subClassOf``,
        ``tr:provides``) and join runtime and core tables (operator support, code sizes,
        cycles per MAC). A graph is refreshed when its file changes.
        """
        tables_changed = False
        for name, text in reference_texts().items():
            digest = text_digest(text)
            stored = self.store.select(
                "SELECT ?v WHERE { GRAPH ?g { ?g <https://w3id.org/tinyreg#sha256> ?v } }",
                {"g": URIRef(name)},
            )
            if stored and str(stored[0]["v"]) == digest:
                continue
            tables_changed = True  # requirements derive from the tables and the ontology
            graph = Graph()
            if name == ONTOLOGY_IRI:
                for triple in ontology_graph():
                    graph.add(triple)
            else:
                graph.parse(data=text, format="turtle")
            graph.add((URIRef(name), TR.sha256, Literal(digest)))
            self.store.replace_graph(name, graph)
        if tables_changed:
            self.refresh_requirements()
            # to the store's files now: a first bulk import would otherwise wait for it
            # (~10,000 triples in memory cost a fresh store's first batch 30-60 ms)
            self.store.flush()

    def release_tables(self) -> list[ReleaseTable]:
        """The runtime release tables in the store (operators offered, kernel sizes)."""
        if self._tables is None:
            self._tables = release_tables(self.store.select(TABLES_QUERY))
        return self._tables

    def refresh_requirements(self) -> int:
        """Derive again what every model needs from the runtime tables.

        Run when the reference tables change (opening a registry does it by itself). The
        fit index is built again afterwards, since every verdict may have changed.

        Returns:
            The number of models updated.

        """
        self._tables = None
        tables = self.release_tables()
        rows = self.store.select(
            "SELECT ?m ?name ?version ?custom WHERE { ?m a <https://w3id.org/tinyreg#Model> ;"
            " <https://w3id.org/tinyreg#hasOperatorCode> ?c . ?c"
            " <https://w3id.org/tinyreg#operatorType> ?name ;"
            " <https://w3id.org/tinyreg#operatorVersion> ?version ;"
            " <https://w3id.org/tinyreg#isCustom> ?custom }"
        )
        uses: dict[str, list[OperatorUse]] = {}
        for row in rows:
            uses.setdefault(str(row["m"]), []).append(
                OperatorUse(
                    str(row["name"]).removeprefix(str(OP)),
                    int(str(row["version"])),
                    bool(_py(row["custom"])),
                )
            )
        derived = (TR.operatorsOfferedBy, TR.customOperator, TR.kernelCodeTable)
        for model, ops in sorted(uses.items()):
            graph = self.store.get_graph(model)
            for predicate in derived:
                graph.remove((URIRef(model), predicate, None))
            graph += requirements_graph(model, ops, tables)
            self.store.replace_graph(model, graph)
        self.fits.build(everything=True)
        return len(uses)

    @classmethod
    def open(
        cls,
        location: str | Path | None = None,
        *,
        in_memory: bool = False,
        model_store: str | Path | None = None,
    ) -> Self:
        """Open the registry at a location.

        Args:
            location: A directory (embedded Oxigraph store there), an ``http(s)://`` SPARQL
                endpoint, or ``None`` for the per-user default directory.
            in_memory: Use a throw-away in-memory embedded store (ignores ``location``).
            model_store: The folder that keeps models' bytes; default:
                ``$TINYREG_MODEL_STORE``, else ``models/`` in the store's directory (for a
                SPARQL endpoint, beside the per-user default store), in memory for an
                in-memory registry.

        """
        folder = model_store or os.environ.get(MODEL_STORE_ENV) or None
        if in_memory:
            from tinyreg.core.stores import OxigraphStore

            blobs: ModelBlobs = DirectoryBlobs(Path(folder)) if folder else MemoryBlobs()
            return cls(OxigraphStore(None), blobs)
        store = open_store(location)
        if folder:
            return cls(store, DirectoryBlobs(Path(folder)))
        if "://" in store.label:
            return cls(store, DirectoryBlobs(default_store_path().parent / MODELS_FOLDER))
        return cls(store)

    def close(self) -> None:
        """Close the underlying store."""
        self.store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ models

    def add_model(
        self,
        source: Path | bytes,
        card: ModelCard | Path | bytes | str | None = None,
        *,
        ident: str | None = None,
        filename: str | None = None,
        card_label: str = "<card>",
        replace: bool = True,
        infer: bool = False,
    ) -> ModelRecord:
        """Parse, measure, validate and register a .tflite model, and keep its bytes.

        The flatbuffer is parsed, its arena measured by the real TFLite Micro runtime (a
        model the runtime refuses is registered as not runnable, with the reason; with
        ``infer`` it also runs one inference with all-zero inputs), the
        description is checked against the SHACL shapes and written in one transaction.
        The bytes are kept under their SHA-256 (see :mod:`tinyreg.registry.blobs`), so
        ``bench`` and ``deploy`` find them by the model's id. Bytes already registered
        under another id are registered again, with a warning logged.

        Args:
            source: The .tflite file, or its bytes.
            card: The model card: a :class:`ModelCard`, its path, or its YAML/JSON text;
                without one, the card beside the file (same stem,
                ``.yaml``/``.yml``/``.json``) or its row in a ``models_information.csv``
                next to it is used, else a minimal card named after the file.
            ident: The model id; defaults to the card's ``id``, else the file stem as slug.
            filename: The file name of ``source`` bytes (an upload's), for the default
                card name and id.
            card_label: What to call a card given as text in messages (its file name).
                It must be a slug (:func:`tinyreg.registry.ids.check_model_id`).
            replace: Replace a model registered under the same id; when ``False`` such a
                model is kept and :class:`ConflictError` raised.
            infer: Run one inference with all-zero inputs at the minimal arena, so that
                ``runnable`` also says ``Invoke`` works (see
                :func:`~tinyreg.core.arena.measure_arena`); the assessment's
                ``tr:inferenceChecked`` records it.

        Returns:
            The registered model.

        Raises:
            ModelFileError: If the file is not a valid .tflite.
            CardError: If the card is invalid.
            ValidationError: If the description violates the shapes.
            ConflictError: If ``replace`` is ``False`` and the id is taken.

        """
        prepared = self._prepare_model(
            source,
            card,
            ident=ident,
            filename=filename,
            card_label=card_label,
            replace=replace,
            infer=infer,
        )
        from tinyreg.registry.validate import decide

        (refusal,) = decide([prepared.check])
        if refusal is not None:
            raise refusal
        self._write_models([prepared])
        return self.get_model(prepared.ident)

    def _prepare_model(
        self,
        source: Path | bytes,
        card: ModelCard | Path | bytes | str | None,
        *,
        ident: str | None = None,
        filename: str | None = None,
        card_label: str = "<card>",
        replace: bool = True,
        infer: bool = False,
    ) -> _PreparedModel:
        """Parse and measure a model and describe it, unvalidated and unwritten."""
        # the TFLite Micro runtime loads when a model is added
        from tinyreg.core.arena import measure_arena

        parsed = self._parse_model(
            source, card, ident=ident, filename=filename, card_label=card_label, replace=replace
        )
        arena = measure_arena(parsed.data, source=parsed.label, info=parsed.info, infer=infer)
        return parsed.described(arena, self.release_tables())

    def _parse_model(
        self,
        source: Path | bytes,
        card: ModelCard | Path | bytes | str | None,
        *,
        ident: str | None = None,
        filename: str | None = None,
        card_label: str = "<card>",
        replace: bool = True,
    ) -> _ParsedModel:
        """Read and parse a model and resolve its card and id (see :meth:`add_model`)."""
        from tinyreg.core.tflite import parse_tflite, read_model_file

        if isinstance(source, Path):
            label, data = read_model_file(source)
            stem: str | None = source.stem
        else:
            label, data = filename or "<bytes>", source
            stem = (PurePath(filename).stem or None) if filename else None
        info = parse_tflite(data, label)
        resolved: ModelCard | None
        if isinstance(card, Path):
            resolved = load_card(card)
        elif isinstance(card, bytes | str):
            resolved = parse_card(card, card_label)
        elif card is None and isinstance(source, Path):
            resolved = _CardSearch().find(source)
        else:
            resolved = card
        if resolved is None:
            resolved = ModelCard(name=stem or f"model-{info.sha256[:12]}")
        if ident is None:
            ident = resolved.id or slugify(stem or resolved.name)
        check_model_id(ident)
        if not replace and self.store.has_graph(str(model_iri(ident))):
            raise ConflictError("model", ident, "add it with replace=true to replace it")
        return _ParsedModel(ident, label, data, info, resolved)

    def _write_models(self, models: Sequence[_PreparedModel]) -> None:
        """Write validated models, with their derived triples, in one transaction."""
        texts = self._model_texts(models, _ImportState())
        self._store_models(texts, [m.iri for m in models])

    def _model_texts(self, models: Sequence[_PreparedModel], state: _ImportState) -> dict[str, str]:
        """The graphs that register validated models, as N-Triples, by graph name.

        The descriptions go to the store as N-Triples text (no rdflib graph is built);
        a runtime release's graph, which its IRI determines, is written when absent.
        Keeps the models' bytes (those not kept yet) and warns of models with the same
        bytes.
        """
        from tinyreg.registry.model_rdf import nt_term, runtime_to_graph

        texts: dict[str, str] = {}
        self._warn_duplicates(models, state.shas)
        for model in models:
            arena = model.arena
            runtime, runtime_graph = runtime_to_graph(arena.runtime_name, arena.runtime_version)
            if str(runtime) not in state.runtimes and not self.store.has_graph(str(runtime)):
                texts[str(runtime)] = "".join(
                    f"{nt_term(s)} {nt_term(p)} {nt_term(o)} .\n" for s, p, o in runtime_graph
                )
            state.runtimes.add(str(runtime))
            self._keep_bytes(model)
            # the model's old fitting profiles go in the same write; new ones follow
            texts[model.iri] = model.text
            texts[fits_graph_name(model.iri)] = ""
        return texts

    def _keep_bytes(self, model: _PreparedModel) -> None:
        """Keep a model's bytes, once, under the digest its parse computed from them."""
        if not model.kept:
            self.blobs.put(model.data, model.info.sha256)
            model.kept = True

    def _store_models(self, texts: Mapping[str, str], iris: Sequence[str]) -> None:
        """Write the graphs of :meth:`_model_texts` in one transaction; index the models."""
        self.store.replace_graphs_text(texts, trusted=True)  # made by model_rdf
        self.fits.index_models(dict.fromkeys(iris))

    def _warn_duplicates(self, models: Sequence[_PreparedModel], seen: dict[str, str]) -> None:
        """Log a warning for each model whose bytes other models have.

        The others are registered ones (one query for the batch) or models before it
        in ``seen`` (SHA-256 → the first model with those bytes), which it extends.
        """
        if not models:
            return
        query = load_query("tinyreg.registry", "models_by_sha256")
        shas = [Literal(m.info.sha256) for m in models]
        rows = self.store.select(with_values(query, "sha256", shas))
        registered: dict[str, set[str]] = {}
        for row in rows:
            registered.setdefault(str(row["sha256"]), set()).add(str(row["model"]))
        for model in models:
            sha256 = model.info.sha256
            found = set(registered.get(sha256, ()))
            if sha256 in seen:
                found.add(seen[sha256])
            seen.setdefault(sha256, model.iri)
            others = sorted(o for o in found if o != model.iri)
            if others:
                log.warning(
                    "model %s has the same bytes (SHA-256 %s…) as %s",
                    model_id(model.iri),
                    sha256[:12],
                    ", ".join(model_id(o) for o in others),
                )

    def model_bytes(
        self, ident: str, *, search: Iterable[Path] = (), file: Path | None = None
    ) -> FoundModel:
        """A registered model's ``.tflite`` bytes, found by its SHA-256.

        Looks in the bytes the registry keeps, then ``search``, ``$TINYREG_MODEL_PATH``
        and the starter models (see :func:`tinyreg.registry.blobs.find_model`).

        Args:
            ident: The model's id, IRI or name.
            search: Extra folders (or files) to look in.
            file: The file to use instead; it must hold the registered bytes.

        Raises:
            NotFoundError: If the model is unknown.
            ModelFileError: If no bytes with the registered SHA-256 are found, or ``file``
                holds other bytes.

        """
        model = self.get_model(ident)
        found = find_model(model.sha256, self.blobs, search, file=file)
        if found is None:
            places = [str(p) for p in (*search, *model_path_folders())]
            raise ModelFileError(
                model.id,
                "no .tflite with the registered SHA-256 is kept by the registry or found"
                + (" under " + ", ".join(places) if places else "")
                + "; give the file (--file) or a folder (--search, $TINYREG_MODEL_PATH)",
            )
        actual = hashlib.sha256(found.data).hexdigest()
        if actual != model.sha256:
            raise ModelFileError(
                str(found.source),
                f"its SHA-256 {actual[:12]}… differs from the registered model's "
                f"{model.sha256[:12]}…; register the file again or give the registered one",
            )
        return found

    def get_model(self, ident: str) -> ModelRecord:
        """Return one model by id, IRI or (unambiguous) name.

        Raises:
            NotFoundError: If no model matches.
            AmbiguousIdError: If a name matches several models.

        """
        iri = self.resolve("model", ident)
        records = self._models({"model": URIRef(iri)})
        if not records:
            raise NotFoundError("model", ident)
        return records[0]

    def list_models(self) -> list[ModelRecord]:
        """All registered models, ordered by id."""
        return self._models(None)

    def delete_model(self, ident: str) -> str:
        """Delete a model and everything said of it (its host benchmark too); returns its id."""
        iri = self.resolve("model", ident)
        self.store.delete_graph(benchmark_iri(iri))
        self.fits.drop_model(iri)
        self.store.delete_graph(iri)
        return iri[len(MODEL_PREFIX) :]

    def _records(self, name: str, bindings: Mapping[str, Node] | None) -> list[dict[str, Node]]:
        """The rows of a record query (``models``, ``devices``), bound to one record or not.

        On Virtuoso a bound record query is sent as a filtered sub-select
        (:func:`~tinyreg.matchmaker.dialect.filtered_for_virtuoso`: 0.09 s, not 8 s).
        """
        query = load_query("tinyreg.registry", name)
        if bindings and self.store.dialect == "virtuoso":
            iris = {k: v for k, v in bindings.items() if isinstance(v, URIRef)}
            if len(iris) == len(bindings):
                return self.store.select(filtered_for_virtuoso(query, iris))
        return self.store.select(query, bindings)

    def _models(self, bindings: Mapping[str, Node] | None) -> list[ModelRecord]:
        rows = self._records("models", bindings)
        lists = self.store.select(load_query("tinyreg.registry", "model_lists"), bindings)
        return model_records(_plain(rows), _plain(lists))

    # ------------------------------------------------------------------ devices

    def add_device(self, source: Path | str | bytes | dict[str, Any]) -> DeviceRecord:
        """Validate and register a device from its W3C WoT Thing Description.

        Args:
            source: A TD file path, JSON text/bytes, or a parsed TD.

        Returns:
            The registered device.

        Raises:
            ThingDescriptionError: If it is not JSON, not JSON-LD, or lacks ``id``/``title``.
            ValidationError: If it violates the device shapes (RAM, flash, sensors, ...).

        """
        iri, graphs = self.describe_device(source)
        self.write_device_graphs(graphs)
        return self.get_device(iri)

    def write_device_graphs(self, graphs: Mapping[str, Graph]) -> None:
        """Write a device's graphs (from :meth:`describe_device`) in one transaction.

        A profile never seen before is then added to the fit index.
        """
        self.store.replace_graphs(graphs)
        self.fits.index_new_profiles(name for name in graphs if name.startswith(PROFILE_PREFIX))

    def index_fits(
        self, *, everything: bool = False, progress: Callable[[int, int], None] | None = None
    ) -> int:
        """Bring the fit index up to date (after a bulk load), or rebuild it.

        See :class:`tinyreg.matchmaker.fits.FitIndex`. Registering models and devices
        keeps the index up to date by itself.

        Args:
            everything: Drop the index and build it again.
            progress: Called with (models done, models to do).

        Returns:
            The number of models indexed.

        """
        return self.fits.build(everything=everything, progress=progress)

    def describe_device(
        self, source: Path | str | bytes | dict[str, Any]
    ) -> tuple[str, dict[str, Graph]]:
        """Validate a device's TD and build its graphs, without writing them.

        Returns:
            The device IRI and the graphs to write in one transaction, by graph name
            (the device's graph, under its IRI, and its profile's graph).

        Raises:
            ThingDescriptionError: If it is not JSON, not JSON-LD, or lacks ``id``/``title``.
            ValidationError: If it violates the device shapes.

        """
        from tinyreg.registry.td import load_td, td_to_graph

        label = str(source) if isinstance(source, Path) else "<document>"
        td = load_td(source, label)
        iri, graph = td_to_graph(td, label)
        return str(iri), self._device_graphs(iri, graph)

    def describe_thing(self, source: Path | str | bytes | dict[str, Any]) -> ThingGraphs:
        """Validate any Thing Description and build its graphs, without writing them.

        A TD that declares tinyreg's ``Device`` type or uses its device members (``mcu``,
        ``ram``, ``flash``, ``runtime``, ``sensors``; see
        :func:`tinyreg.registry.td.describes_device`) is a device and is handled exactly
        as by :meth:`describe_device`, so a partial device is refused by the device
        shapes. Any other TD is a plain ``td:Thing``: its JSON-LD expansion and the TD
        itself in its own graph, with no profile; it is never listed as a device.

        Raises:
            ThingDescriptionError: If it is not JSON, not JSON-LD, or lacks ``id``/``title``.
            ValidationError: If it violates the shapes (a device missing its RAM, ...).

        """
        from tinyreg.registry.td import load_td, thing_to_graph
        from tinyreg.registry.validate import validate

        label = str(source) if isinstance(source, Path) else "<document>"
        td = load_td(source, label)
        iri, graph, device = thing_to_graph(td, label)
        if device:
            return ThingGraphs(str(iri), self._device_graphs(iri, graph), True)
        validate(graph, str(iri))
        return ThingGraphs(str(iri), {str(iri): graph}, False)

    def _device_graphs(self, iri: URIRef, graph: Graph) -> dict[str, Graph]:
        from tinyreg.registry.validate import validate

        validate(graph, str(iri))
        profile, profile_rdf = profile_graph(profile_facts(graph, iri))
        graph.add((iri, TR.hasProfile, profile))
        return {str(iri): graph, str(profile): profile_rdf}

    def get_device(self, ident: str) -> DeviceRecord:
        """Return one device by id, short id or (unambiguous) title."""
        iri = self.resolve("device", ident)
        records = self._devices({"device": URIRef(iri)})
        if not records:
            raise NotFoundError("device", ident)
        return records[0]

    def list_devices(self) -> list[DeviceRecord]:
        """All registered devices, ordered by id."""
        return self._devices(None)

    def delete_device(self, ident: str) -> str:
        """Delete a device and everything said of it; returns its id."""
        iri = self.resolve("device", ident)
        self.store.delete_graph(iri)
        return iri

    def device_td(self, ident: str) -> dict[str, Any]:
        """The device's Thing Description, as registered."""
        iri = self.resolve("device", ident)
        from tinyreg.registry.td import td_from_graph

        td = td_from_graph(self.store.get_graph(iri), URIRef(iri))
        if td is None:
            raise NotFoundError("device", ident)
        return td

    def _devices(self, bindings: Mapping[str, Node] | None) -> list[DeviceRecord]:
        rows = self._records("devices", bindings)
        sensor_rows = self.store.select(load_query("tinyreg.registry", "device_sensors"), bindings)
        return device_records(_plain(rows), _plain(sensor_rows))

    # ------------------------------------------------------------------ ids

    def resolve(self, kind: str, ident: str) -> str:
        """Turn what a user typed (IRI, id, short id or name) into a resource IRI.

        Args:
            kind: ``"model"`` or ``"device"``.
            ident: The IRI, the id (``hello-world``, ``urn:tinyreg:device:x``), the short
                device id (``x``), or the exact name/title (case-insensitive).

        Raises:
            NotFoundError: If nothing matches.
            AmbiguousIdError: If a name matches several resources.

        """
        return resolve_id(kind, ident, self._is_a, self._named)

    def _is_a(self, iri: str, cls: str) -> bool:
        return self.store.ask("ASK { ?r a ?cls }", {"r": URIRef(iri), "cls": URIRef(cls)})

    def _named(self, cls: str, text: str) -> list[str]:
        rows = self.store.select(
            load_query("tinyreg.registry", "resources"),
            {"cls": URIRef(cls), "wanted": Literal(text)},
        )
        return [str(r["resource"]) for r in rows]

    # ------------------------------------------------------------------ deployments

    def record_deployment(self, record: DeploymentRecord) -> str:
        """Record one deployment (PROV-O) in its own named graph, atomically.

        Returns:
            The deployment's IRI (``urn:tinyreg:deployment:<id>``).

        """
        return record_deployment(self.store, record)

    def list_deployments(
        self, model: str | None = None, device: str | None = None
    ) -> list[DeploymentRecord]:
        """Recorded deployments ordered by start time, optionally of one model and/or device.

        Args:
            model: A model id, IRI or name (a deleted model's id works too).
            device: A device id, short id or title (a deleted device's id works too).

        """
        model_iri = self._resolve_or_keep("model", model) if model is not None else None
        device_iri = self._resolve_or_keep("device", device) if device is not None else None
        if "" in (model_iri, device_iri):
            return []  # no resource ever had that id
        return list_deployments(self.store, model_iri, device_iri)

    def _resolve_or_keep(self, kind: str, ident: str) -> str:
        """The IRI of a registered resource, else the IRI a deleted one had ('' if none)."""
        try:
            return self.resolve(kind, ident)
        except NotFoundError:
            model = kind == "model" and not ident.startswith(MODEL_PREFIX)
            kept = MODEL_PREFIX + ident if model else ident
            return kept if iri_like(kept) else ""

    # ------------------------------------------------------------------ bulk

    def import_path(
        self,
        path: Path,
        *,
        progress: Callable[[str], None] | None = None,
        on_total: Callable[[int], None] | None = None,
        infer: bool = False,
    ) -> ImportReport:
        """Register every model and device found under a directory (or one file).

        Finds ``*.tflite`` models (with the card beside each, or a row of a
        ``models_information.csv`` in the folder or one above), ``*.jsonld``/``*.td.json``
        Thing Descriptions, and the seed project's Turtle device descriptions (``*.ttl``,
        converted; the assumptions made are reported as notes). Each device is
        registered in its own transaction. Models are parsed one by one and their arenas
        measured by an :class:`~tinyreg.core.arena.ArenaPipeline` (a worker process the
        import has to itself) while the import parses on, up to :data:`IMPORT_LOOKAHEAD`
        models ahead; each model is described, lean-checked
        (:func:`~tinyreg.registry.validate.lean_check`) and turned into N-Triples as soon
        as its measurement arrives, and its bytes kept when it surely conforms. The
        models are then decided and written by batches of up to :data:`IMPORT_BATCH`
        (one pySHACL run over what the shapes reach of those not surely conforming, one
        atomic write on the import's writer thread; see
        :func:`~tinyreg.registry.validate.decide`). So the worker measures while the
        import describes, checks and writes. A refused file is reported and the others
        go on; a model is only written once it passed the shapes.

        Args:
            path: A directory (searched recursively) or a single file.
            progress: Called with each file's name after it is handled.
            on_total: Called once with the number of files to handle.
            infer: Run one inference with all-zero inputs for each model (see
                :meth:`add_model`).

        Returns:
            What was registered, refused, and noted.

        """
        from tinyreg.core.arena import ArenaPipeline

        files = sorted(_candidate_files(path))
        if on_total:
            on_total(len(files))
        report = ImportReport()
        cards = _CardSearch()
        pending: list[tuple[Path, _PreparedModel]] = []
        measuring: list[tuple[Path, _ParsedModel]] = []  # sent to the arena worker
        waiting = 0  # bytes of the models in ``measuring``
        state = _ImportState()

        def measured(count: int) -> None:
            """Describe the first ``count`` models measured; check and write by batches."""
            nonlocal waiting
            for _ in range(count):
                file, parsed = measuring.pop(0)
                waiting -= len(parsed.data)
                measurement = arenas.next()
                try:
                    model = parsed.described(measurement, tables)
                except InputError as exc:  # e.g. a custom operator name that is no IRI
                    report.refused.append((str(file), exc.message))
                    if progress:
                        progress(file.name)
                    continue
                if model.check.sure:  # it will be written: keep its bytes while waiting
                    self._keep_bytes(model)
                pending.append((file, model))
                if len(pending) >= state.batch:
                    self._import_models(pending, report, progress, state)
                    state.batch = min(2 * state.batch, IMPORT_BATCH)

        tables = self.release_tables()
        with state, ArenaPipeline(infer=infer) as arenas:
            for file in files:
                try:
                    if file.suffix == ".tflite":
                        # no card found: the file's name, not a second search
                        card = cards.find(file) or ModelCard(name=file.stem)
                        parsed = self._parse_model(file, card)
                        arenas.submit(parsed.data, parsed.info, parsed.label)
                        measuring.append((file, parsed))
                        waiting += len(parsed.data)
                        # describe what the worker has measured so far (a full batch goes
                        # to the writer thread); parse on while the worker is behind
                        while measuring and arenas.ready():
                            measured(1)
                        if len(measuring) >= IMPORT_LOOKAHEAD or waiting >= IMPORT_LOOKAHEAD_BYTES:
                            measured(min(state.batch, len(measuring)))
                        continue
                    elif file.suffix == ".ttl":
                        from tinyreg.registry.seed_import import convert_seed_device

                        conversion = convert_seed_device(file)
                        record = self.add_device(conversion.td)
                        report.devices.append(record.id)
                        report.notes.extend(f"{file.name}: {a}" for a in conversion.assumptions)
                    else:
                        report.devices.append(self.add_device(file).id)
                except InputError as exc:
                    report.refused.append((str(file), exc.message))
                if progress:
                    progress(file.name)
            measured(len(measuring))
            self._import_models(pending, report, progress, state)
        return report

    def _import_models(
        self,
        pending: list[tuple[Path, _PreparedModel]],
        report: ImportReport,
        progress: Callable[[str], None] | None,
        state: _ImportState,
    ) -> None:
        """Validate prepared models together, write those that conform; empties ``pending``.

        The write runs on the import's writer thread (``state``), one batch at a time,
        while the next batch is parsed and described.
        """
        from tinyreg.registry.validate import decide

        if not pending:
            return
        refusals = decide([model.check for _, model in pending])
        accepted: dict[str, _PreparedModel] = {}
        for (_, model), refusal in zip(pending, refusals, strict=True):
            if refusal is None:
                accepted.pop(model.iri, None)  # a later file with the same id wins
                accepted[model.iri] = model
        models = list(accepted.values())
        texts = self._model_texts(models, state)
        state.write(self._store_models, texts, [m.iri for m in models])
        for (file, model), refusal in zip(pending, refusals, strict=True):
            if refusal is None:
                report.models.append(model.ident)
            else:
                report.refused.append((str(file), refusal.message))
            if progress:
                progress(file.name)
        pending.clear()

    # ------------------------------------------------------------------ graph access

    def query(self, sparql: str, bindings: Mapping[str, Node] | None = None) -> QueryResult:
        """Run a SPARQL query over all registered resources (the union of their graphs).

        The project's prefixes (``tr:``, ``td:``, ``sosa:``, ``ssn:``, ``s3n:``,
        ``schema:``, ``rdf:``, ``rdfs:``, ``xsd:``, ``owl:``, ``prov:``, ...) may be used
        without declaring them; a query's own ``PREFIX`` declarations win.

        Raises:
            QueryError: If the query is malformed.

        >>> with Catalogue.open(in_memory=True) as catalogue:
        ...     catalogue.query("ASK { ?m a tr:Model }").boolean
        False

        """
        text, shift = with_prefixes(sparql)  # declared on the user's first line
        try:
            return self.store.query(text, bindings)
        except QueryError as exc:
            message = friendly_syntax_error(relocate_error(exc.detail, shift), sparql)
            raise QueryError(message) from exc

    def graph(self, ident: str | None = None, kind: str | None = None) -> Graph:
        """One resource's graph, or the union of all graphs when ``ident`` is None."""
        if ident is None:
            result = self.store.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")
            assert result.graph is not None
            graph = result.graph
        else:
            iri = self.locate(ident, kind)
            graph = self.store.get_graph(iri)
        for prefix, namespace in PREFIXES.items():
            graph.bind(prefix, namespace)
        return graph

    def export(self, fmt: str = "turtle", ident: str | None = None) -> str:
        """Serialise one resource or the whole registry.

        Args:
            fmt: ``turtle``, ``json-ld``, ``nt`` or ``td`` (a device's Thing Description).
            ident: A model or device; ``None`` exports everything.

        """
        if fmt == "td":
            if ident is None:
                return json.dumps([self.device_td(d.id) for d in self.list_devices()], indent=2)
            return json.dumps(self.device_td(ident), indent=2)
        graph = self.graph(ident)
        if fmt == "json-ld":
            context = {p: n for p, n in PREFIXES.items()}
            return graph.serialize(format="json-ld", context=context, indent=2)
        return graph.serialize(format=fmt)

    def locate(self, ident: str, kind: str | None = None) -> str:
        """Resolve an id or name that may denote a model or a device to its IRI.

        Raises:
            NotFoundError: If nothing matches.
            AmbiguousIdError: If it matches both a model and a device.

        """
        return locate_id(ident, kind, self.resolve)

    def details(self, ident: str, kind: str | None = None) -> dict[str, Any]:
        """Everything ``tinyreg show`` prints of a model or a device (by id or name).

        ``kind`` (``model`` or ``device``) restricts what ``ident`` may name.

        A model's record (see :class:`ModelRecord`) plus ``inputs`` and ``outputs``: one
        entry per tensor of its first subgraph, with ``shape`` (a list of dimensions),
        ``dtype`` and its quantization (``scale`` and ``zero_point`` when per-tensor,
        ``channels`` and ``quantized_dimension`` when per-channel). A device's record
        (see :class:`DeviceRecord`) plus ``sensor_list`` (``type`` and ``part``, ``None``
        when the TD names none) and ``firmware_operators``: those its TD's runtime
        registers (``firmware_operators_declared`` true) or, when it declares none, every
        builtin operator of its runtime release.

        Raises:
            NotFoundError: If nothing matches.
            AmbiguousIdError: If it matches both a model and a device.

        """
        iri = self.locate(ident, kind)
        if iri.startswith(MODEL_PREFIX):
            data = self.get_model(iri).to_dict()
            rows = self.store.select(
                load_query("tinyreg.registry", "model_tensors"), {"model": URIRef(iri)}
            )
            tensors = model_tensors(_plain(rows))
            return {**data, "inputs": tensors["input"], "outputs": tensors["output"]}
        sensors = self.store.select(
            load_query("tinyreg.registry", "device_sensors"), {"device": URIRef(iri)}
        )
        operators = self.store.select(
            load_query("tinyreg.registry", "device_operators"), {"device": URIRef(iri)}
        )
        return device_details(self.get_device(iri), _plain(sensors), _plain(operators))

    def delete(self, ident: str) -> str:
        """Delete a model or device (by id or name); returns its IRI."""
        iri = self.locate(ident)
        self.fits.drop_model(iri)
        self.store.delete_graph(iri)
        return iri

    def check(self) -> list[Any]:
        """Run the SHACL shapes over the whole graph; returns the violations (empty if fine)."""
        from tinyreg.registry.validate import check

        return check(self.graph())


def _candidate_files(path: Path) -> Iterable[Path]:
    if path.is_file():
        yield path
        return
    if not path.is_dir():
        raise ThingDescriptionError(str(path), None, "no such file or directory")
    for file in path.rglob("*"):
        if not file.is_file():
            continue
        if REFERENCE_FOLDER in file.relative_to(path).parts[:-1]:
            continue  # runtime and core tables: every registry loads them as reference graphs
        name = file.name
        if name.endswith((".tflite", ".jsonld", ".td.json", ".ttl")):
            yield file


class _CardSearch:
    """Finds models' cards: a card file beside the model, or a row of a seed CSV.

    Each folder is listed once and each CSV read once, however many models it holds.
    """

    def __init__(self) -> None:
        self._names: dict[Path, frozenset[str]] = {}
        self._csv: dict[Path, dict[str, ModelCard]] = {}

    def _file(self, folder: Path, name: str) -> Path | None:
        names = self._names.get(folder)
        if names is None:
            try:
                names = frozenset(os.listdir(folder))
            except OSError:
                names = frozenset()
            self._names[folder] = names
        path = folder / name
        return path if name in names and path.is_file() else None

    def find(self, model: Path) -> ModelCard | None:
        """The card of the model file ``model``, or ``None``."""
        for suffix in CARD_SUFFIXES:
            beside = self._file(model.parent, model.stem + suffix)
            if beside is not None:
                return load_card(beside)
        for folder in (model.parent, model.parent.parent):
            csv_path = self._file(folder, SEED_CARDS_FILE)
            if csv_path is not None:
                if csv_path not in self._csv:
                    self._csv[csv_path] = seed_cards(csv_path)
                card = self._csv[csv_path].get(model.stem)
                if card is not None:
                    return card
        return None
