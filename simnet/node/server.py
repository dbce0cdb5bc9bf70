"""simnet as a Substrate node: JSON-RPC 2.0 over WebSocket and HTTP POST on one port.

``GET /`` upgrades to a WebSocket carrying requests, batches and subscriptions (new and
finalized heads, pushed for every block in order, none skipped); ``POST /`` answers a request
or a batch over plain HTTP, as a node's RPC port does. A frame that is not JSON, or a request
without a method, gets the JSON-RPC parse / invalid-request error and the connection carries on.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from types import MappingProxyType
from typing import Any

import structlog
from aiohttp import WSMsgType, web

from simnet.node.answers import NodeError
from simnet.node.rpc import NodeRpc

log = structlog.get_logger("simnet.node")

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
INTERNAL_ERROR = -32603
# subscribe method -> (notification method, finalized heads?, unsubscribe method)
SUBSCRIPTIONS = MappingProxyType(
    {
        f"chain_subscribe{kind}": (notify, final, f"chain_unsubscribe{kind}")
        for kind, notify, final in (
            ("NewHeads", "chain_newHead", False),
            ("NewHead", "chain_newHead", False),
            ("AllHeads", "chain_allHead", False),
            ("FinalizedHeads", "chain_finalizedHead", True),
            ("FinalisedHeads", "chain_finalizedHead", True),
        )
    }
)
_NO_ANSWER = object()  # a fault that leaves the request unanswered (the socket is gone)
UNSUBSCRIBE = frozenset(unsub for _n, _f, unsub in SUBSCRIPTIONS.values())


def _error(request_id: Any, code: int, message: str, data: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return {"jsonrpc": "2.0", "id": request_id, "error": error}


class NodeServer:
    """The aiohttp app of the node; one :class:`NodeRpc` shared by every connection."""

    def __init__(self, rpc: NodeRpc, *, faults: Any = None, poll_seconds: float | None = None):
        self.rpc = rpc
        self.chain = rpc.chain
        # simnet.server.Faults, shared with the sim:// listener: one set of injected faults.
        self.faults = faults
        self.dropped = 0  # sockets dropped by injected faults
        self.policy_closed = 0  # sockets closed with 1008 by injected faults
        self._poll = poll_seconds or min(0.05, self.chain.block_time / 4)
        self._ids = itertools.count(1)

    def app(self) -> web.Application:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_get("/", self._websocket)
        app.router.add_post("/", self._http)
        return app

    # ------------------------------------------------------------------ framing

    async def answer(self, frame: Any) -> dict[str, Any] | None:
        if not isinstance(frame, dict) or not isinstance(frame.get("method"), str):
            return _error(None, INVALID_REQUEST, "Invalid request")
        request_id = frame.get("id")
        try:
            result = await self.rpc.dispatch(frame["method"], frame.get("params"))
        except NodeError as error:
            return _error(request_id, error.code, error.message, error.data)
        except Exception as error:  # one bad request never takes the node down
            log.warning("rpc_failed", method=frame["method"], error=repr(error))
            return _error(request_id, INTERNAL_ERROR, f"Internal error: {error}")
        return {"jsonrpc": "2.0", "id": request_id, "result": result}

    async def _http(self, request: web.Request) -> web.Response:
        try:
            frame = json.loads(await request.text())
        except ValueError:
            return web.json_response(_error(None, PARSE_ERROR, "Parse error"))
        if isinstance(frame, list):
            return web.json_response([await self.answer(item) for item in frame])
        return web.json_response(await self.answer(frame))

    # ------------------------------------------------------------------ websocket

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=16 * 1024 * 1024)
        await ws.prepare(request)
        subscriptions: dict[str, asyncio.Task] = {}
        in_flight: set[asyncio.Task] = set()
        try:
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    continue
                task = asyncio.create_task(
                    self._frame(ws, message.data, subscriptions, request.transport)
                )
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
        finally:
            for task in [*subscriptions.values(), *in_flight]:
                task.cancel()
        return ws

    async def _frame(self, ws: web.WebSocketResponse, text: str, subs: dict, transport) -> None:
        try:
            frame = json.loads(text)
        except ValueError:
            await self._send(ws, _error(None, PARSE_ERROR, "Parse error"))
            return
        if isinstance(frame, list):
            await self._send(ws, [await self._one(ws, item, subs, transport) for item in frame])
        else:
            await self._send(ws, await self._one(ws, frame, subs, transport))

    async def _one(
        self, ws: web.WebSocketResponse, frame: Any, subs: dict, transport: Any = None
    ) -> dict | None:
        method = frame.get("method") if isinstance(frame, dict) else None
        fault = await self._fault(ws, frame, transport)
        if fault is _NO_ANSWER:
            return None
        if fault is not None:
            return fault
        if method in SUBSCRIPTIONS:
            sub_id = f"sim{next(self._ids)}"
            notify, finalized, _unsub = SUBSCRIPTIONS[method]
            subs[sub_id] = asyncio.create_task(self._heads(ws, sub_id, notify, finalized))
            return {"jsonrpc": "2.0", "id": frame.get("id"), "result": sub_id}
        if method == "author_submitAndWatchExtrinsic":
            try:
                pending, _hash = self.rpc.answers.author.accept(
                    str((frame.get("params") or [""])[0])
                )
            except NodeError as error:
                return _error(frame.get("id"), error.code, error.message, error.data)
            sub_id = f"sim{next(self._ids)}"
            subs[sub_id] = asyncio.create_task(self._watch(ws, sub_id, pending))
            return {"jsonrpc": "2.0", "id": frame.get("id"), "result": sub_id}
        if method in UNSUBSCRIBE or method == "author_unwatchExtrinsic":
            params = frame.get("params") or [None]
            task = subs.pop(str(params[0]), None)
            if task is not None:
                task.cancel()
            return {"jsonrpc": "2.0", "id": frame.get("id"), "result": task is not None}
        return await self.answer(frame)

    async def _fault(self, ws: web.WebSocketResponse, frame: Any, transport: Any) -> Any:
        """Faults as public endpoints produce them: added latency per frame, rate-limit error
        frames (the codes seen in the wild, -32029 and -32032), sockets closed with 1008
        (policy), which the SDK takes as final for that endpoint, and sockets dropped without a
        close frame, which the SDK's session reconnects through and resubmits over."""
        f = self.faults
        if f is None:
            return None
        if f.latency:
            await asyncio.sleep(f.latency)
        if f.policy_close_rate and f.rng.random() < f.policy_close_rate:
            self.policy_closed += 1
            asyncio.get_running_loop().create_task(
                ws.close(code=1008, message=b"rate limit policy: too many requests")
            )
            return _NO_ANSWER
        if f.drop_rate and f.rng.random() < f.drop_rate:
            if transport is not None:
                self.dropped += 1
                transport.abort()
            return _NO_ANSWER
        if f.error_rate and f.rng.random() < f.error_rate:
            request_id = frame.get("id") if isinstance(frame, dict) else None
            if f.rng.random() < 0.5:
                return _error(request_id, -32029, "Too many requests", "rate limit exceeded")
            return _error(request_id, -32032, "Rate limit exceeded", "try again later")
        return None

    async def _heads(self, ws: web.WebSocketResponse, sub_id: str, notify: str, finalized: bool):
        """The current head first, as a node sends on subscribing, then every block after."""
        seen = (self.chain.finalized if finalized else self.chain.head) - 1
        while not ws.closed:
            top = self.chain.finalized if finalized else self.chain.head
            while seen < top:
                seen += 1
                params = {"subscription": sub_id, "result": self.rpc.header(seen)}
                await self._send(ws, {"jsonrpc": "2.0", "method": notify, "params": params})
            await asyncio.sleep(self._poll)

    async def _watch(self, ws: web.WebSocketResponse, sub_id: str, pending: Any) -> None:
        """The transaction's status as a node reports it: ready, in a block, finalized."""

        async def status(result: Any) -> None:
            params = {"subscription": sub_id, "result": result}
            await self._send(
                ws, {"jsonrpc": "2.0", "method": "author_extrinsicUpdate", "params": params}
            )

        await status("ready")
        loop = asyncio.get_running_loop()
        included = asyncio.Event()
        pending.add_listener(lambda _p: loop.call_soon_threadsafe(included.set))
        await included.wait()
        receipt = pending.receipt
        await status({"inBlock": receipt.block_hash})
        final = asyncio.Event()
        self.chain.when_finalized(receipt.block, lambda: loop.call_soon_threadsafe(final.set))
        await final.wait()
        await status({"finalized": receipt.block_hash})

    @staticmethod
    async def _send(ws: web.WebSocketResponse, payload: Any) -> None:
        if payload is None or ws.closed:
            return
        with contextlib.suppress(ConnectionResetError, RuntimeError):
            await ws.send_str(json.dumps(payload))
