"""The local credential: how commands on the same machine reach a running ``tinyreg serve``.

An embedded store is locked by the process that opened it, so while ``tinyreg serve``
holds it no other process can write it. The server therefore writes a credential file
beside the store (:data:`CREDENTIAL_FILE`, mode 0600, readable by the server's user
only) naming a loopback URL of the server and a token made at start; the command line,
finding the store locked, reads it and sends its writes to the server
(:class:`~tinyreg.registry.served.ServedRegistry`). Whoever can read the file can already
read and write the store's files, so the token grants nothing more. The file is removed
when the server stops; a file left by a killed server is ignored (its process is gone).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CREDENTIAL_FILE", "LocalCredential", "new_token"]

CREDENTIAL_FILE = "tinyreg-serve.json"
"""The credential's file name, in the store directory."""


def new_token() -> str:
    """A fresh random token (256 bits)."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class LocalCredential:
    """A running server's loopback URL and local token.

    Attributes:
        url: The server's base URL on loopback.
        token: The bearer token it accepts for writes from this machine's user.
        pid: The server's process id.

    """

    url: str
    token: str
    pid: int

    def write(self, store: Path) -> Path:
        """Write the credential into a store directory (mode 0600, replaced atomically)."""
        target = store / CREDENTIAL_FILE
        temporary = store / f".{CREDENTIAL_FILE}.{os.getpid()}"
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()  # a leftover of a killed server with the same pid
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump({"url": self.url, "token": self.token, "pid": self.pid}, out)
        os.replace(temporary, target)
        return target

    def remove(self, store: Path) -> None:
        """Remove the credential file if it is still this one."""
        if LocalCredential.read(store, check_process=False) == self:
            with contextlib.suppress(OSError):
                (store / CREDENTIAL_FILE).unlink()

    @classmethod
    def read(cls, store: Path, *, check_process: bool = True) -> LocalCredential | None:
        """The credential of the server running on a store directory, if there is one.

        ``None`` when there is no file, when it is not the current user's own with mode
        0600 (then it is not trusted), or when its server process is gone.
        """
        file = store / CREDENTIAL_FILE
        try:
            info = file.stat()
            if info.st_uid != os.getuid() or stat.S_IMODE(info.st_mode) & 0o077:
                return None
            data = json.loads(file.read_text(encoding="utf-8"))
            found = cls(str(data["url"]), str(data["token"]), int(data["pid"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if check_process:
            try:
                os.kill(found.pid, 0)
            except ProcessLookupError:
                return None
            except PermissionError:
                pass  # alive, another user's: the owner check above already passed
        return found
