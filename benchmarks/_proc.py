"""CPU time of another process, read from ``/proc`` (Linux), for the benchmarks."""

import os
from pathlib import Path


def cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used.

    Raises:
        OSError: The process is gone, or there is no ``/proc``.
    """
    # utime and stime are fields 14 and 15 of stat(5); after the name, field 3 is [0]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
