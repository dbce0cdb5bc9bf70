"""How simnet serves each member of the SDK's ``Substrate`` protocol, declared once.

The member signatures are not written out here: they are read from ``bittensor.Substrate``
(the Protocol class itself), so the server's table of callable reads and the remote client's
forwarding methods always take exactly the parameters the SDK passes. What simnet declares is
only the *route* of each member:

* ``FORWARDED_READS`` — the client sends the call's arguments, the server calls the same
  member on its :class:`~simnet.substrate.SimSubstrate` with them.
* ``SIGNED_WRITES`` — the client signs locally and sends the signature; the server calls the
  named ``*_verified`` member, which checks it (no private key crosses the wire).
* ``FEE_ESTIMATES`` — the client sends the call and the signer's address only.
* ``CLIENT_SIDE`` — answered by the client itself (lifecycle, composing, the block stream).
* ``NOT_SIMULATED_REMOTELY`` — refused by the remote client with ``ChainError("Unsupported")``.

Every protocol member has exactly one route (``tests/simnet/test_protocol.py`` walks the
Protocol to prove it). This module must stay importable without torch: the remote client,
which agent hosts import, is built from it.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from bittensor import Substrate
from bittensor.result import ChainError

FORWARDED_READS = (
    "block_hash",
    "block_number",
    "finalized_block_number",
    "block_time",
    "spec_version",
    "get_block",
    "query",
    "map_has_entries",
    "query_map",
    "query_batch",
    "runtime_call",
    "constant",
    "decode_scale",
    "events",
    "account_next_index",
    "mev_next_key",
    "find_extrinsic",
)
SIGNED_WRITES: Mapping[str, str] = MappingProxyType(
    {"submit": "submit_verified", "sign_extrinsic": "sign_extrinsic_verified"}
)
FEE_ESTIMATES = ("estimate_fee", "estimate_weight")
CLIENT_SIDE = ("token_symbols", "balance", "connect", "close", "compose", "blocks")
NOT_SIMULATED_REMOTELY: Mapping[str, str] = MappingProxyType(
    {
        "prepare": "offline-signed extrinsics",
        "submit_signature": "offline-signed extrinsics",
        "submit_signed": "pre-signed extrinsics",
        "multisig_account": "multisig accounts",
        "submit_multisig": "multisig accounts",
    }
)


def routes() -> Mapping[str, str]:
    """Member name -> route name, for every member simnet declares."""
    out: dict[str, str] = {}
    for route, names in (
        ("forwarded read", FORWARDED_READS),
        ("signed write", tuple(SIGNED_WRITES)),
        ("fee estimate", FEE_ESTIMATES),
        ("client side", CLIENT_SIDE),
        ("not simulated remotely", tuple(NOT_SIMULATED_REMOTELY)),
    ):
        for name in names:
            if name in out:
                raise ValueError(f"Substrate member {name!r} is declared twice in simnet.protocol")
            out[name] = route
    return MappingProxyType(out)


def protocol_members() -> tuple[str, ...]:
    """The members of ``bittensor.Substrate``: its attributes and its methods."""
    attributes = set(getattr(Substrate, "__annotations__", {}))
    methods = {
        name
        for name, value in vars(Substrate).items()
        if not name.startswith("_") and callable(value)
    }
    return tuple(sorted(attributes | methods))


def parameters(member: Callable[..., Any] | str) -> tuple[inspect.Parameter, ...]:
    """A method's parameters after ``self`` (a name means the SDK protocol's member)."""
    fn = getattr(Substrate, member) if isinstance(member, str) else member
    params = tuple(inspect.signature(fn).parameters.values())
    return params[1:] if params and params[0].name == "self" else params


def read_parameters() -> Mapping[str, frozenset[str]]:
    """Forwarded read -> the keyword arguments the server accepts for it."""
    return MappingProxyType(
        {name: frozenset(p.name for p in parameters(name)) for name in FORWARDED_READS}
    )


def _forwarder(name: str) -> Callable[..., Any]:
    signature = inspect.signature(getattr(Substrate, name))

    @functools.wraps(getattr(Substrate, name))
    async def forward(self, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        del arguments["self"]
        return await self._call(name, **arguments)

    return forward


def _refusal(name: str, what: str) -> Callable[..., Any]:
    message = f"simnet does not simulate {what}"
    sdk_member = getattr(Substrate, name)

    if inspect.iscoroutinefunction(sdk_member):

        @functools.wraps(sdk_member)
        async def refuse_async(self, *_args: Any, **_kwargs: Any) -> Any:
            raise ChainError(message, "Unsupported")

        return refuse_async

    @functools.wraps(sdk_member)
    def refuse(self, *_args: Any, **_kwargs: Any) -> Any:
        raise ChainError(message, "Unsupported")

    return refuse


def remote_members(cls: type) -> type:
    """Class decorator for the remote client: add a forwarding method for every forwarded
    read the class does not define itself, and a refusal for every member not simulated
    remotely. Each gets the SDK member's signature and docstring (``functools.wraps``)."""
    made = {name: _forwarder(name) for name in FORWARDED_READS} | {
        name: _refusal(name, what) for name, what in NOT_SIMULATED_REMOTELY.items()
    }
    for name, method in made.items():
        if name not in vars(cls):
            method.__qualname__ = f"{cls.__qualname__}.{name}"
            setattr(cls, name, method)
    return cls
