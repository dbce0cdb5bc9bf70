"""simnet as a server: one chain on loopback that many processes share.

``POST /rpc`` carries one ``Substrate`` call per request (``{"method", "params"}`` in
:mod:`simnet.wire` encoding); ``POST /escrow`` files a commit-reveal plaintext signed by its
hotkey, simnet's stand-in for drand (:mod:`simnet.escrow`); ``POST /admin`` drives the world
(fund an account, halt blocks, inject faults, script a deregistration); ``GET /healthz``
answers when the chain is up.

Writes arrive already signed by the client (:mod:`simnet.calls`): the server checks the
signature against the account the call needs before the chain sees it, so no private key ever
crosses the wire and nobody can write as an account whose key they do not hold.

A client that disconnects mid-call, or sends a frame that is not valid JSON or names an unknown
method, gets a 4xx (or nothing, having left) and the server carries on.
"""

from __future__ import annotations

import asyncio
import inspect
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog
from aiohttp import web
from bittensor._transport.errors import StorageFunctionNotFound

from simnet import wire
from simnet.calls import compose, verify_signature
from simnet.escrow import acceptable, escrow_message
from simnet.protocol import FEE_ESTIMATES, SIGNED_WRITES, read_parameters
from simnet.runtime import STORAGE_NOT_FOUND
from simnet.state import ChainFailure

log = structlog.get_logger("simnet.server")

# Reads the server forwards to SimSubstrate unchanged, with the keyword arguments they accept
# (the SDK protocol's own parameter names, read from it by simnet.protocol).
READS: Mapping[str, frozenset[str]] = read_parameters()
MAX_BODY = 4 * 1024 * 1024


@dataclass
class Faults:
    """RPC faults injected on ``/rpc`` (never on ``/admin``), for testing resilience."""

    error_rate: float = 0.0  # fraction of calls answered with an RPC error
    latency: float = 0.0  # seconds added to every call
    drop_rate: float = 0.0  # fraction of calls whose connection is dropped without an answer
    # fraction of the node's frames answered by closing the socket with 1008 (policy), as
    # public endpoints do; the node only: sim://'s HTTP has no such close
    policy_close_rate: float = 0.0
    rng: random.Random = field(default_factory=lambda: random.Random(0))

    def describe(self) -> dict[str, float]:
        return {
            "error_rate": self.error_rate,
            "latency": self.latency,
            "drop_rate": self.drop_rate,
            "policy_close_rate": self.policy_close_rate,
        }


@dataclass(frozen=True)
class PublicSigner:
    """Stands in for a keypair where the chain only needs the address (fee estimates)."""

    ss58_address: str
    crypto_type: int = 1

    def sign(self, _data: bytes) -> bytes:
        raise PermissionError("the server holds no private keys")


class BadRequest(Exception):
    pass


def _kwargs(params: Any, allowed: frozenset[str], method: str) -> dict[str, Any]:
    if params is None:
        return {}
    if not isinstance(params, dict):
        raise BadRequest(f"{method}: params must be an object")
    unknown = set(params) - allowed
    if unknown:
        raise BadRequest(f"{method}: unknown parameter(s) {sorted(unknown)}")
    return params


def _signed_kwargs(params: Any, method: str) -> dict[str, Any]:
    required = {"call", "signer", "crypto_type", "nonce", "period", "signature"}
    optional = {"wait_for_inclusion", "wait_for_finalization"}
    if not isinstance(params, dict):
        raise BadRequest(f"{method}: params must be an object")
    missing = required - set(params)
    if missing:
        raise BadRequest(f"{method}: missing parameter(s) {sorted(missing)}")
    unknown = set(params) - required - optional
    if unknown:
        raise BadRequest(f"{method}: unknown parameter(s) {sorted(unknown)}")
    call = params["call"]
    if not hasattr(call, "module"):
        raise BadRequest(f"{method}: call must be a composed call")
    if not isinstance(params["signature"], bytes):
        raise BadRequest(f"{method}: signature must be bytes")
    if not isinstance(params["signer"], str):
        raise BadRequest(f"{method}: signer must be an ss58 address")
    for key in ("crypto_type", "nonce", "period"):
        if not isinstance(params[key], int) or isinstance(params[key], bool):
            raise BadRequest(f"{method}: {key} must be an integer")
    return {
        "call": compose(call),
        "signer_ss58": params["signer"],
        "crypto_type": params["crypto_type"],
        "nonce": params["nonce"],
        "period": params["period"],
        "signature": params["signature"],
        **{k: bool(params[k]) for k in optional if k in params},
    }


class SimnetServer:
    """Serves one :class:`simnet.substrate.SimSubstrate` and its world to other processes."""

    def __init__(self, substrate, world=None, *, faults: Faults | None = None):
        self.substrate = substrate
        self.chain = substrate.chain
        self.world = world  # simnet.scenario.World: admin operations act through it
        self.faults = faults or Faults()
        self.started = time.time()
        self.calls = 0

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post("/rpc", self.rpc)
        app.router.add_post("/admin", self.admin)
        app.router.add_post("/escrow", self.escrow)
        app.router.add_get("/healthz", self.healthz)
        return app

    # -- /rpc --------------------------------------------------------------------------------

    async def rpc(self, request: web.Request) -> web.StreamResponse:
        self.calls += 1
        body: Any = None
        f = self.faults
        if f.latency:
            await asyncio.sleep(f.latency)
        if f.drop_rate and f.rng.random() < f.drop_rate:
            if request.transport is not None:
                request.transport.close()  # the client sees a dropped connection
            raise asyncio.CancelledError
        if f.error_rate and f.rng.random() < f.error_rate:
            return _error(503, "rpc", "simnet: injected RPC fault")
        try:
            raw = await request.read()
        except ConnectionError:  # the client hung up mid-request: nobody to answer
            return web.Response(status=499)
        try:
            body = wire.loads(raw)
            if not isinstance(body, dict) or not isinstance(body.get("method"), str):
                raise BadRequest('a request is {"method": str, "params": {...}}')
            method, params = body["method"], body.get("params")
            if method in READS:
                result = await getattr(self.substrate, method)(
                    **_kwargs(params, READS[method], method)
                )
            elif method in SIGNED_WRITES:
                kwargs = _signed_kwargs(params, method)
                if method != "submit":  # only a submission waits for its block
                    kwargs = {k: v for k, v in kwargs.items() if not k.startswith("wait_for")}
                result = await getattr(self.substrate, SIGNED_WRITES[method])(**kwargs)
            elif method in FEE_ESTIMATES:
                kw = _kwargs(params, frozenset({"call", "address"}), method)
                call = kw.get("call")
                if not hasattr(call, "module") or not isinstance(kw.get("address"), str):
                    raise BadRequest(f"{method}: needs call and address")
                result = await getattr(self.substrate, method)(
                    compose(call), PublicSigner(kw["address"])
                )
            else:
                raise BadRequest(f"unknown method {method!r}")
        except (wire.WireError, BadRequest) as exc:
            return _error(400, "bad_request", str(exc))
        except Exception as exc:
            from bittensor.result import ChainError

            if isinstance(exc, StorageFunctionNotFound):
                # The item this runtime lacks: the client raises the SDK's own error again.
                return _error(200, STORAGE_NOT_FOUND, str(exc))
            if isinstance(exc, ChainError):
                return web.Response(
                    body=wire.dumps({"error": {"kind": "chain", "value": exc}}),
                    status=200,
                    content_type="application/json",
                )
            log.exception(
                "rpc call failed", method=body.get("method") if isinstance(body, dict) else None
            )
            return _error(500, "internal", f"{type(exc).__name__}: {exc}")
        return web.Response(body=wire.dumps({"result": result}), content_type="application/json")

    # -- /escrow ------------------------------------------------------------------------------

    async def escrow(self, request: web.Request) -> web.Response:
        try:
            body = wire.loads(await request.read())
            if not isinstance(body, dict):
                raise BadRequest("an escrow filing is an object")
            signer, crypto_type = body.get("signer"), body.get("crypto_type", 1)
            ciphertext, payload = body.get("ciphertext"), body.get("payload")
            signature = body.get("signature")
            if not isinstance(signer, str) or not isinstance(crypto_type, int):
                raise BadRequest("escrow: signer must be an ss58 address, crypto_type an integer")
            if not all(isinstance(v, bytes) for v in (ciphertext, payload, signature)):
                raise BadRequest("escrow: ciphertext, payload and signature must be bytes")
            refusal = acceptable(signer, ciphertext, payload)
            if refusal:
                raise BadRequest(f"escrow: {refusal}")
            message = escrow_message(ciphertext, payload)
            if not verify_signature(signer, crypto_type, message, signature):
                raise BadRequest("escrow: the signature does not verify against the signer")
        except (wire.WireError, BadRequest) as exc:
            return _error(400, "bad_request", str(exc))
        filed = self.chain.timelock_escrow.file_once(ciphertext, payload)
        return web.Response(body=wire.dumps({"result": filed}), content_type="application/json")

    # -- /admin ------------------------------------------------------------------------------

    async def admin(self, request: web.Request) -> web.Response:
        body: Any = None
        try:
            body = wire.loads(await request.read())
            if not isinstance(body, dict) or not isinstance(body.get("op"), str):
                raise BadRequest('an admin request is {"op": str, "args": {...}}')
            op, args = body["op"], body.get("args") or {}
            if not isinstance(args, dict):
                raise BadRequest("args must be an object")
            handler = getattr(self, f"_admin_{op}", None)
            if handler is None:
                raise BadRequest(f"unknown admin op {op!r}")
            try:
                inspect.signature(handler).bind(**args)
            except TypeError as exc:
                raise BadRequest(f"{op}: {exc}") from None
            result = await handler(**args)
        except (wire.WireError, BadRequest) as exc:
            return _error(400, "bad_request", str(exc))
        except (ChainFailure, ValueError) as exc:  # the world refused: say why, carry on
            name = getattr(exc, "name", None) or type(exc).__name__
            return _error(409, "chain", f"{name}: {getattr(exc, 'message', None) or exc}")
        except Exception as exc:
            log.exception("admin op failed", op=body.get("op") if isinstance(body, dict) else None)
            return _error(500, "internal", f"{type(exc).__name__}: {exc}")
        return web.Response(body=wire.dumps({"result": result}), content_type="application/json")

    async def _admin_status(self) -> dict[str, Any]:
        return {
            "head": self.chain.head,
            "finalized": self.chain.finalized,
            "block_time": self.chain.block_time,
            "halted": self.chain.halted,
            "faults": self.faults.describe(),
            "calls": self.calls,
            # simnet.runtime: the spec version and the storage items it lacks.
            "runtime": {
                "spec_version": self.chain.runtime.spec_version,
                "lacks": sorted(self.chain.runtime.lacks),
            },
        }

    async def _admin_fund(self, ss58: str, tao: float) -> int:
        rao = round(float(tao) * 1e9)
        self.chain.fund(ss58, rao)
        return rao

    async def _admin_halt(self, blocks: int | None = None) -> None:
        self.world.halt(blocks) if self.world else setattr(self.chain, "halted", True)

    async def _admin_resume(self) -> None:
        self.world.resume() if self.world else setattr(self.chain, "halted", False)

    async def _admin_set_faults(
        self,
        error_rate: float = 0.0,
        latency: float = 0.0,
        drop_rate: float = 0.0,
        policy_close_rate: float = 0.0,
    ) -> dict[str, float]:
        rates = (("error_rate", error_rate), ("drop_rate", drop_rate))
        for name, value in (*rates, ("policy_close_rate", policy_close_rate)):
            if not 0.0 <= float(value) <= 1.0:
                raise BadRequest(f"{name} must be between 0 and 1")
        if float(latency) < 0:
            raise BadRequest("latency must be >= 0 seconds")
        self.faults.error_rate, self.faults.latency = float(error_rate), float(latency)
        self.faults.drop_rate = float(drop_rate)
        self.faults.policy_close_rate = float(policy_close_rate)
        return self.faults.describe()

    async def _admin_scale_stake(self, netuid: int, hotkey: str, factor: float) -> None:
        self.chain.scale_stake(int(netuid), hotkey, float(factor))

    async def _admin_register(self, netuid: int, hotkey: str, coldkey: str) -> int:
        return self.chain.register(int(netuid), hotkey, coldkey)

    async def _admin_deregister(self, netuid: int, hotkey: str) -> str:
        if self.world is None:
            raise BadRequest("deregister needs a world (start the server with a scenario)")
        return self.world.deregister(int(netuid), hotkey)

    async def _admin_set_hyperparameter(self, netuid: int, name: str, value: Any) -> None:
        self.chain.set_hyperparameter(int(netuid), name, value)

    async def _admin_step(self, blocks: int = 1) -> int:
        self.chain.step(int(blocks))
        return self.chain.head

    async def healthz(self, _request: web.Request) -> web.Response:
        return web.json_response(await self._admin_status())


def _error(status: int, kind: str, message: str) -> web.Response:
    return web.Response(
        body=wire.dumps({"error": {"kind": kind, "message": message}}),
        status=status,
        content_type="application/json",
    )
