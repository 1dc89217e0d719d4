"""The command line's light read path: an embedded store read without rdflib.

``tinyreg list`` and ``tinyreg show`` only read a few hundred rows, yet the full service
(:class:`~tinyreg.registry.service.Registry`) first imports rdflib and the store layer
(about a third of a second) and opens the store with its lock (RocksDB recovers its log:
0.1-0.2 s). :class:`CatalogueReader` answers the same read methods of the catalogue
(``list_models``, ``list_devices``, ``get_model``, ``get_device``, ``resolve``,
``locate``, ``details``) from the same packaged queries, through
:class:`~tinyreg.core.stores.plain.PlainReader`: the store opened read-only (no lock, so
it also reads a store a running ``tinyreg serve`` or another command holds), rows as
plain values, records built by the catalogue's own builders
(:mod:`tinyreg.registry.records`). The answers are the catalogue's, value for value.

:meth:`CatalogueReader.open` declines (returns ``None``, and the command opens the full
service) for anything but an existing embedded store that already holds this release's
reference graphs (the ontology and the runtime tables), since the full service brings
those up to date when it opens a store.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any, Self

import pyoxigraph as ox

from tinyreg.core.errors import NotFoundError, StoreError
from tinyreg.core.iris import MODEL_PREFIX
from tinyreg.core.queries import load_query
from tinyreg.core.stores.plain import PlainReader, PlainTerm, is_store_directory
from tinyreg.registry.records import (
    DeviceRecord,
    ModelRecord,
    device_details,
    device_records,
    locate_id,
    model_records,
    model_tensors,
    resolve_id,
)
from tinyreg.registry.reference import reference_digests

__all__ = ["CatalogueReader"]

_DIGEST = "SELECT ?g ?v WHERE { GRAPH ?g { ?g <https://w3id.org/tinyreg#sha256> ?v } }"
"""A reference graph's digest (the catalogue's query)."""


def _query(name: str) -> str:
    return load_query("tinyreg.registry", name)


class CatalogueReader:
    """The catalogue's read methods over an embedded store opened read-only.

    Args:
        store: The store directory, opened read-only.

    """

    def __init__(self, store: PlainReader) -> None:
        self.store = store

    @classmethod
    def open(cls, folder: str | Path) -> CatalogueReader | None:
        """A reader of the embedded store in ``folder``, or ``None`` when it cannot serve.

        ``None`` when ``folder`` holds no store, the store cannot be opened read-only,
        or its reference graphs are not this release's: the full service then opens it
        (creating it, explaining the failure, or bringing the graphs up to date).
        """
        if not is_store_directory(folder):
            return None
        try:
            store = PlainReader(folder)
        except StoreError:
            return None
        for name, digest in reference_digests().items():
            stored = store.select(_DIGEST, {"g": ox.NamedNode(name)})
            if not stored or stored[0].get("v") != digest:
                store.close()
                return None
        return cls(store)

    # ------------------------------------------------------------------ models, devices

    def _models(self, bindings: dict[str, PlainTerm] | None) -> list[ModelRecord]:
        rows = self.store.select(_query("models"), bindings)
        lists = self.store.select(_query("model_lists"), bindings)
        return model_records(rows, lists)

    def _devices(self, bindings: dict[str, PlainTerm] | None) -> list[DeviceRecord]:
        rows = self.store.select(_query("devices"), bindings)
        sensors = self.store.select(_query("device_sensors"), bindings)
        return device_records(rows, sensors)

    def list_models(self) -> list[ModelRecord]:
        """All registered models, ordered by id."""
        return self._models(None)

    def list_devices(self) -> list[DeviceRecord]:
        """All registered devices, ordered by id."""
        return self._devices(None)

    def get_model(self, ident: str) -> ModelRecord:
        """One model by id, IRI or (unambiguous) name (see the catalogue's)."""
        iri = self.resolve("model", ident)
        records = self._models({"model": ox.NamedNode(iri)})
        if not records:
            raise NotFoundError("model", ident)
        return records[0]

    def get_device(self, ident: str) -> DeviceRecord:
        """One device by id, short id or (unambiguous) title (see the catalogue's)."""
        iri = self.resolve("device", ident)
        records = self._devices({"device": ox.NamedNode(iri)})
        if not records:
            raise NotFoundError("device", ident)
        return records[0]

    # ------------------------------------------------------------------ ids, details

    def _is_a(self, iri: str, cls: str) -> bool:
        try:
            node = ox.NamedNode(iri)
        except ValueError:  # not an IRI pyoxigraph accepts: not a registered resource's
            return False
        return self.store.ask("ASK { ?r a ?cls }", {"r": node, "cls": ox.NamedNode(cls)})

    def _named(self, cls: str, text: str) -> list[str]:
        rows = self.store.select(
            _query("resources"), {"cls": ox.NamedNode(cls), "wanted": ox.Literal(text)}
        )
        return [str(r["resource"]) for r in rows]

    def resolve(self, kind: str, ident: str) -> str:
        """Turn what a user typed into a resource IRI (the catalogue's rule).

        Raises:
            NotFoundError: If nothing matches.
            AmbiguousIdError: If a name matches several resources.

        """
        return resolve_id(kind, ident, self._is_a, self._named)

    def locate(self, ident: str, kind: str | None = None) -> str:
        """Resolve an id or name that may denote a model or a device (the catalogue's rule)."""
        return locate_id(ident, kind, self.resolve)

    def details(self, ident: str, kind: str | None = None) -> dict[str, Any]:
        """Everything ``tinyreg show`` prints of a model or a device (the catalogue's)."""
        iri = self.locate(ident, kind)
        node = ox.NamedNode(iri)
        if iri.startswith(MODEL_PREFIX):
            data = self.get_model(iri).to_dict()
            tensors = model_tensors(self.store.select(_query("model_tensors"), {"model": node}))
            return {**data, "inputs": tensors["input"], "outputs": tensors["output"]}
        sensors = self.store.select(_query("device_sensors"), {"device": node})
        operators = self.store.select(_query("device_operators"), {"device": node})
        return device_details(self.get_device(iri), sensors, operators)

    # ------------------------------------------------------------------ life

    def close(self) -> None:
        """Let go of the store."""
        self.store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
