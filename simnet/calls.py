"""Composed calls and their signatures, shared by the in-process seam and the server.

The real chain composes a call into opaque SCALE bytes. simnet keeps calls inspectable
(module, function, params) so it can apply them, and derives ``data`` / ``call_hash`` from a
canonical encoding so that a signature made on one side of the wire verifies on the other.

Every write is signed with the submitter's key over :func:`signing_payload`, and checked with
:func:`verify_signature` before the chain applies it: a caller that holds only a public key
cannot submit as that account, in process or over the network.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from bittensor import keyfiles
from bittensor.result import ChainError

GENESIS = "simnet-genesis-v1"


def _plain(value: Any) -> Any:
    """Map a call's params onto JSON types, keeping bytes and tuples distinguishable."""
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$bytes": bytes(value).hex()}
    if isinstance(value, tuple):
        return {"$tuple": [_plain(v) for v in value]}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "data") and hasattr(value, "call_hash"):  # a nested composed call
        return _plain(value.data)
    raise TypeError(f"call parameter of type {type(value).__name__} cannot be encoded")


def canonical(value: Any) -> bytes:
    return json.dumps(_plain(value), sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True)
class ComposedCall:
    """What ``Substrate.compose`` returns: still readable, with ``data`` and ``call_hash``."""

    module: str
    function: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def data(self) -> bytes:
        return canonical({"module": self.module, "function": self.function, "params": self.params})

    @property
    def call_hash(self) -> str:
        return "0x" + hashlib.blake2b(self.data, digest_size=32).hexdigest()

    @property
    def name(self) -> str:
        return f"{self.module}.{self.function}"


def compose(call: Any) -> ComposedCall:
    """Accept a ``bittensor.calls.Call`` (or anything with module/function/params)."""
    if isinstance(call, ComposedCall):
        return call
    return ComposedCall(str(call.module), str(call.function), dict(call.params or {}))


def signing_payload(call: ComposedCall, *, signer: str, nonce: int, period: int) -> bytes:
    return b"|".join(
        [GENESIS.encode(), signer.encode(), str(nonce).encode(), str(period).encode(), call.data]
    )


def extrinsic_hash(payload: bytes, signature: bytes) -> str:
    return "0x" + hashlib.blake2b(payload + signature, digest_size=32).hexdigest()


def verify_signature(ss58: str, crypto_type: int, payload: bytes, signature: bytes) -> bool:
    try:
        public = keyfiles.Keypair(ss58_address=ss58, crypto_type=crypto_type)
        return bool(public.verify(payload, signature))
    except Exception:  # malformed address or signature: not a valid signature either way
        return False


def _unplain(value: Any) -> Any:
    """Inverse of :func:`_plain`: JSON back to params with bytes and tuples restored."""
    if isinstance(value, dict):
        if set(value) == {"$bytes"}:
            return bytes.fromhex(value["$bytes"])
        if set(value) == {"$tuple"}:
            return tuple(_unplain(v) for v in value["$tuple"])
        return {k: _unplain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unplain(v) for v in value]
    return value


def call_from_data(data: bytes) -> ComposedCall:
    """Rebuild a composed call from its canonical ``data`` bytes (offline-signing flow)."""
    try:
        plain = json.loads(bytes(data))
        call = ComposedCall(plain["module"], plain["function"], _unplain(plain["params"]))
    except (ValueError, KeyError, TypeError) as error:
        raise ChainError(f"call data is not a simnet call: {error}") from error
    if call.data != bytes(data):
        raise ChainError("call data is not in simnet's canonical encoding")
    return call
