"""The verdict query's fitting pairs for many models at once, from figures read in bulk.

Building the fit index after a bulk load asks, for every model, which profiles it fits.
Asking the store (``verdicts.rq``, one query a model) costs ~28 ms a model at 300
profiles. The fitting test itself is a handful of comparisons (RAM, flash, operators,
sensors, whether the runtime ran the model), so :func:`fitting_pairs` reads the figures
those comparisons use once, with a few scans, and evaluates every pair in Python.

The evaluation follows ``verdicts.rq`` term by term, for the fitting pairs only (no user
constraint is bound): a pair fits when some solution of the query's patterns has
``?ramOk && ?flashOk && ?sensorOk && ?opOk && ?runsOk``. Several values of one property
give several solutions, so the smallest need of each kind is kept. Only plain figures are
evaluated here: integers of an XSD integer type, ``xsd:boolean`` verdicts of the runtime,
IRIs where the query joins on terms and simple literals where it takes strings apart.
A model or a profile with any other figure is *irregular* and left to the store's own
verdict query (:class:`Irregular`), so the pairs are the query's in every case;
``tests/test_fit_index.py`` compares them on a bulk-loaded fleet and on kg_data with the
seed models.

>>> _strafter("a;b=1;", ";b=")
'1;'
>>> _strbefore("12/3", "/"), _strbefore("12", "/")
('12', '')
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from rdflib import Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Node

from tinyreg.core.stores.base import GraphStore

__all__ = ["Irregular", "fitting_pairs"]

_TR = "https://w3id.org/tinyreg#"
_RUNTIME_PREFIX = "https://w3id.org/tinyreg/runtime/"
_PREFIXES = f"PREFIX tr: <{_TR}>\n"
_INTEGER_TYPES = frozenset(
    XSD[name]
    for name in (
        "integer",
        "int",
        "long",
        "short",
        "byte",
        "nonNegativeInteger",
        "positiveInteger",
        "nonPositiveInteger",
        "negativeInteger",
        "unsignedInt",
        "unsignedLong",
        "unsignedShort",
        "unsignedByte",
    )
)
_INTEGER_LEXICAL = re.compile(r"[+-]?[0-9]+")
_INTEGER_CAST = re.compile(r"[0-9]+")  # what xsd:integer(...) certainly accepts


def _strafter(text: str, sep: str) -> str:
    """SPARQL ``STRAFTER`` on simple literals."""
    at = text.find(sep)
    return "" if at < 0 else text[at + len(sep) :]


def _strbefore(text: str, sep: str) -> str:
    """SPARQL ``STRBEFORE`` on simple literals."""
    at = text.find(sep)
    return "" if at < 0 else text[:at]


def _integer(term: Node) -> int:
    """An integer figure; ``ValueError`` for a figure left to the store's query."""
    if (
        isinstance(term, Literal)
        and term.datatype in _INTEGER_TYPES
        and _INTEGER_LEXICAL.fullmatch(str(term))
    ):
        return int(str(term))
    raise ValueError(term)


def _boolean(term: Node) -> bool:
    if isinstance(term, Literal) and term.datatype == XSD.boolean:
        lexical = str(term)
        if lexical in ("true", "1"):
            return True
        if lexical in ("false", "0"):
            return False
    raise ValueError(term)


def _string(term: Node) -> str:
    """A simple literal's text (no language, no datatype but ``xsd:string``)."""
    if isinstance(term, Literal) and term.language is None and term.datatype in (None, XSD.string):
        return str(term)
    raise ValueError(term)


def _iri(term: Node) -> str:
    if isinstance(term, URIRef):
        return str(term)
    raise ValueError(term)


@dataclass
class Irregular:
    """Models and profiles whose figures only the store's verdict query evaluates."""

    models: set[str] = field(default_factory=set)
    profiles: set[str] = field(default_factory=set)


@dataclass
class _Model:
    model_bytes: int
    # (assessed runtime, runnable, host arena or None): one per solution of the assessment
    assessments: list[tuple[str, bool, int | None]] = field(default_factory=list)
    target_arenas: dict[str, int] = field(default_factory=dict)  # family -> smallest
    kernel_tables: list[str] = field(default_factory=list)
    offered_by: set[str] = field(default_factory=set)
    custom: bool = False
    uses: set[str] = field(default_factory=set)
    needs: frozenset[str] = frozenset()


@dataclass(frozen=True)
class _ProfileRow:
    runtime: str
    release: str
    runtime_name: str
    ram_free: int
    flash_free: int
    family: str


def _rows(store: GraphStore, where: str, names: str) -> list[dict[str, Node]]:
    return store.select(f"{_PREFIXES}SELECT {names} WHERE {{ {where} }}")


class _Figures:
    """Every figure the fitting test reads, read once (a few scans of the store)."""

    def __init__(self, store: GraphStore, models: Iterable[str]) -> None:
        self.irregular = Irregular()
        wanted = set(models)
        self.models: dict[str, _Model] = {}
        self._read_models(store, wanted)
        self.profiles: dict[str, list[_ProfileRow]] = {}
        self.provides: dict[str, frozenset[str]] = {}
        self.ram_overhead: dict[str, int] = {}
        self.core_code: dict[tuple[str, str], int] = {}
        self.registers: dict[str, frozenset[str]] = {}
        self._read_profiles(store)

    # -- models
    def _each(
        self, rows: list[dict[str, Node]], apply: Callable[[_Model, dict[str, Node]], None]
    ) -> None:
        for row in rows:
            name = str(row["model"])
            model = self.models.get(name)
            if model is None:
                continue
            try:
                apply(model, row)
            except ValueError:
                self.irregular.models.add(name)

    def _read_models(self, store: GraphStore, wanted: set[str]) -> None:
        rows = _rows(
            store,
            "?model a tr:Model ; tr:modelBytes ?bytes ; tr:quantizationType ?q ; tr:macs ?m",
            "?model ?bytes",
        )
        for row in rows:
            name = str(row["model"])
            if name not in wanted:
                continue
            try:
                figure = _integer(row["bytes"])
            except ValueError:
                self.irregular.models.add(name)
                continue
            known = self.models.get(name)
            if known is None:
                self.models[name] = _Model(figure)
            else:
                known.model_bytes = min(known.model_bytes, figure)

        def assessment(model: _Model, row: dict[str, Node]) -> None:
            assessed = row["assessed"]
            if not isinstance(assessed, URIRef | Literal):
                return  # STR() of a blank node is an error: never matches a runtime
            if isinstance(assessed, Literal) and (
                assessed.language is not None or assessed.datatype not in (None, XSD.string)
            ):
                raise ValueError(assessed)
            arena = row.get("arena")
            model.assessments.append(
                (
                    str(assessed),
                    _boolean(row["runnable"]),
                    None if arena is None else _integer(arena),
                )
            )

        self._each(
            _rows(
                store,
                "?model tr:hasRuntimeAssessment ?a . ?a tr:assessedRuntime ?assessed ; "
                "tr:runnable ?runnable . OPTIONAL { ?a tr:arenaBytes ?arena }",
                "?model ?assessed ?runnable ?arena",
            ),
            assessment,
        )

        def target(model: _Model, row: dict[str, Node]) -> None:
            family = row["family"]
            key = _string(family)
            arena = _integer(row["arena"])
            model.target_arenas[key] = min(arena, model.target_arenas.get(key, arena))

        self._each(
            _rows(
                store,
                "?bench tr:benchmarkOf ?model ; a tr:TargetBenchmark ; tr:coreFamily ?family ; "
                "tr:arenaBytes ?arena ; tr:sha256 ?sha . ?model tr:sha256 ?sha",
                "?model ?family ?arena",
            ),
            target,
        )
        self._each(
            _rows(store, "?model tr:kernelCodeTable ?table", "?model ?table"),
            lambda model, row: model.kernel_tables.append(_string(row["table"])),
        )
        self._each(
            _rows(store, "?model tr:operatorsOfferedBy ?release", "?model ?release"),
            lambda model, row: model.offered_by.add(_iri(row["release"])),
        )
        self._each(
            _rows(store, "?model tr:customOperator ?op", "DISTINCT ?model"),
            lambda model, row: setattr(model, "custom", True),
        )
        self._each(
            _rows(store, "?model tr:usesOperatorType ?op", "?model ?op"),
            lambda model, row: model.uses.add(_iri(row["op"])),
        )
        needs: dict[str, set[str]] = defaultdict(set)

        def need(model: _Model, row: dict[str, Node]) -> None:
            needs[str(row["model"])].add(_iri(row["need"]))

        self._each(_rows(store, "?model tr:requiresSensorType ?need", "?model ?need"), need)
        for name, kinds in needs.items():
            self.models[name].needs = frozenset(kinds)
        for name in self.irregular.models:
            self.models.pop(name, None)

    # -- profiles
    def _read_profiles(self, store: GraphStore) -> None:
        rows = _rows(
            store,
            "?profile a tr:DeviceProfile ; tr:runtime ?runtime ; tr:runtimeRelease ?release ; "
            "tr:runtimeName ?runtimeName ; tr:ramCapacityBytes ?ramCapacity ; "
            "tr:reservedRamBytes ?ramReserved ; tr:flashCapacityBytes ?flashCapacity ; "
            "tr:reservedFlashBytes ?flashReserved ; tr:coreFamily ?family ; tr:clockHz ?clock ; "
            "tr:hasFPU ?fpu ; tr:hasDSP ?dsp",
            "DISTINCT ?profile ?runtime ?release ?runtimeName ?ramCapacity ?ramReserved "
            "?flashCapacity ?flashReserved ?family",
        )
        found: dict[str, set[_ProfileRow]] = defaultdict(set)
        for row in rows:
            name = str(row["profile"])
            try:
                found[name].add(
                    _ProfileRow(
                        runtime=_iri(row["runtime"]),
                        release=_iri(row["release"]),
                        runtime_name=_string(row["runtimeName"]),
                        ram_free=_integer(row["ramCapacity"]) - _integer(row["ramReserved"]),
                        flash_free=_integer(row["flashCapacity"]) - _integer(row["flashReserved"]),
                        family=_string(row["family"]),
                    )
                )
            except ValueError:
                self.irregular.profiles.add(name)
        provides: dict[str, set[str]] = defaultdict(set)
        for row in _rows(store, "?profile tr:providesSensorType ?kind", "?profile ?kind"):
            if isinstance(row["kind"], URIRef):  # matched against the models' IRIs
                provides[str(row["profile"])].add(str(row["kind"]))
        releases = {r.release for rows_ in found.values() for r in rows_}
        bad_releases: set[str] = set()
        for row in _rows(store, "?release tr:ramOverheadBytes ?bytes", "?release ?bytes"):
            release = str(row["release"])
            if release not in releases:
                continue
            try:
                figure = _integer(row["bytes"])
            except ValueError:
                bad_releases.add(release)
                continue
            self.ram_overhead[release] = min(figure, self.ram_overhead.get(release, figure))
        for row in _rows(
            store,
            "?release tr:hasCoreCodeSize ?size . ?size tr:coreFamily ?family ; tr:codeBytes ?bytes",
            "?release ?family ?bytes",
        ):
            release = str(row["release"])
            if release not in releases:
                continue
            try:
                key = (release, _string(row["family"]))
                figure = _integer(row["bytes"])
            except ValueError:
                bad_releases.add(release)
                continue
            self.core_code[key] = min(figure, self.core_code.get(key, figure))
        registers: dict[str, set[str]] = defaultdict(set)
        for row in _rows(store, "?runtime tr:registersOperator ?op", "?runtime ?op"):
            if isinstance(row["op"], URIRef):  # matched against the models' IRIs
                registers[str(row["runtime"])].add(str(row["op"]))
        self.registers = {k: frozenset(v) for k, v in registers.items()}
        for name, profile_rows in found.items():
            if name in self.irregular.profiles or any(
                r.release in bad_releases for r in profile_rows
            ):
                self.irregular.profiles.add(name)
                continue
            self.profiles[name] = sorted(profile_rows, key=repr)
            self.provides[name] = frozenset(provides.get(name, ()))


def _op_code(tables: list[str], release: str, family: str) -> int | None:
    """The smallest kernel code figure of the query's solutions; ``None``: irregular."""
    matching = [t for t in tables if t.startswith(release + " ;")]
    if not matching:
        return 0
    best: int | None = None
    for table in matching:
        entry = _strbefore(_strafter(table, ";" + family + "="), ";")
        text = _strbefore(entry, "/")
        if text == "":
            figure = 0  # xsd:integer("") is an error: COALESCE(?opCode, 0)
        elif _INTEGER_CAST.fullmatch(text):
            figure = int(text)
        else:
            return None
        best = figure if best is None else min(best, figure)
    return best


def fitting_pairs(
    store: GraphStore, models: Iterable[str]
) -> tuple[dict[str, set[str]], Irregular]:
    """The profiles each model fits, as ``verdicts.rq`` decides, for the regular ones.

    Args:
        store: The registry's store.
        models: Model IRIs to evaluate against every profile of the store.

    Returns:
        The fitting profiles of each regular model (every regular model is a key), and
        the models and profiles left to the store's verdict query: an irregular model's
        pairs, and the pairs of an irregular profile with every model, are not in the
        answer.

    """
    figures = _Figures(store, models)
    irregular = figures.irregular
    # profiles that share runtime, release and family share every per-model figure
    groups: dict[tuple[str, str, str, str], list[tuple[str, int, int, frozenset[str]]]] = (
        defaultdict(list)
    )
    for name, rows in figures.profiles.items():
        for row in rows:
            key = (row.runtime, row.release, row.runtime_name, row.family)
            groups[key].append((name, row.ram_free, row.flash_free, figures.provides[name]))
    answer: dict[str, set[str]] = {}
    for name, model in figures.models.items():
        fits: set[str] = set()
        for (runtime, release, runtime_name, family), members in groups.items():
            if release not in model.offered_by:
                continue
            if runtime == release:
                if model.custom:
                    continue
            elif not model.uses <= figures.registers.get(runtime, frozenset()):
                continue
            prefix = _RUNTIME_PREFIX + runtime_name + "/"
            target = model.target_arenas.get(family) if runtime_name == "tflite-micro" else None
            arenas = [
                (target if target is not None else host)
                for assessed, runnable, host in model.assessments
                if runnable and assessed.startswith(prefix)
            ]
            known = [a for a in arenas if a is not None]
            if not known:
                continue
            op_code = _op_code(model.kernel_tables, release, family)
            if op_code is None:
                irregular.models.add(name)
                break
            ram_need = min(known) + figures.ram_overhead.get(release, 0)
            flash_need = model.model_bytes + figures.core_code.get((release, family), 0) + op_code
            for profile, ram_free, flash_free, provides in members:
                if ram_need <= ram_free and flash_need <= flash_free and model.needs <= provides:
                    fits.add(profile)
        else:
            answer[name] = fits
    return answer, irregular
