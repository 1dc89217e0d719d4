"""The registry of a store that a running ``tinyreg serve`` holds, for the command line.

While ``tinyreg serve`` runs on an embedded store, the store's lock is the server's.
:class:`ServedRegistry` is then what the command line works with: it reads the store
opened read-only (which follows the server's writes: see
:mod:`tinyreg.core.stores.oxigraph_store`) and sends its writes (``add model``,
``add device``, ``delete``) to the server over loopback, with the token of the local
credential file the server keeps beside the store (:mod:`tinyreg.registry.local`). The
server is the only writer, so no write is lost, and a read never sees half of one. A
command that writes anything else (import, deploy, the loop) fails with a store error
that names the running server; run it through the server's REST API or stop the server.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

from tinyreg.core.errors import (
    AuthError,
    ConflictError,
    ForbiddenError,
    InputError,
    NotFoundError,
    StoreError,
)
from tinyreg.core.stores import OxigraphStore
from tinyreg.registry.blobs import DirectoryBlobs
from tinyreg.registry.cards import ModelCard
from tinyreg.registry.catalogue import CARD_SUFFIXES, DeviceRecord, ModelRecord
from tinyreg.registry.local import LocalCredential
from tinyreg.registry.service import Registry

__all__ = ["ServedRegistry"]

TIMEOUT_S = 600.0
"""Seconds a write may take at the server (a model's arena is measured there)."""


class ServedRegistry(Registry):
    """A registry read from the store read-only, written through the server that holds it.

    Args:
        folder: The store directory.
        credential: The running server's local credential.
        model_store: The folder of models' bytes; default: ``models/`` in the store.

    """

    def __init__(
        self, folder: Path, credential: LocalCredential, model_store: Path | None = None
    ) -> None:
        blobs = DirectoryBlobs(model_store) if model_store is not None else None
        super().__init__(OxigraphStore(folder, read_only=True), blobs)
        self.credential = credential
        self._http = requests.Session()
        self._http.headers["Authorization"] = f"Bearer {credential.token}"

    def _send(self, method: str, path: str, **options: Any) -> requests.Response:
        """One request to the server; its Problem Details raised as tinyreg errors."""
        url = self.credential.url.rstrip("/") + path
        try:
            answer = self._http.request(method, url, timeout=TIMEOUT_S, **options)
        except requests.RequestException as exc:
            raise StoreError(
                self.store.label,
                f"the server holding the store (pid {self.credential.pid}) did not answer: {exc}",
            ) from exc
        if answer.status_code < 400:
            return answer
        try:
            problem = answer.json()
            detail = str(problem.get("detail") or problem.get("title") or answer.reason)
            for item in problem.get("validationErrors") or []:
                detail += f"\n  {item.get('field', '')}: {item.get('description', '')}"
        except ValueError:
            detail = answer.text[:500] or answer.reason
        status = answer.status_code
        if status == 401:
            raise AuthError(f"the server refused the local credential: {detail}")
        if status == 403:
            raise ForbiddenError(detail)
        if status == 404:
            raise NotFoundError("resource", path.rsplit("/", 1)[-1])
        if status == 409:
            raise ConflictError("resource", path.rsplit("/", 1)[-1], detail)
        if status < 500:
            raise InputError(detail)
        raise StoreError(self.store.label, f"the server answered {status}: {detail}")

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
        """Register a model through the server (``POST /models``); see the base class."""
        if isinstance(source, Path):
            data, name = source.read_bytes(), source.name
            if card is None:
                card = next(
                    (
                        source.with_suffix(s)
                        for s in CARD_SUFFIXES
                        if source.with_suffix(s).is_file()
                    ),
                    None,
                )
        else:
            data, name = source, filename or "model.tflite"
        files: dict[str, Any] = {"file": (name, data, "application/octet-stream")}
        if isinstance(card, Path):
            files["card"] = (card.name, card.read_bytes(), "application/octet-stream")
        elif isinstance(card, bytes | str):
            files["card"] = (card_label, card, "application/octet-stream")
        elif isinstance(card, ModelCard):
            text = json.dumps({k: v for k, v in asdict(card).items() if v is not None})
            files["card"] = ("card.json", text, "application/json")
        form = {"id": ident} if ident else None
        flags = f"replace={'true' if replace else 'false'}&infer={'true' if infer else 'false'}"
        answer = self._send("POST", f"/models?{flags}", files=files, data=form)
        return self.get_model(str(answer.json()["id"]))

    def add_device(self, source: Path | str | bytes | dict[str, Any]) -> DeviceRecord:
        """Register a device TD through the server (``PUT /things/{id}``); see the base class."""
        if isinstance(source, Path):
            text: str | bytes = source.read_bytes()
        elif isinstance(source, dict):
            text = json.dumps(source)
        else:
            text = source
        iri, _ = self.describe_device(text)  # refused here, with the same errors, before sending
        headers = {"Content-Type": "application/td+json"}
        self._send("PUT", f"/things/{quote(iri, safe=':/')}", data=text, headers=headers)
        return self.get_device(iri)

    def delete(self, ident: str) -> str:
        """Delete a model or device through the server; returns its IRI."""
        iri = self.locate(ident)
        if "/model/" in iri:
            self._send("DELETE", f"/models/{quote(self.get_model(iri).id, safe='')}")
        else:
            self._send("DELETE", f"/things/{quote(iri, safe=':/')}")
        return iri

    def close(self) -> None:
        """Close the read-only store and the connection to the server."""
        self._http.close()
        super().close()
