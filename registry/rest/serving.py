"""``tinyreg serve``: one or more server processes on one port.

Process 0, the *writer*, opens the store (for an embedded store: its lock) and runs the
whole app. It listens on the public address and on a loopback port of its own, which it
names with a token in the local credential file beside the store
(:mod:`tinyreg.registry.local`), for the command line and for the other processes.

With ``workers > 1``, processes 1 .. N-1 are *readers*: started (``spawn``) once the
writer's store is open, they share the public listening socket (the kernel hands each
new connection to one of the processes), open the embedded store read-only and follow the
writer's write generation, answer plain reads themselves from their own cache, and
forward everything else to the writer (:mod:`tinyreg.registry.rest.funnel`). So no write
is lost (there is one writer) and no read sees half of one (a read-only store reads
whole committed transactions). A remote SPARQL store has no lock: every process then
opens it as usual, and readers still funnel writes so that events and reports stay one.

A reader whose writer is gone stops; the writer stops its readers when it stops.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tinyreg.registry.local import LocalCredential, new_token
from tinyreg.registry.rest.settings import Settings

__all__ = ["default_workers", "serve"]

log = logging.getLogger("tinyreg.rest")


def default_workers() -> int:
    """The default number of server processes: one (``--workers`` asks for more)."""
    return 1


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _store_dir(settings: Settings) -> Path | None:
    """The embedded store's directory, or ``None`` for a remote store."""
    from tinyreg.core.stores import default_store_path

    where = settings.store or str(default_store_path())
    return None if "://" in where else Path(where).expanduser()


def _uvicorn(app: Any, log_level: str) -> Any:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, except that a SIGTERM/SIGINT is not raised again on exit.

        uvicorn re-raises the signal after its graceful shutdown, which ends the process
        before the caller's clean-up (closing the store, stopping the readers, removing
        the local credential); here the caller returns normally instead.
        """

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            handled = (signal.SIGINT, signal.SIGTERM)
            original = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
            try:
                yield
            finally:
                for sig, handler in original.items():
                    signal.signal(sig, handler)

    config = uvicorn.Config(
        app, log_level=log_level, timeout_graceful_shutdown=3, access_log=False, lifespan="on"
    )
    return Server(config)


def _reader(
    values: dict[str, Any], sock: socket.socket, worker: int, parent: int, log_level: str
) -> None:
    """A reader process: the store read-only, plain reads here, the rest to the writer."""
    from tinyreg.core.stores import OxigraphStore
    from tinyreg.registry import Registry
    from tinyreg.registry.blobs import DirectoryBlobs
    from tinyreg.registry.rest.app import create_app

    settings = Settings(**values)
    folder = _store_dir(settings)
    if folder is not None:
        store = OxigraphStore(folder, read_only=True)
        blobs = DirectoryBlobs(Path(settings.model_store)) if settings.model_store else None
        registry = Registry(store, blobs)
    else:
        registry = Registry.open(settings.store, model_store=settings.model_store)
    server = _uvicorn(create_app(settings, registry), log_level)

    def watch_parent() -> None:  # an orphaned reader would serve a store nobody writes
        while not server.should_exit:
            if os.getppid() != parent:
                server.should_exit = True
            time.sleep(0.5)

    threading.Thread(target=watch_parent, name="tinyreg-parent-watch", daemon=True).start()
    try:
        server.run(sockets=[sock])
    finally:
        registry.close()


def serve(settings: Settings, host: str, port: int, workers: int, log_level: str) -> None:
    """Serve the registry until interrupted (SIGINT/SIGTERM).

    Args:
        settings: The app's settings.
        host: Address to listen on.
        port: Port to listen on (0: any free one).
        workers: Server processes (1: the writer alone).
        log_level: uvicorn's log level.

    """
    from tinyreg.registry import Registry
    from tinyreg.registry.rest.app import create_app

    public = _listen(host, port)
    private = _listen("127.0.0.1", 0)
    private_url = f"http://127.0.0.1:{private.getsockname()[1]}"
    token = new_token()
    settings = settings.model_copy(
        update={
            "local_token": _secret(token),
            "workers": workers,
            "worker": 0,
            "freeze_heap": True,
        }
    )
    registry = Registry.open(settings.store, model_store=settings.model_store)
    folder = _store_dir(settings)
    credential = LocalCredential(private_url, token, os.getpid())
    if folder is not None:
        credential.write(folder)
    readers: list[Any] = []
    try:
        context = multiprocessing.get_context("spawn")
        values = settings.model_dump()
        values.update(
            token=settings.token.get_secret_value() if settings.token else None,
            local_token=token,
            writer_url=private_url,
            token_file=None,
        )
        for worker in range(1, workers):
            process = context.Process(
                target=_reader,
                args=({**values, "worker": worker}, public, worker, os.getpid(), log_level),
                name=f"tinyreg-serve-{worker}",
                daemon=False,
            )
            process.start()
            readers.append(process)
        server = _uvicorn(create_app(settings, registry), log_level)
        server.run(sockets=[public, private])
    finally:
        for process in readers:
            if process.is_alive():
                process.terminate()
        for process in readers:
            process.join(10)
            if process.is_alive():
                process.kill()
                process.join(5)
        if folder is not None:
            credential.remove(folder)
        with contextlib.suppress(Exception):
            registry.close()
        public.close()
        private.close()


def _secret(value: str) -> Any:
    from pydantic import SecretStr

    return SecretStr(value)
