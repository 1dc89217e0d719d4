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
evaluated here, as the store itself tells (each bulk query computes an ``?ok`` flag):
``xsd:integer`` figures in decimal digits, ``xsd:boolean`` verdicts of the runtime, IRIs
where the query joins on terms and simple literals where it takes strings apart.
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
from typing import Any

from rdflib import URIRef
from rdflib.namespace import XSD

from tinyreg.core.queries import values_block
from tinyreg.core.stores.base import GraphStore

__all__ = ["Irregular", "fitting_pairs"]

_TR = "https://w3id.org/tinyreg#"
_RUNTIME_PREFIX = "https://w3id.org/tinyreg/runtime/"
_PREFIXES = f"PREFIX tr: <{_TR}>\nPREFIX xsd: <{XSD}>\n"
_INTEGER_CAST = re.compile(r"[0-9]+")  # what xsd:integer(...) certainly accepts


def _strafter(text: str, sep: str) -> str:
    """SPARQL ``STRAFTER`` on simple literals."""
    at = text.find(sep)
    return "" if at < 0 else text[at + len(sep) :]


def _strbefore(text: str, sep: str) -> str:
    """SPARQL ``STRBEFORE`` on simple literals."""
    at = text.find(sep)
    return "" if at < 0 else text[:at]


# What a plain figure is, tested by the store so that rows come back as plain values:
# an xsd:integer in decimal digits, an xsd:boolean in its canonical forms, a simple literal.
def _integer(var: str) -> str:
    lexical = f'REGEX(STR(?{var}), "^[+-]?[0-9]+$")'
    return f"(isLiteral(?{var}) && DATATYPE(?{var}) = xsd:integer && {lexical})"


def _simple(var: str) -> str:
    return f"(isLiteral(?{var}) && DATATYPE(?{var}) = xsd:string)"


def _boolean(var: str) -> str:
    return (
        f"(isLiteral(?{var}) && DATATYPE(?{var}) = xsd:boolean && "
        f'STR(?{var}) IN ("true", "false", "1", "0"))'
    )


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


def _select(store: GraphStore, names: str, where: str, tail: str = "") -> list[dict[str, Any]]:
    return store.select_values(f"{_PREFIXES}SELECT {names} WHERE {{ {where} }}{tail}")


def _values(models: Iterable[str]) -> str:
    """A ``VALUES`` block naming some models (IRIs as the store gave them)."""
    return values_block("model", map(URIRef, sorted(models))) + " "


class _Figures:
    """Every figure the fitting test reads, read once (a few scans of the store).

    Each query returns plain values and an ``?ok`` flag computed by the store: a row
    whose figure is not plain makes its model (or profile) irregular.
    """

    def __init__(self, store: GraphStore, models: Iterable[str], *, lookup: bool = False) -> None:
        self.irregular = Irregular()
        self.models: dict[str, _Model] = {}
        self._read_models(store, set(models), lookup)
        self.profiles: dict[str, list[_ProfileRow]] = {}
        self.provides: dict[str, frozenset[str]] = {}
        self.ram_overhead: dict[str, int] = {}
        self.core_code: dict[tuple[str, str], int] = {}
        self.registers: dict[str, frozenset[str]] = {}
        self._read_profiles(store)

    def _each(
        self,
        rows: list[dict[str, Any]],
        apply: Callable[[_Model, dict[str, Any]], None],
    ) -> None:
        """Apply rows to their models; a row not ``ok`` makes its model irregular."""
        for row in rows:
            name = str(row["model"])
            model = self.models.get(name)
            if model is None:
                continue
            if row.get("ok") is not True:
                self.irregular.models.add(name)
                continue
            apply(model, row)

    def _read_models(self, store: GraphStore, wanted: set[str], lookup: bool) -> None:
        # A scan reads every model's figures: one pattern per sub-select, which Oxigraph
        # joins by hash (no lookups). A lookup reads a few models' figures from their IRIs:
        # the same patterns, after a VALUES block of the wanted models.
        first = _values(wanted) if lookup else ""
        for row in _select(
            store,
            f"?model ?bytes ({_integer('bytes')} AS ?ok)",
            first
            + (
                "?model a tr:Model ; tr:modelBytes ?bytes "
                "FILTER EXISTS { ?model tr:quantizationType ?q } "
                "FILTER EXISTS { ?model tr:macs ?m }"
                if lookup
                else "{ SELECT ?model WHERE { ?model a tr:Model } } "
                "{ SELECT ?model ?bytes WHERE { ?model tr:modelBytes ?bytes } } "
                "{ SELECT DISTINCT ?model WHERE { ?model tr:quantizationType ?q } } "
                "{ SELECT DISTINCT ?model WHERE { ?model tr:macs ?m } }"
            ),
        ):
            name = str(row["model"])
            if name not in wanted:
                continue
            if row.get("ok") is not True:
                self.irregular.models.add(name)
                continue
            figure = int(row["bytes"])
            known = self.models.get(name)
            if known is None:
                self.models[name] = _Model(figure)
            else:
                known.model_bytes = min(known.model_bytes, figure)

        def assessment(model: _Model, row: dict[str, Any]) -> None:
            arena = row.get("arena")
            model.assessments.append(
                (str(row["assessed"]), bool(row["runnable"]), None if arena is None else int(arena))
            )

        # STR() of a blank node is an error: such an assessment never names a runtime
        self._each(
            _select(
                store,
                f"?model ?assessed ?runnable ?arena "
                f"({_boolean('runnable')} && (!BOUND(?arena) || {_integer('arena')}) AS ?ok)",
                first
                + (
                    "?model tr:hasRuntimeAssessment ?a . ?a tr:assessedRuntime ?assessed ; "
                    "tr:runnable ?runnable OPTIONAL { ?a tr:arenaBytes ?arena } "
                    if lookup
                    else "{ SELECT ?model ?a WHERE { ?model tr:hasRuntimeAssessment ?a } } "
                    "{ SELECT ?a ?assessed WHERE { ?a tr:assessedRuntime ?assessed } } "
                    "{ SELECT ?a ?runnable WHERE { ?a tr:runnable ?runnable } } "
                    "OPTIONAL { { SELECT ?a ?arena WHERE { ?a tr:arenaBytes ?arena } } } "
                )
                + "FILTER(!isBlank(?assessed))",
            ),
            assessment,
        )

        def target(model: _Model, row: dict[str, Any]) -> None:
            family, arena = str(row["family"]), int(row["arena"])
            model.target_arenas[family] = min(arena, model.target_arenas.get(family, arena))

        # a family that is not a simple literal never equals a (regular) profile's
        self._each(
            _select(
                store,
                f"?model ?family ?arena ({_integer('arena')} AS ?ok)",
                first
                + "?bench tr:benchmarkOf ?model ; a tr:TargetBenchmark ; tr:coreFamily ?family ; "
                f"tr:arenaBytes ?arena ; tr:sha256 ?sha . ?model tr:sha256 ?sha "
                f"FILTER{_simple('family')}",
            ),
            target,
        )
        self._each(
            _select(
                store,
                f"?model ?table ({_simple('table')} AS ?ok)",
                first + "?model tr:kernelCodeTable ?table",
            ),
            lambda model, row: model.kernel_tables.append(str(row["table"])),
        )
        # only IRIs equal a profile's release
        self._each(
            _select(
                store,
                "?model ?release (true AS ?ok)",
                first + "?model tr:operatorsOfferedBy ?release FILTER(isIRI(?release))",
            ),
            lambda model, row: model.offered_by.add(str(row["release"])),
        )
        self._each(
            _select(store, "DISTINCT ?model (true AS ?ok)", first + "?model tr:customOperator ?op"),
            lambda model, row: setattr(model, "custom", True),
        )
        # one row a model (IRIs hold no space): a fifth of the IRIs to decode
        self._each(
            _select(
                store,
                '?model (GROUP_CONCAT(STR(?op); separator=" ") AS ?ops) '
                "(SUM(IF(isIRI(?op), 0, 1)) = 0 AS ?ok)",
                first + "?model tr:usesOperatorType ?op",
                " GROUP BY ?model",
            ),
            lambda model, row: model.uses.update(str(row["ops"]).split(" ")),
        )
        needs: dict[str, set[str]] = defaultdict(set)
        self._each(
            _select(
                store,
                "?model ?need (isIRI(?need) AS ?ok)",
                first + "?model tr:requiresSensorType ?need",
            ),
            lambda model, row: needs[str(row["model"])].add(str(row["need"])),
        )
        for name, kinds in needs.items():
            if name in self.models:
                self.models[name].needs = frozenset(kinds)
        for name in self.irregular.models:
            self.models.pop(name, None)

    def _read_profiles(self, store: GraphStore) -> None:
        ok = " && ".join(
            [
                "isIRI(?runtime)",
                "isIRI(?release)",
                _simple("runtimeName"),
                _simple("family"),
                *(
                    _integer(v)
                    for v in ("ramCapacity", "ramReserved", "flashCapacity", "flashReserved")
                ),
            ]
        )
        found: dict[str, set[_ProfileRow]] = defaultdict(set)
        for row in _select(
            store,
            "DISTINCT ?profile ?runtime ?release ?runtimeName ?ramCapacity ?ramReserved "
            f"?flashCapacity ?flashReserved ?family ({ok} AS ?ok)",
            "?profile a tr:DeviceProfile ; tr:runtime ?runtime ; tr:runtimeRelease ?release ; "
            "tr:runtimeName ?runtimeName ; tr:ramCapacityBytes ?ramCapacity ; "
            "tr:reservedRamBytes ?ramReserved ; tr:flashCapacityBytes ?flashCapacity ; "
            "tr:reservedFlashBytes ?flashReserved ; tr:coreFamily ?family ; tr:clockHz ?clock ; "
            "tr:hasFPU ?fpu ; tr:hasDSP ?dsp",
        ):
            name = str(row["profile"])
            if row.get("ok") is not True:
                self.irregular.profiles.add(name)
                continue
            found[name].add(
                _ProfileRow(
                    runtime=str(row["runtime"]),
                    release=str(row["release"]),
                    runtime_name=str(row["runtimeName"]),
                    ram_free=int(row["ramCapacity"]) - int(row["ramReserved"]),
                    flash_free=int(row["flashCapacity"]) - int(row["flashReserved"]),
                    family=str(row["family"]),
                )
            )
        provides: dict[str, set[str]] = defaultdict(set)
        # only IRIs are matched against the models' (IRI) needs
        for row in _select(
            store, "?profile ?kind", "?profile tr:providesSensorType ?kind FILTER(isIRI(?kind))"
        ):
            provides[str(row["profile"])].add(str(row["kind"]))
        bad_releases: set[str] = set()
        for row in _select(
            store,
            f"?release ?bytes ({_integer('bytes')} AS ?ok)",
            "?release tr:ramOverheadBytes ?bytes FILTER(isIRI(?release))",
        ):
            release = str(row["release"])
            if row.get("ok") is not True:
                bad_releases.add(release)
                continue
            figure = int(row["bytes"])
            self.ram_overhead[release] = min(figure, self.ram_overhead.get(release, figure))
        for row in _select(
            store,
            f"?release ?family ?bytes ({_integer('bytes')} AS ?ok)",
            "?release tr:hasCoreCodeSize ?size . ?size tr:coreFamily ?family ; "
            f"tr:codeBytes ?bytes FILTER(isIRI(?release) && {_simple('family')})",
        ):
            release = str(row["release"])
            if row.get("ok") is not True:
                bad_releases.add(release)
                continue
            key = (release, str(row["family"]))
            figure = int(row["bytes"])
            self.core_code[key] = min(figure, self.core_code.get(key, figure))
        registers: dict[str, set[str]] = defaultdict(set)
        # only IRIs are matched against the models' (IRI) operators
        for row in _select(
            store,
            "DISTINCT ?runtime ?op",
            "{ SELECT DISTINCT ?runtime WHERE { ?profile a tr:DeviceProfile ; "
            "tr:runtime ?runtime } } ?runtime tr:registersOperator ?op FILTER(isIRI(?op))",
        ):
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
    store: GraphStore, models: Iterable[str], *, lookup: bool = False
) -> tuple[dict[str, set[str]], Irregular]:
    """The profiles each model fits, as ``verdicts.rq`` decides, for the regular ones.

    Args:
        store: The registry's store.
        models: Model IRIs to evaluate against every profile of the store.
        lookup: Read the models' figures by their IRIs (a few models, e.g. a batch being
            registered) instead of scanning every model's (many models, e.g. a build).

    Returns:
        The fitting profiles of each regular model (every regular model is a key), and
        the models and profiles left to the store's verdict query: an irregular model's
        pairs, and the pairs of an irregular profile with every model, are not in the
        answer.

    """
    figures = _Figures(store, models, lookup=lookup)
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
