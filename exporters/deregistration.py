"""Deregistration detection whose counts survive restarts.

The chain emits no deregistration event: a hotkey simply stops being in the subnet's neuron
list (or comes back with a later registration block after being replaced and re-registering
between two polls). This module keeps, per watched (netuid, hotkey), what the last good read
said, and counts the transitions from registered to gone.

Two rules keep the count honest:

* Only a successful read of the subnet is evidence. The caller never calls :meth:`observe`
  for a subnet whose read failed, so an unreachable chain is never a deregistration.
* Only a read at a block newer than the last one observed for that subnet counts. After a
  failover to an endpoint that lags a few blocks (or a restart against a node still syncing),
  an older block could show a hotkey "not yet registered"; such reads are ignored here. A
  read far behind the last one (more than ``rewind_blocks``) means a different chain (a
  restarted simnet or devnet), which is accepted as a fresh start of block numbering.

State is a small JSON file written atomically (temp file, fsync, rename) only when it changes,
so a crash mid-write leaves the previous state intact.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

STATE_VERSION = 1


@dataclass
class _Record:
    registered: bool = False
    uid: int | None = None
    registered_at: int | None = None
    deregistrations: int = 0
    source: str = "config"

    def to_json(self) -> dict[str, Any]:
        return {
            "registered": self.registered,
            "uid": self.uid,
            "registered_at": self.registered_at,
            "deregistrations": self.deregistrations,
            "source": self.source,
        }


@dataclass(frozen=True)
class Transition:
    """What changed for one watched hotkey between two observations."""

    netuid: int
    hotkey: str
    kind: str  # "registered" | "deregistered" | "reregistered"
    block: int
    uid: int | None
    previous_uid: int | None


class StateFileError(Exception):
    """The state file exists but cannot be used; the message names the file and the fix."""


class DeregistrationTracker:
    def __init__(self, path: Path | None, *, rewind_blocks: int = 100, logger: Any = None):
        self._path = path
        self._rewind_blocks = rewind_blocks
        self._log = logger or structlog.get_logger("taowatch.exporter")
        self._records: dict[tuple[int, str], _Record] = {}
        self._subnet_blocks: dict[int, int] = {}
        self._dirty = False
        if path is not None:
            self._load(path)

    # -- persistence ---------------------------------------------------------------------

    def _load(self, path: Path) -> None:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return
        except OSError as exc:
            raise StateFileError(f"{path}: cannot read state file: {exc.strerror}") from None
        try:
            data = json.loads(text)
            if data.get("version") != STATE_VERSION:
                raise ValueError(f"unsupported version {data.get('version')!r}")
            for key, rec in data.get("neurons", {}).items():
                netuid_text, hotkey = key.split(":", 1)
                self._records[(int(netuid_text), hotkey)] = _Record(
                    registered=bool(rec["registered"]),
                    uid=rec.get("uid"),
                    registered_at=rec.get("registered_at"),
                    deregistrations=int(rec.get("deregistrations", 0)),
                    source=str(rec.get("source", "config")),
                )
            self._subnet_blocks = {int(k): int(v) for k, v in data.get("subnet_blocks", {}).items()}
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise StateFileError(
                f"{path}: state file is not valid ({exc}); move it aside to start counting afresh"
            ) from None

    def save(self) -> bool:
        """Write the state if it changed since the last save; returns whether it wrote."""
        if self._path is None or not self._dirty:
            return False
        data = {
            "version": STATE_VERSION,
            "neurons": {f"{n}:{hk}": r.to_json() for (n, hk), r in sorted(self._records.items())},
            "subnet_blocks": {str(n): b for n, b in sorted(self._subnet_blocks.items())},
        }
        atomic_write(self._path, json.dumps(data, indent=1, sort_keys=True).encode())
        self._dirty = False
        return True

    # -- detection -----------------------------------------------------------------------

    def accepts(self, netuid: int, block: int) -> bool:
        """Whether a read of ``netuid`` at ``block`` is new evidence (newer than the last)."""
        last = self._subnet_blocks.get(netuid)
        return last is None or block > last or block + self._rewind_blocks < last

    def observe(
        self,
        netuid: int,
        block: int,
        present: dict[str, tuple[int, int]],
        watched: list[tuple[str, str]],
    ) -> list[Transition]:
        """Record one successful read of ``netuid`` at ``block``.

        ``present`` maps every registered hotkey of interest to ``(uid, block_at_registration)``;
        ``watched`` lists ``(hotkey, source)`` pairs to track. Returns the transitions; a read
        that is not newer than the last one for this subnet changes nothing.
        """
        if not self.accepts(netuid, block):
            return []
        last = self._subnet_blocks.get(netuid)
        if last is not None and block < last:
            self._log.warning("chain head went backwards", netuid=netuid, block=block, last=last)
        self._subnet_blocks[netuid] = block
        self._dirty = True
        out: list[Transition] = []
        for hotkey, source in watched:
            key = (netuid, hotkey)
            rec = self._records.get(key)
            if rec is None:
                rec = self._records[key] = _Record(source=source)
            now = present.get(hotkey)
            if now is None:
                if rec.registered:
                    rec.deregistrations += 1
                    out.append(Transition(netuid, hotkey, "deregistered", block, None, rec.uid))
                rec.registered, rec.uid, rec.registered_at = False, None, None
                continue
            uid, reg_at = now
            if rec.registered and rec.registered_at is not None and reg_at > rec.registered_at:
                # Replaced and registered again between two polls: it was gone in between.
                rec.deregistrations += 1
                out.append(Transition(netuid, hotkey, "reregistered", block, uid, rec.uid))
            elif not rec.registered:
                out.append(Transition(netuid, hotkey, "registered", block, uid, None))
            rec.registered, rec.uid, rec.registered_at = True, uid, reg_at
        for t in out:
            self._log.info(
                "neuron " + t.kind,
                netuid=t.netuid,
                hotkey=t.hotkey,
                block=t.block,
                uid=t.uid,
                previous_uid=t.previous_uid,
            )
        return out

    def count(self, netuid: int, hotkey: str) -> int:
        rec = self._records.get((netuid, hotkey))
        return rec.deregistrations if rec else 0

    def counts(self) -> dict[tuple[int, str], int]:
        return {k: r.deregistrations for k, r in self._records.items()}

    def known(self, source_prefix: str | None = None) -> list[tuple[int, str, str]]:
        """Every tracked ``(netuid, hotkey, source)``, optionally only from one source."""
        return [
            (n, hk, r.source)
            for (n, hk), r in sorted(self._records.items())
            if source_prefix is None or r.source.startswith(source_prefix)
        ]


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so readers see the old or the new file, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    # The rename is durable only once the directory entry is.
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
