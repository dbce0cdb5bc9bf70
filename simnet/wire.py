"""The value encoding between simnet's server and its clients.

Reads return plain decoded chain values; JSON alone would blur tuples into lists and could not
carry bytes, so those are tagged, as are the few SDK types that cross the wire (``Balance``,
``ChainError``, ``ExtrinsicResult``). Decoding never evaluates code: an unknown tag is just data.
"""

from __future__ import annotations

import json
from dataclasses import fields
from functools import partial
from typing import Any

from bittensor.balance import Balance
from bittensor.result import ChainError, ErrorCode, ExtrinsicResult

PROTOCOL_VERSION = 1


class WireError(ValueError):
    """A frame that is not valid simnet wire data."""


# Exact types JSON carries as they are. A 256-neuron ``neurons.all`` reply is ~8 000 values,
# nearly all of these: they are passed through without a call each (a whole-network poll
# sends 256 such replies), and anything else, subclasses included, takes the full path.
_PLAIN = frozenset({type(None), bool, int, float, str})


def encode(value: Any) -> Any:
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is list:
        return [v if type(v) in _PLAIN else encode(v) for v in value]
    if kind is dict and all(type(k) is str for k in value):
        return {k: v if type(v) in _PLAIN else encode(v) for k, v in value.items()}
    if kind is tuple:
        return {"$tuple": [v if type(v) in _PLAIN else encode(v) for v in value]}
    return _encode_other(value)


def _encode_other(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$bytes": bytes(value).hex()}
    if isinstance(value, tuple):
        return {"$tuple": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            return {k: encode(v) for k, v in value.items()}
        return {"$map": [[encode(k), encode(v)] for k, v in value.items()]}
    if isinstance(value, Balance):
        return {"$balance": [value.rao, value.netuid]}
    if isinstance(value, ChainError):
        return {"$chainerror": [value.message, value.name, value.code.value]}
    if isinstance(value, ExtrinsicResult):
        return {"$result": {f.name: encode(getattr(value, f.name)) for f in fields(value)}}
    if hasattr(value, "data") and hasattr(value, "call_hash") and hasattr(value, "module"):
        return {
            "$call": [value.module, value.function, encode(dict(value.params))],
        }
    raise TypeError(f"simnet cannot send a {type(value).__name__} over the wire")


def decode(value: Any, *, balance=None) -> Any:
    """Inverse of :func:`encode`. ``balance`` builds Balances (the client's token symbols)."""
    if isinstance(value, list):
        return [decode(v, balance=balance) for v in value]
    if not isinstance(value, dict):
        return value
    return _untag({k: decode(v, balance=balance) for k, v in value.items()}, balance)


def _untag(value: dict, balance=None) -> Any:
    """One JSON object whose members are already decoded: the tagged value it stands for,
    or the object itself. :func:`loads` runs it as the parser's object hook, so a reply is
    decoded while it is parsed, without a second walk over every list."""
    if len(value) != 1:  # most objects are records, never tags
        return value
    ((tag, body),) = value.items()
    if tag[:1] == "$":
        if tag == "$bytes" and isinstance(body, str):
            try:
                return bytes.fromhex(body)
            except ValueError:
                raise WireError("$bytes is not hex") from None
        if tag == "$tuple" and isinstance(body, list):
            return tuple(body)
        if tag == "$map" and isinstance(body, list):
            return {_hashable(k): v for k, v in body}
        if tag == "$balance" and isinstance(body, list) and len(body) == 2:
            rao, netuid = int(body[0]), int(body[1])
            return balance(rao, netuid) if balance else Balance(rao, netuid)
        if tag == "$chainerror" and isinstance(body, list) and len(body) == 3:
            message, name, code = body
            try:
                code_enum = ErrorCode(code)
            except ValueError:
                code_enum = None
            return ChainError(str(message), name, code_enum)
        if tag == "$result" and isinstance(body, dict):
            known = {f.name for f in fields(ExtrinsicResult)}
            return ExtrinsicResult(**{k: v for k, v in body.items() if k in known})
        if tag == "$call" and isinstance(body, list) and len(body) == 3:
            from simnet.calls import ComposedCall

            return ComposedCall(str(body[0]), str(body[1]), body[2])
    return value


def _hashable(key: Any) -> Any:
    return tuple(_hashable(k) for k in key) if isinstance(key, list) else key


def dumps(value: Any) -> bytes:
    return json.dumps(encode(value), separators=(",", ":")).encode()


def loads(data: bytes, *, balance=None) -> Any:
    try:
        return json.loads(data, object_hook=partial(_untag, balance=balance))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WireError(f"not JSON: {exc}") from None
