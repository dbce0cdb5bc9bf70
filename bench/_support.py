"""Pieces several bench scripts share: a slow, counting Substrate wrapper, a process's memory,
and an agent process started from a config. Bench scripts put the repository on sys.path
before importing this (``from bench._support import ...``)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml


class SlowCountingSubstrate:
    """Counts every Substrate call, sleeps ``latency`` in each async one, and keeps the CPU
    time spent inside the wrapped (simnet) calls so it can be told apart from the caller's."""

    def __init__(self, inner: Any, latency: float):
        object.__setattr__(self, "_inner", inner)
        object.__setattr__(self, "latency", latency)
        object.__setattr__(self, "calls", Counter())
        object.__setattr__(self, "inner_cpu", 0.0)

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._inner, name)
        if not asyncio.iscoroutinefunction(target):
            return target

        async def wrapped(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            await asyncio.sleep(self.latency)
            started = time.thread_time()
            try:
                return await target(*args, **kwargs)
            finally:
                object.__setattr__(self, "inner_cpu", self.inner_cpu + time.thread_time() - started)

        return wrapped

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._inner, name, value)


def rss_mb(pid: int) -> tuple[float, float]:
    """Resident and peak resident memory of ``pid``, in MB, from /proc."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def start_agent(config: dict[str, Any], path: Path) -> subprocess.Popen:
    """Write ``config`` to ``path`` and start ``taowatch agent`` on it, its output discarded."""
    path.write_text(yaml.safe_dump(config))
    return subprocess.Popen(
        [sys.executable, "-m", "taowatch.cli", "agent", "--config", str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
