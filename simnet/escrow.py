"""The sim-only escrow seam: how a validator in its own process has its timelocked commits
opened by a served simnet.

On a real chain a commit opens when drand publishes the round's BLS signature. simnet has no
drand (see :mod:`simnet.timelock`), so the chain opens a commit from a
:class:`~simnet.timelock.PlaintextEscrow` instead. In one process a test wraps the encryptor
with that escrow directly; across processes this module carries the plaintext:

* :func:`process_escrow` wraps ``bittensor_core.get_encrypted_commit_v2`` once for this process
  (the SDK reads it by module attribute at every commit), so each ciphertext the SDK makes is
  remembered with the payload that went in. The real encryption still runs and the real
  ciphertext is what the commit extrinsic carries.
* :class:`simnet.remote.RemoteSubstrate` (only a ``sim://`` chain builds one) files that
  payload with the server's ``POST /escrow`` just before it submits the commit, signed by the
  committing hotkey; the server files it with the chain's escrow if the signature verifies and
  the payload names that hotkey, first filing wins.

A real chain (``ws://``, ``finney``) never sees any of it: its substrate is not a
``RemoteSubstrate``, so nothing is filed, and the wrapper only remembers. Nothing in
``neuron/`` knows about it: the validator calls ``SetWeights`` exactly as it would on finney.

Simplified against subtensor: the escrow opens a commit at the reveal epoch whatever the
drand round says (the chain still reveals only at ``commit epoch + reveal period``).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from simnet.timelock import PlaintextEscrow, WeightsPayload

COMMIT_CALL = ("SubtensorModule", "commit_timelocked_mechanism_weights")
ESCROW_DOMAIN = b"simnet-escrow:"
# Commits this process made but has not filed yet: one per weights interval is normal, so a
# few dozen covers a validator on many subnets; older entries are dropped, not leaked.
CLIENT_CAPACITY = 64
_MARK = "__simnet_escrow__"


def escrow_message(ciphertext: bytes, payload: bytes) -> bytes:
    """What the committing hotkey signs when filing: the ciphertext bound to its plaintext."""
    return ESCROW_DOMAIN + len(ciphertext).to_bytes(4, "little") + ciphertext + payload


class ClientEscrow(PlaintextEscrow):
    """This process's ciphertext -> payload record, bounded, taken once when filed."""

    def __init__(self, capacity: int = CLIENT_CAPACITY) -> None:
        super().__init__()
        self._payloads: OrderedDict[bytes, bytes] = OrderedDict()
        self._capacity = capacity

    def file(self, ciphertext: bytes, payload: bytes) -> None:
        self._payloads[bytes(ciphertext)] = payload
        while len(self._payloads) > self._capacity:
            self._payloads.popitem(last=False)

    def peek(self, ciphertext: bytes) -> bytes | None:
        return self._payloads.get(bytes(ciphertext))

    def take(self, ciphertext: bytes) -> bytes | None:
        return self._payloads.pop(bytes(ciphertext), None)


def process_escrow(core: Any = None) -> ClientEscrow:
    """Wrap the SDK's timelock encryptor for this process (once) and return its escrow."""
    if core is None:
        import bittensor_core as core  # the SDK's own crypto module

    current: Callable[..., tuple[bytes, int]] = core.get_encrypted_commit_v2
    escrow = getattr(current, _MARK, None)
    if isinstance(escrow, ClientEscrow):
        return escrow
    escrow = ClientEscrow()
    wrapped = escrow.wrap(current)
    setattr(wrapped, _MARK, escrow)
    core.get_encrypted_commit_v2 = wrapped
    return escrow


def commit_ciphertext(call: Any) -> bytes | None:
    """The ciphertext of a composed commit-reveal commit; None for any other call."""
    if (getattr(call, "module", None), getattr(call, "function", None)) != COMMIT_CALL:
        return None
    commit = (getattr(call, "params", None) or {}).get("commit")
    if isinstance(commit, str):
        return bytes.fromhex(commit.removeprefix("0x"))
    return None if commit is None else bytes(commit)


def acceptable(signer: str, ciphertext: bytes, payload: bytes) -> str | None:
    """Why the server refuses a filing (None: it may be filed)."""
    try:
        decoded = WeightsPayload.decode(payload)
    except ValueError as exc:
        return f"the payload is not a weights payload ({exc})"
    if decoded.hotkey_ss58() != signer:
        return "the payload names another hotkey than the signer"
    if not ciphertext:
        return "the ciphertext is empty"
    return None
