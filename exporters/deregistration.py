"""Deregistration detection whose counts survive restarts.

The chain emits no deregistration event: a hotkey simply stops being in the subnet's neuron
list (or comes back with a later registration block after being replaced and re-registering
between two polls). This module keeps, per watched (netuid, hotkey), what the last good read
said, and counts the transitions from registered to gone.

Three rules keep the count honest:

* Only a successful read of the subnet is evidence. The caller never calls :meth:`observe`
  for a subnet whose read failed, so an unreachable chain is never a deregistration.
* Only a read at a block newer than the last one observed for that subnet counts. After a
  failover to an endpoint that lags a few blocks (or a restart against a node still syncing),
  an older block could show a hotkey "not yet registered"; such reads are ignored here.
* Only a read of the chain the tracker trusted counts. The tracker keeps an :class:`Anchor`
  (genesis hash, and the hash of the last trusted head); the poller checks an endpoint
  against it (:func:`judge_chain`) before any read becomes evidence. An endpoint that comes
  back rewound (a node resyncing from scratch, a restarted dev chain on the same URL) or that
  serves another chain (a misrouted URL) is reported as such and is never evidence: counting
  the watched hotkeys missing there would page for deregistrations that did not happen.

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


@dataclass(frozen=True)
class Anchor:
    """The last block the tracker trusted: the chain it is on and the hash at that height."""

    genesis: str
    block: int
    hash: str


# What an endpoint's chain is, next to the tracker's anchor.
TRUSTED = "trusted"  # the anchor's chain, at or past the anchor
LAGGING = "lagging"  # the anchor's chain, a few blocks behind the anchor (a lagging node)
REWOUND = "rewound"  # the anchor's genesis, but far behind or with another block at its height
CHANGED = "changed"  # another genesis: another chain behind the same URL
MISMATCH_KINDS = (REWOUND, CHANGED)


def chain_identity(genesis: str, block: int) -> str:
    """The identity of one trusted history: the chain's genesis (short) and the block the
    agent started trusting it at. A rewound chain that catches up keeps it; adopting a new
    chain (even one with the same genesis, a dev chain reset) starts another, so the rules
    never join two histories (``exporters/chain_trust.py``)."""
    return f"{genesis[:10]}@{block}"


def judge_chain(
    anchor: Anchor | None,
    head: int,
    genesis: str,
    hash_at_anchor: str | None,
    *,
    lag_blocks: int,
) -> str:
    """Whether a read at ``head`` of the chain with ``genesis`` may be evidence.

    ``hash_at_anchor`` is the endpoint's hash at ``anchor.block`` (None when its head is
    below that height).
    """
    if anchor is None:
        return TRUSTED
    if genesis != anchor.genesis:
        return CHANGED
    if head >= anchor.block:
        return TRUSTED if hash_at_anchor == anchor.hash else REWOUND
    return LAGGING if anchor.block - head <= lag_blocks else REWOUND


class StateFileError(Exception):
    """The state file exists but cannot be used; the message names the file and the fix."""


class DeregistrationTracker:
    def __init__(self, path: Path | None, *, lag_blocks: int = 10, logger: Any = None):
        self._path = path
        # Behind the anchor by at most this many blocks on the same chain: a lagging node.
        self.lag_blocks = lag_blocks
        self._anchor: Anchor | None = None
        # chain_identity() of the history the records belong to; None until first trusted.
        self._chain: str | None = None
        # (inode, mtime) of the file as this tracker last read or wrote it: another writer
        # (``taowatch agent --adopt-chain``) replacing it shows as a change.
        self._seen: tuple[int, int] | None = None
        self._log = logger or structlog.get_logger("taowatch.exporter")
        self._records: dict[tuple[int, str], _Record] = {}
        self._subnet_blocks: dict[int, int] = {}
        # Other components' persisted state by name (e.g. "events"), saved in the same file.
        self._sections: dict[str, Any] = {}
        self._dirty = False
        if path is not None:
            self._load(path)

    # -- persistence ---------------------------------------------------------------------

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = self._path.stat() if self._path is not None else None
        except OSError:
            return None
        return None if st is None else (st.st_ino, st.st_mtime_ns)

    def reload_if_replaced(self) -> bool:
        """Reload the state file if something other than this tracker replaced it (an
        adoption); returns whether it did. A missing file is not a replacement: the next
        save writes it again."""
        seen = self._stat()
        if self._path is None or seen is None or seen == self._seen:
            return False
        self._records, self._subnet_blocks, self._sections = {}, {}, {}
        self._anchor, self._chain, self._dirty = None, None, False
        self._load(self._path)
        self._log.warning("state file replaced: reloaded", path=str(self._path), chain=self._chain)
        return True

    def _load(self, path: Path) -> None:
        self._seen = self._stat()
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return
        except OSError as exc:
            raise StateFileError(f"{path}: cannot read state file: {exc.strerror}") from None
        except UnicodeDecodeError:
            text = ""  # reported below, as any other unusable content
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
            self._sections = dict(data.get("sections", {}))
            anchor = data.get("anchor")
            if anchor is not None:
                self._anchor = Anchor(
                    str(anchor["genesis"]), int(anchor["block"]), str(anchor["hash"])
                )
            chain = data.get("chain")
            if chain is not None:
                self._chain = str(chain)
            elif self._anchor is not None:
                # A file from before chain identities: its history starts here.
                self._chain = chain_identity(self._anchor.genesis, self._anchor.block)
                self._dirty = True
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise StateFileError(
                f"{path}: state file is not valid ({exc}); move it aside to start counting afresh"
            ) from None

    def save(self) -> bool:
        """Write the state if it changed since the last save; returns whether it wrote."""
        if self._path is None or not self._dirty:
            return False
        self.save_to(self._path)
        self._seen = self._stat()
        self._dirty = False
        return True

    def save_to(self, path: Path) -> None:
        """Write the state to ``path`` in one rename (see :func:`atomic_write`)."""
        data: dict[str, Any] = {
            "version": STATE_VERSION,
            "neurons": {f"{n}:{hk}": r.to_json() for (n, hk), r in sorted(self._records.items())},
            "subnet_blocks": {str(n): b for n, b in sorted(self._subnet_blocks.items())},
        }
        if self._sections:
            data["sections"] = self._sections
        if self._anchor is not None:
            a = self._anchor
            data["anchor"] = {"genesis": a.genesis, "block": a.block, "hash": a.hash}
        if self._chain is not None:
            data["chain"] = self._chain
        atomic_write(path, json.dumps(data, indent=1, sort_keys=True).encode())

    def section(self, name: str) -> Any:
        """What another component saved under ``name`` (None if nothing)."""
        return self._sections.get(name)

    def set_section(self, name: str, data: Any) -> None:
        """Save ``data`` (JSON-serialisable) under ``name`` with the next :meth:`save`."""
        snapshot = json.loads(json.dumps(data))
        if self._sections.get(name) != snapshot:
            self._sections[name] = snapshot
            self._dirty = True

    # -- detection -----------------------------------------------------------------------

    @property
    def anchor(self) -> Anchor | None:
        return self._anchor

    @property
    def chain(self) -> str | None:
        """The :func:`chain_identity` of the trusted history (None before the first trust)."""
        return self._chain

    def trust(self, genesis: str, block: int, block_hash: str) -> None:
        """Move the anchor to a head the caller judged :data:`TRUSTED` and has observed."""
        a = self._anchor
        if a is not None and a.genesis == genesis and block <= a.block:
            return
        self._anchor = Anchor(genesis, block, block_hash)
        if self._chain is None:
            self._chain = chain_identity(genesis, block)
        self._dirty = True

    def adopt(self, genesis: str, block: int, block_hash: str) -> None:
        """Start a new trusted history at ``block`` of the chain with ``genesis``: the anchor
        moves there whatever it was, under a new chain identity."""
        self._anchor = Anchor(genesis, block, block_hash)
        self._chain = chain_identity(genesis, block)
        self._dirty = True

    def accepts(self, netuid: int, block: int) -> bool:
        """Whether a read of ``netuid`` at ``block`` is new evidence (newer than the last)."""
        last = self._subnet_blocks.get(netuid)
        return last is None or block > last

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
