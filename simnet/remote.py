"""Client side of a simnet server: a ``bittensor.Substrate`` over loopback HTTP.

:class:`SimBackend` is registered as the ``sim`` substrate backend (the
``taowatch.substrate_backends`` entry point), so ``common.chain.make_client("sim://HOST:PORT")``
wraps a :class:`RemoteSubstrate` in a ``bittensor.Client`` and every component drives the
unmodified SDK against the shared chain. The agent host imports this module without torch:
keep it (and what it imports) free of the simulation itself.
Keys stay in this process: writes are signed here (:mod:`simnet.calls`) and only the signature
travels. A commit-reveal commit also files its plaintext with the server first, simnet's
stand-in for drand (:mod:`simnet.escrow`). :class:`SimAdmin` drives the world (fund accounts,
halt blocks, inject faults).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from bittensor._transport.errors import StorageFunctionNotFound
from bittensor.balance import Balance
from bittensor.result import ChainError, RpcConnectionError

from common.chain import ChainAccess, NetworkError
from simnet import wire
from simnet.calls import compose, signing_payload
from simnet.escrow import ClientEscrow, commit_ciphertext, escrow_message, process_escrow
from simnet.protocol import remote_members
from simnet.runtime import STORAGE_NOT_FOUND

SIM_SCHEME = "sim"


@dataclass(frozen=True)
class SimAddress:
    host: str
    port: int

    @property
    def label(self) -> str:
        # The SDK wants a ws:// label even with an injected substrate (explorer links and
        # the token-symbol cache key). ".invalid" can never resolve, so nothing can ever
        # mistake it for a real endpoint.
        return f"ws://simnet-{self.host}-{self.port}.invalid"


def parse_sim(network: str) -> SimAddress | None:
    """``sim://127.0.0.1:9955`` -> SimAddress; any other scheme -> None."""
    if not network.startswith(f"{SIM_SCHEME}://"):
        return None
    parts = urlsplit(network)
    try:
        port = parts.port
    except ValueError:
        port = None
    if not parts.hostname or port is None:
        raise NetworkError(
            f"chain.network {network!r}: a simnet address needs a host and a port, "
            "for example sim://127.0.0.1:9955"
        )
    return SimAddress(parts.hostname, port)


class SimnetUnreachable(RpcConnectionError):
    pass


class _Http:
    def __init__(self, host: str, port: int, timeout: float):
        self.base = f"http://{host}:{port}"
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    async def post(self, path: str, payload: dict, *, timeout: float | None = None, balance=None):
        url = self.base + path
        try:
            async with self.session().post(
                url,
                data=wire.dumps(payload),
                headers={"Content-Type": "application/json"},
                timeout=aiohttp.ClientTimeout(total=timeout or self.timeout),
            ) as resp:
                body = await resp.read()
                status = resp.status
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            detail = str(exc) or type(exc).__name__
            raise SimnetUnreachable(
                f"simnet at {self.base} did not answer ({detail}); "
                "is `taowatch simnet serve` running on that address?"
            ) from None
        try:
            reply = wire.loads(body, balance=balance)
        except wire.WireError:
            raise SimnetUnreachable(f"simnet at {self.base} sent an unreadable reply") from None
        if not isinstance(reply, dict):
            raise SimnetUnreachable(f"simnet at {self.base} sent an unreadable reply")
        error = reply.get("error")
        if error:
            if error.get("kind") == "chain" and isinstance(error.get("value"), ChainError):
                raise error["value"]
            message = str(error.get("message", "unknown error"))
            if error.get("kind") == STORAGE_NOT_FOUND:
                raise StorageFunctionNotFound(message)
            if status >= 500 or error.get("kind") == "rpc":
                raise RpcConnectionError(f"simnet at {self.base}: {message}")
            raise ChainError(message, error.get("kind"))
        return reply.get("result")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


@remote_members
class RemoteSubstrate:
    """The ``bittensor.Substrate`` protocol, answered by a simnet server. Forwarded reads and
    the refusals of what simnet does not simulate remotely (offline signing, multisig) come
    from :func:`simnet.protocol.remote_members`."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        timeout: float = 10.0,
        escrow: ClientEscrow | None = None,
    ):
        self.host, self.port = host, port
        self._http = _Http(host, port, timeout)
        # What this process encrypted for commit-reveal (simnet.escrow); None files nothing.
        self._escrow = escrow
        self.token_symbols: dict[int, str] = {}
        self._block_time: float | None = None

    def __repr__(self) -> str:
        return f"RemoteSubstrate({self.host}:{self.port})"

    def balance(self, rao: int, netuid: int = 0) -> Balance:
        return Balance(rao, netuid, self.token_symbols.get(netuid))

    async def _call(self, rpc_method: str, /, *, rpc_timeout: float | None = None, **params: Any):
        return await self._http.post(
            "/rpc",
            {"method": rpc_method, "params": params},
            timeout=rpc_timeout,
            balance=self.balance,
        )

    # -- lifecycle ---------------------------------------------------------------------------

    async def connect(self) -> None:
        self._block_time = float(await self._call("block_time"))

    async def close(self) -> None:
        await self._http.close()

    # -- reads -------------------------------------------------------------------------------
    # Every other read is forwarded as is; simnet.protocol adds those methods.

    async def block_time(self) -> float:
        if self._block_time is None:
            self._block_time = float(await self._call("block_time"))
        return self._block_time

    async def blocks(self, *, finalized: bool = False) -> AsyncIterator[dict]:
        # The server has no push channel: poll at a fraction of the block time and yield
        # every number in order, so a slow consumer still sees each block once. Like a node,
        # the current head comes first.
        number = (await self.finalized_block_number()) if finalized else await self.block_number()
        number -= 1
        interval = max(0.05, (await self.block_time()) / 4)
        while True:
            head = (await self.finalized_block_number()) if finalized else await self.block_number()
            while number < head:
                number += 1
                parent = await self.block_hash(number - 1)
                yield {"header": {"number": number, "parentHash": parent}}
            await asyncio.sleep(interval)

    # -- writes ------------------------------------------------------------------------------

    async def compose(self, call):
        return compose(call)

    async def estimate_fee(self, call, keypair) -> Balance:
        return await self._call("estimate_fee", call=compose(call), address=keypair.ss58_address)

    async def estimate_weight(self, call, keypair) -> dict:
        return await self._call("estimate_weight", call=compose(call), address=keypair.ss58_address)

    def _signed(self, call, keypair, nonce: int, period: int) -> dict[str, Any]:
        composed = compose(call)
        payload = signing_payload(composed, signer=keypair.ss58_address, nonce=nonce, period=period)
        return {
            "call": composed,
            "signer": keypair.ss58_address,
            "crypto_type": int(getattr(keypair, "crypto_type", 1)),
            "nonce": nonce,
            "period": period,
            "signature": bytes(keypair.sign(payload)),
        }

    async def sign_extrinsic(self, call, keypair, *, nonce: int, period: int) -> tuple[bytes, str]:
        result = await self._call("sign_extrinsic", **self._signed(call, keypair, nonce, period))
        return bytes(result[0]), str(result[1])

    async def submit(
        self,
        call,
        keypair,
        *,
        nonce=None,
        period=128,
        wait_for_inclusion=True,
        wait_for_finalization=True,
    ):
        if nonce is None:
            nonce = await self.account_next_index(keypair.ss58_address)
        await self._file_plaintext(call, keypair)
        block_time = await self.block_time()
        # Inclusion waits for the next block, finality a few more: allow for them.
        timeout = self._http.timeout + (8 * block_time if wait_for_inclusion else 0)
        return await self._call(
            "submit",
            rpc_timeout=timeout,
            wait_for_inclusion=wait_for_inclusion,
            wait_for_finalization=wait_for_finalization,
            **self._signed(call, keypair, nonce, period),
        )

    async def _file_plaintext(self, call, keypair) -> None:
        """simnet's stand-in for drand: hand the server what the chain will need to open this
        commit at its reveal (simnet.escrow). Filed before the commit, so it is there first."""
        ciphertext = None if self._escrow is None else commit_ciphertext(compose(call))
        if ciphertext is None:
            return
        payload = self._escrow.peek(ciphertext)
        if payload is None:
            return  # encrypted elsewhere: the chain will drop it at the reveal, as drand-less
        # Forgotten only once filed: a failed filing fails this submission, and a retry of the
        # same commit files again.
        await self._http.post(
            "/escrow",
            {
                "signer": keypair.ss58_address,
                "crypto_type": int(getattr(keypair, "crypto_type", 1)),
                "ciphertext": ciphertext,
                "payload": payload,
                "signature": bytes(keypair.sign(escrow_message(ciphertext, payload))),
            },
        )
        self._escrow.take(ciphertext)


class SimBackend:
    """The ``sim`` substrate backend: ``sim://HOST:PORT`` -> a :class:`RemoteSubstrate`.

    A real chain's fallback and archive pools do not apply: simnet failover is done by the
    caller holding one substrate per endpoint.
    """

    usage = "sim://HOST:PORT for simnet"

    def check(self, network: str) -> None:
        if parse_sim(network) is None:
            raise NetworkError(f"chain.network {network!r} is not a simnet address ({self.usage})")

    def substrate_for(
        self,
        network: str,
        *,
        timeout: float,
        fallback_endpoints: list[str] | None = None,
        archive_endpoints: list[str] | None = None,
    ) -> ChainAccess:
        sim = parse_sim(network)
        if sim is None:
            raise NetworkError(f"chain.network {network!r} is not a simnet address ({self.usage})")
        # Only a simnet chain's process wraps its encryptor: see simnet.escrow.
        substrate = RemoteSubstrate(sim.host, sim.port, timeout=timeout, escrow=process_escrow())
        return ChainAccess(sim.label, substrate)


class SimAdmin:
    """Drives a simnet server's world: what a scenario does, on demand (tests, CLI)."""

    def __init__(self, host: str, port: int, *, timeout: float = 10.0):
        self._http = _Http(host, port, timeout)

    async def _op(self, op: str, **args: Any) -> Any:
        return await self._http.post("/admin", {"op": op, "args": args})

    async def status(self) -> dict[str, Any]:
        return await self._op("status")

    async def head(self) -> int:
        return int((await self.status())["head"])

    async def fund(self, ss58: str, tao: float) -> int:
        return await self._op("fund", ss58=ss58, tao=tao)

    async def halt(self, blocks: int | None = None) -> None:
        await self._op("halt", blocks=blocks)

    async def resume(self) -> None:
        await self._op("resume")

    async def set_faults(
        self,
        error_rate: float = 0.0,
        latency: float = 0.0,
        drop_rate: float = 0.0,
        policy_close_rate: float = 0.0,
    ):
        return await self._op(
            "set_faults",
            error_rate=error_rate,
            latency=latency,
            drop_rate=drop_rate,
            policy_close_rate=policy_close_rate,
        )

    async def scale_stake(self, netuid: int, hotkey: str, factor: float) -> None:
        await self._op("scale_stake", netuid=netuid, hotkey=hotkey, factor=factor)

    async def register(self, netuid: int, hotkey: str, coldkey: str) -> int:
        return await self._op("register", netuid=netuid, hotkey=hotkey, coldkey=coldkey)

    async def deregister(self, netuid: int, hotkey: str) -> str:
        return await self._op("deregister", netuid=netuid, hotkey=hotkey)

    async def set_hyperparameter(self, netuid: int, name: str, value: Any) -> None:
        await self._op("set_hyperparameter", netuid=netuid, name=name, value=value)

    async def step(self, blocks: int = 1) -> int:
        return await self._op("step", blocks=blocks)

    async def close(self) -> None:
        await self._http.close()

    async def __aenter__(self) -> SimAdmin:
        return self

    async def __aexit__(self, *_exc) -> None:
        await self.close()
