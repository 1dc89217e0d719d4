"""The fit index: which device profiles each model fits, kept as models and devices register.

The matchmaker's verdict query (``matchmaker/queries/verdicts.rq``) decides whether a model
fits a device profile. Answering "which models fit this board" with it means evaluating
every model of the catalogue: over a second at 10,000 models. The fit index keeps its
answers instead: when models register, their verdicts against every profile are
evaluated (:mod:`tinyreg.matchmaker.fitcheck`, from their figures read by their IRIs, term
by term as the verdict query; the query itself for figures out of the ordinary and on
Virtuoso) and the fitting pairs are written as ``<model> tr:fitsProfile <profile>``, in
the model's own graph ``urn:tinyreg:fits:<digest>``; when a device brings a profile never
seen before, the verdict query runs for that profile against every model.

Markers say what the index covers: ``<urn:tinyreg:fits> tr:indexedModel <model>`` (in the
model's fits graph, so replacing it is atomic) and ``<urn:tinyreg:fits>
tr:indexedProfile <profile>`` (in ``urn:tinyreg:fits:profiles``). The matchmaker reads
the index only when every model and every profile is covered (:meth:`FitIndex.missing`,
four counts, a few milliseconds at 10,000 models); otherwise it evaluates the verdict query
as before. Profiles are named by a digest of their figures, so a profile never changes
under its name; a change of the runtime tables re-derives every model's requirements and
rebuilds the index (``Registry.refresh_requirements``). Data bulk-loaded around the
registry (``GraphStore.bulk_load``) is covered by :meth:`FitIndex.build`
(``tinyreg reindex``), which evaluates many models at once from figures read in bulk
(:mod:`tinyreg.matchmaker.fitcheck`: the verdict query's pairs, with the query itself for
figures out of the ordinary) and bulk loads the pairs.

**Several writers.** Replicas over one SPARQL server register at the same moment, so a
model's verdicts may be computed just before a device brings a new profile, while that
profile's pairs are added to the models indexed so far, which do not include the model
yet: both markers would be written and the pair lost. Each writer therefore checks the
other side after writing, with no lock: a model's indexer reads the profile markers
before computing and again after writing, and evaluates the model against each profile
marked in between; a profile's indexer reads the model markers before and after, and
evaluates the profile against each model marked in between. The store applies each
request atomically and in some order, so of two writers racing, at least one sees the
other's marker and adds the pair (pairs are inserted, never replaced, so adding one twice
is harmless). Profile markers are inserted, never rewritten from a read.

>>> fits_graph_name("https://w3id.org/tinyreg/model/kws").startswith(FITS_PREFIX)
True
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any

from rdflib import Literal, URIRef
from rdflib.term import Node

from tinyreg.core.namespaces import TR
from tinyreg.core.queries import load_query
from tinyreg.core.stores.base import GraphStore, inline_bindings, normalise_bindings
from tinyreg.matchmaker.dialect import verdict_query, virtuoso_bound
from tinyreg.matchmaker.fitcheck import fitting_pairs

__all__ = ["FITS_PREFIX", "FITS_STATE", "PROFILE_MARKERS", "FitIndex", "fits_graph_name"]

FITS_PREFIX = "urn:tinyreg:fits:"
FITS_STATE = "urn:tinyreg:fits"
PROFILE_MARKERS = "urn:tinyreg:fits:profiles"
_BATCH = 200  # model fits graphs written per transaction by build() on Virtuoso
_DROP_BATCH = 1000  # old fits graphs dropped per update by build()
_MARK_BATCH = 2000  # model markers written per update by build()


@cache
def _fits_query(dialect: str) -> str:
    """``verdicts.rq`` in a store's dialect, fitting pairs only (``onlyFits`` inlined)."""
    return inline_bindings(verdict_query(dialect), normalise_bindings({"onlyFits": Literal(True)}))


def fits_graph_name(model: str) -> str:
    """The name of the graph that holds a model's fitting profiles and its marker."""
    return FITS_PREFIX + hashlib.sha256(model.encode()).hexdigest()[:32]


class FitIndex:
    """Build and maintain the fit index of a store.

    Args:
        store: The registry's store.

    """

    def __init__(self, store: GraphStore) -> None:
        self.store = store
        self._kept: tuple[int, dict[str, Any]] = (-1, {})  # (generation, values by name)

    # ------------------------------------------------------------------ reads

    def missing(self) -> tuple[int, int]:
        """How many models and profiles the index does not cover (``(0, 0)``: complete).

        Counts are compared (models against model markers, profiles against profile
        markers): 3–5 ms at 10,000 models. A model graph deleted around the registry
        leaves a marker behind and shows up as a difference too. On a store that counts
        its writes (the embedded store's ``generation``, which also follows other
        processes' writes) the answer is kept until the next write.
        """
        answer: tuple[int, int] = self.kept("missing", self._count_missing)
        return answer

    def kept_counts(self) -> dict[str, int] | None:
        """Devices a profile, as counted since the store's last write (``None``: not kept).

        The matchmaker counts the devices of the profiles an answer names and keeps the
        counts here; the dict is emptied when the store's write ``generation`` changes,
        and is ``None`` on a store that does not count its writes.
        """
        if not isinstance(getattr(self.store, "generation", None), int):
            return None
        counts: dict[str, int] = self.kept("profile_counts", dict)
        return counts

    def kept(self, name: str, read: Callable[[], Any]) -> Any:
        """A value read from the store, kept until the store's next write.

        ``read`` is called when the value is not kept for the store's current write
        ``generation``; on a store that does not count its writes it is called every
        time. The generation is read before ``read`` runs, so a write during the read
        makes the next call read again (a kept value is never older than its generation).

        Args:
            name: What the value is (one name, one value).
            read: Reads the value from the store.

        Returns:
            The value, kept or just read.

        """
        generation = getattr(self.store, "generation", None)
        if not isinstance(generation, int):
            return read()
        kept = self._kept
        if kept[0] != generation:
            kept = (generation, {})
            self._kept = kept
        if name not in kept[1]:
            kept[1][name] = read()
        return kept[1][name]

    def _count_missing(self) -> tuple[int, int]:
        row = self.store.select_values(load_query("tinyreg.matchmaker", "fits_missing"))[0]
        models = int(row.get("models", 0)) - int(row.get("indexedModels", 0))
        profiles = int(row.get("profiles", 0)) - int(row.get("indexedProfiles", 0))
        # more markers than resources: something was deleted around the registry
        return (models if models >= 0 else -models), (profiles if profiles >= 0 else -profiles)

    def _fitting(self, bindings: dict[str, Node]) -> list[dict[str, Any]]:
        """The verdict query's fitting pairs among those ``bindings`` leave open."""
        dialect = self.store.dialect
        if dialect == "virtuoso":
            query = virtuoso_bound(verdict_query(dialect), {"onlyFits": Literal(True), **bindings})
            return self.store.select_values(query)
        return self.store.select_values(_fits_query(dialect), bindings)

    def _fitting_profiles(self, model: str) -> list[str]:
        rows = self._fitting({"model": URIRef(model)})
        return sorted({str(row["profile"]) for row in rows})

    def _fitting_models(self, profile: str) -> list[str]:
        rows = self._fitting({"profile": URIRef(profile)})
        return sorted({str(row["model"]) for row in rows})

    def _profile_markers(self) -> set[str]:
        rows = self.store.select_values(
            f"SELECT ?p WHERE {{ <{FITS_STATE}> <{TR.indexedProfile}> ?p }}"
        )
        return {str(row["p"]) for row in rows}

    def _model_markers(self) -> set[str]:
        return set(self._items("indexed_models"))

    def _fits_pair(self, model: str, profile: str) -> bool:
        return bool(self._fitting({"model": URIRef(model), "profile": URIRef(profile)}))

    def _add_pairs(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Insert fitting pairs into their models' fits graphs (idempotent)."""
        triples = "\n".join(
            f"GRAPH <{fits_graph_name(m)}> {{ <{m}> <{TR.fitsProfile}> <{p}> }}"
            for m, p in sorted(pairs)
        )
        if triples:
            self.store.update(f"INSERT DATA {{ {triples} }}")

    def _items(self, kind: str) -> list[str]:
        return sorted(
            str(row["item"])
            for row in self.store.select_values(load_query("tinyreg.matchmaker", f"fits_{kind}"))
        )

    def _profile_count(self) -> int:
        """Profiles the index covers."""
        rows = self.store.select_values(
            f"SELECT (COUNT(*) AS ?n) WHERE {{ <{FITS_STATE}> <{TR.indexedProfile}> ?p }}"
        )
        return int(rows[0]["n"])

    # ------------------------------------------------------------------ writes

    @staticmethod
    def _model_text(model: str, profiles: Iterable[str]) -> str:
        """A model's fits graph (its pairs and its marker) as N-Triples."""
        fits_profile = f"<{TR.fitsProfile}>"
        lines = [f"<{model}> {fits_profile} <{profile}> .\n" for profile in sorted(profiles)]
        lines.append(f"<{FITS_STATE}> <{TR.indexedModel}> <{model}> .\n")
        return "".join(lines)

    def index_models(self, models: Iterable[str]) -> None:
        """Compute and store the fitting profiles of some models (replacing what was kept).

        The models are evaluated together from their figures, read by their IRIs
        (:func:`~tinyreg.matchmaker.fitcheck.fitting_pairs`); a model whose figures are
        out of the ordinary, every model when some profile's are, and every model on
        Virtuoso get the verdict query instead. The pairs and markers are written in one
        transaction; profiles marked by another writer meanwhile are then checked against
        these models (see "Several writers" above).
        """
        models = list(dict.fromkeys(models))
        if not models:
            return
        seen = self._profile_markers()
        fits = self._batch_fits(models)
        self.store.replace_graphs_text(
            {fits_graph_name(m): self._model_text(m, fits[m]) for m in models}
        )
        while True:
            now = self._profile_markers()
            late = now - seen
            if not late:
                break
            self._add_pairs((m, p) for m in models for p in late if self._fits_pair(m, p))
            seen = now

    def _batch_fits(self, models: Sequence[str]) -> dict[str, set[str]]:
        """The fitting profiles of a few models, as the verdict query decides."""
        if self.store.dialect != "virtuoso":
            fits, irregular = fitting_pairs(self.store, models, lookup=True)
            if not irregular.profiles:
                for model in models:
                    if model not in fits:  # figures out of the ordinary, or none at all
                        fits[model] = set(self._fitting_profiles(model))
                return fits
        return {model: set(self._fitting_profiles(model)) for model in models}

    def index_profiles(self, profiles: Iterable[str]) -> None:
        """Add the models that fit some new profiles to the index, one update per profile.

        Only models the index already covers get the new pairs: a model not yet indexed
        gets every pair when it is (its own verdicts cover every profile).
        Models marked by another writer meanwhile are then checked against the profile
        (see "Several writers" above).
        """
        for profile in profiles:
            indexed = self._model_markers()
            models = set(self._fitting_models(profile))
            triples = "\n".join(
                f"GRAPH <{fits_graph_name(m)}> {{ <{m}> <{TR.fitsProfile}> <{profile}> }}"
                for m in sorted(models & indexed)
            )
            self.store.update(
                f"INSERT DATA {{ {triples}\n GRAPH <{PROFILE_MARKERS}> "
                f"{{ <{FITS_STATE}> <{TR.indexedProfile}> <{profile}> }} }}"
            )
            while True:
                now = self._model_markers()
                late = now - indexed
                if not late:
                    break
                fitting = set(self._fitting_models(profile))
                self._add_pairs((m, profile) for m in late & fitting)
                indexed = now

    def index_new_profiles(self, profiles: Iterable[str]) -> None:
        """Index those of ``profiles`` the index does not cover yet."""
        todo = [p for p in profiles if not self.has_profile(p)]
        if todo:
            self.index_profiles(todo)

    def has_profile(self, profile: str) -> bool:
        """Whether a profile is covered by the index."""
        return self.store.ask(
            f"ASK {{ <{FITS_STATE}> <{TR.indexedProfile}> ?profile }}", {"profile": URIRef(profile)}
        )

    def build(
        self,
        *,
        everything: bool = False,
        workers: int = 2,
        progress: Callable[[int, int], None] | None = None,
    ) -> int:
        """Index what the index does not cover (or, with ``everything``, all again).

        The models' fitting profiles are evaluated together from figures read in bulk
        (:func:`tinyreg.matchmaker.fitcheck.fitting_pairs`; models and profiles with
        figures out of the ordinary by the verdict query, in ``workers`` threads); their
        old fits graphs are dropped, the pairs bulk loaded and the models marked last.
        On Virtuoso each model's verdicts are the store's verdict query (``workers``
        threads), written ``200`` models per transaction. Then the profiles are marked.
        Without ``everything``, profiles not yet covered are added to the models already
        covered (or those models are indexed again, if that evaluates fewer pairs), then
        the models not yet covered are indexed against every profile.

        Args:
            everything: Drop the index and build it from scratch.
            workers: Threads that run verdict queries.
            progress: Called with (models done, models to do) as the work goes.

        Returns:
            The number of models indexed.

        """
        if everything:
            self.clear()
        profiles = self._items("unindexed_profiles")
        models = self._items("unindexed_models")
        indexed = self._items("indexed_models")
        if profiles and indexed:
            # New profiles must reach the models already indexed: add them to those models
            # (a verdict query per new profile over every model), or index those models
            # again (one per model, over every profile), whichever evaluates fewer pairs.
            every_profile = len(profiles) + self._profile_count()
            if len(profiles) * (len(indexed) + len(models)) <= len(indexed) * every_profile:
                self.index_profiles(profiles)
                profiles = []
            else:
                models = sorted(set(models) | set(indexed))
        self._index_many(models, workers, progress)
        if profiles:
            markers = "\n".join(
                f"<{FITS_STATE}> <{TR.indexedProfile}> <{profile}> ." for profile in profiles
            )
            self.store.update(f"INSERT DATA {{ GRAPH <{PROFILE_MARKERS}> {{ {markers} }} }}")
        return len(models)

    def _index_many(
        self, models: Sequence[str], workers: int, progress: Callable[[int, int], None] | None
    ) -> None:
        if not models:
            return
        if self.store.dialect == "virtuoso":
            self._index_by_query(models, workers, progress)
            return
        seen = self._profile_markers()
        fits, irregular = fitting_pairs(self.store, models)
        # what the figures read in bulk cannot decide, the verdict query does
        odd = [m for m in models if m in irregular.models]
        with ThreadPoolExecutor(max(1, workers)) as pool:
            for model, profiles in zip(odd, pool.map(self._fitting_profiles, odd), strict=True):
                fits[model] = set(profiles)
        for profile in sorted(irregular.profiles):
            for model in self._fitting_models(profile):
                if model in fits:
                    fits[model].add(profile)
        self._write_fits({m: fits.get(m, set()) for m in models})
        if progress is not None:
            progress(len(models), len(models))
        self._add_late_profiles(models, seen)

    def _write_fits(self, fits: Mapping[str, Iterable[str]]) -> None:
        """Replace the fits graphs of some models: pairs bulk loaded, then the markers.

        The old graphs (pairs and marker) are dropped first, so a model is unmarked, and
        the matchmaker does not read its pairs, until every pair of it is loaded; a load
        cut short leaves models unmarked, indexed again by the next build.
        """
        names = {model: fits_graph_name(model) for model in fits}
        ordered = sorted(names)
        for start in range(0, len(ordered), _DROP_BATCH):
            self.store.update(
                " ;\n".join(
                    f"DROP SILENT GRAPH <{names[m]}>" for m in ordered[start : start + _DROP_BATCH]
                )
            )
        fits_profile = f"<{TR.fitsProfile}>"
        lines = [
            f"<{model}> {fits_profile} <{profile}> <{names[model]}> .\n"
            for model in ordered
            for profile in sorted(fits[model])
        ]
        if lines:
            self.store.bulk_load("".join(lines).encode(), rdf_format="nq")
        marker = f"<{FITS_STATE}> <{TR.indexedModel}>"
        for start in range(0, len(ordered), _MARK_BATCH):
            self.store.update(
                "INSERT DATA { "
                + "\n".join(
                    f"GRAPH <{names[m]}> {{ {marker} <{m}> }}"
                    for m in ordered[start : start + _MARK_BATCH]
                )
                + " }"
            )

    def _add_late_profiles(self, models: Sequence[str], seen: set[str]) -> None:
        """Evaluate profiles marked by another writer during a build (see "Several writers")."""
        wanted = set(models)
        while True:
            now = self._profile_markers()
            late = now - seen
            if not late:
                return
            self._add_pairs(
                (m, p) for p in sorted(late) for m in self._fitting_models(p) if m in wanted
            )
            seen = now

    def _index_by_query(
        self, models: Sequence[str], workers: int, progress: Callable[[int, int], None] | None
    ) -> None:
        """Index models with the verdict query, one query a model (Virtuoso)."""
        done = 0
        with ThreadPoolExecutor(max(1, workers)) as pool:
            for start in range(0, len(models), _BATCH):
                batch = models[start : start + _BATCH]
                fits = pool.map(self._fitting_profiles, batch)
                self.store.replace_graphs_text(
                    {
                        fits_graph_name(m): self._model_text(m, profiles)
                        for m, profiles in zip(batch, fits, strict=True)
                    }
                )
                done += len(batch)
                if progress is not None:
                    progress(done, len(models))

    def drop_model(self, model: str) -> None:
        """Remove a model from the index (when the model is deleted or replaced)."""
        self.store.delete_graph(fits_graph_name(model))

    def clear(self) -> None:
        """Drop the whole index."""
        self.store.update(
            f"DELETE WHERE {{ GRAPH ?g {{ <{FITS_STATE}> <{TR.indexedModel}> ?m }} }} ;\n"
            f"DROP SILENT GRAPH <{PROFILE_MARKERS}>"
        )
        self.store.update(f"DELETE WHERE {{ GRAPH ?g {{ ?m <{TR.fitsProfile}> ?p }} }}")
