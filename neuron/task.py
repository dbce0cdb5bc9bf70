"""The pluggable task a miner serves and a validator scores.

A task is a request model in and a response model out (:class:`Task`). The miner serves it at
``POST /<task.name>``; its body is validated against ``request_model`` before ``solve`` is ever
called. The validator makes challenges with ``challenge`` and grades answers with ``check``,
which returns correctness in 0..1.

The reference task, :class:`MatmulTask`, is built so that answering fast with garbage earns
nothing: the validator draws a fresh 63-bit seed per miner per query, the answer is a vector
that depends non-linearly on every entry of ``rounds`` chained matrix products (``tanh``
between rounds), so it cannot be guessed, cached or shortcut, and the validator recomputes it
(cheap at the difficulty it chooses) and compares within a tight tolerance. A wrong answer
scores 0 however fast it came (see ``neuron.scoring``).

A plugin task is any ``package.module:factory`` returning an object with this shape.
"""

from __future__ import annotations

import asyncio
import importlib
import math
import random
import string
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field


class TaskModel(BaseModel):
    """Base for request/response bodies: unknown fields are refused, not ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@runtime_checkable
class Task(Protocol):
    """What a miner serves and a validator scores."""

    name: str  # also the route: POST /<name>
    request_model: type[BaseModel]
    response_model: type[BaseModel]

    async def solve(self, request: Any) -> BaseModel:
        """Miner side: answer a validated request."""
        ...

    def challenge(self, rng: random.Random) -> BaseModel:
        """Validator side: a fresh request. ``rng`` makes a run reproducible."""
        ...

    async def check(self, request: Any, response: Any) -> float:
        """Validator side: correctness of a validated response, 0 (wrong) .. 1 (right)."""
        ...

    def wrong_answer(self, request: Any, rng: random.Random) -> BaseModel:
        """A well-formed but wrong response (the demo's poor miner sends these)."""
        ...


# ---------------------------------------------------------------- the reference task


class MatmulRequest(TaskModel):
    seed: int = Field(ge=0, lt=2**63)
    size: int = Field(ge=4, le=512, description="matrix side n; work grows as n^3")
    rounds: int = Field(ge=1, le=32, description="chained products; work grows linearly")


class MatmulResponse(TaskModel):
    # Column sums of the final matrix: n numbers, so the reply stays small at any difficulty.
    digest: list[float] = Field(max_length=512)


def matmul_digest(seed: int, size: int, rounds: int) -> list[float]:
    """``x <- tanh(A @ x / sqrt(n))`` ``rounds`` times from seeded A, x; column sums of x.

    float64 on CPU, so two machines agree to far better than the check's tolerance.
    """
    import torch  # imported on first use: the metrics and auth paths do not need it

    gen = torch.Generator().manual_seed(seed)
    a = torch.randn(size, size, generator=gen, dtype=torch.float64)
    x = torch.randn(size, size, generator=gen, dtype=torch.float64)
    scale = 1.0 / math.sqrt(size)
    for _ in range(rounds):
        x = torch.tanh((a @ x) * scale)
    return x.sum(dim=0).tolist()


class MatmulTask:
    """Chained seeded matrix products; the validator verifies by recomputing."""

    name = "matmul"
    request_model = MatmulRequest
    response_model = MatmulResponse
    # Relative tolerance of the check: generous for BLAS reordering, hopeless for guessing.
    tolerance = 1e-6

    def __init__(self, size: int = 64, rounds: int = 4):
        self.size = size
        self.rounds = rounds

    async def solve(self, request: MatmulRequest) -> MatmulResponse:
        digest = await asyncio.to_thread(matmul_digest, request.seed, request.size, request.rounds)
        return MatmulResponse(digest=digest)

    def challenge(self, rng: random.Random) -> MatmulRequest:
        return MatmulRequest(seed=rng.getrandbits(63), size=self.size, rounds=self.rounds)

    async def check(self, request: MatmulRequest, response: MatmulResponse) -> float:
        if len(response.digest) != request.size:
            return 0.0
        expected = await asyncio.to_thread(
            matmul_digest, request.seed, request.size, request.rounds
        )
        for got, want in zip(response.digest, expected, strict=True):
            if not math.isfinite(got) or abs(got - want) > self.tolerance * max(1.0, abs(want)):
                return 0.0
        return 1.0

    def wrong_answer(self, request: MatmulRequest, rng: random.Random) -> MatmulResponse:
        return MatmulResponse(digest=[rng.uniform(-1, 1) for _ in range(request.size)])


# ---------------------------------------------------------------- the trivial task


class EchoRequest(TaskModel):
    payload: str = Field(max_length=4096)


class EchoResponse(TaskModel):
    payload: str


class EchoTask:
    """Returns the payload: no work at all, so benchmarks measure the runtime alone."""

    name = "echo"
    request_model = EchoRequest
    response_model = EchoResponse

    async def solve(self, request: EchoRequest) -> EchoResponse:
        return EchoResponse(payload=request.payload)

    def challenge(self, rng: random.Random) -> EchoRequest:
        return EchoRequest(payload="".join(rng.choices(string.ascii_letters, k=32)))

    async def check(self, request: EchoRequest, response: EchoResponse) -> float:
        return 1.0 if response.payload == request.payload else 0.0

    def wrong_answer(self, request: EchoRequest, rng: random.Random) -> EchoResponse:
        return EchoResponse(payload=request.payload[::-1] + "?")


# ---------------------------------------------------------------- quality and loading


class PoorQuality:
    """Wraps a task to answer wrong a fraction of the time, and slowly: the demo's bad miner."""

    def __init__(self, task: Task, *, wrong_fraction: float, delay: float, seed: int = 0):
        self.inner = task
        self.name = task.name
        self.request_model = task.request_model
        self.response_model = task.response_model
        self._wrong_fraction = wrong_fraction
        self._delay = delay
        self._rng = random.Random(seed)

    async def solve(self, request: Any) -> BaseModel:
        if self._delay:
            await asyncio.sleep(self._delay)
        if self._rng.random() < self._wrong_fraction:
            return self.inner.wrong_answer(request, self._rng)
        return await self.inner.solve(request)

    def challenge(self, rng: random.Random) -> BaseModel:
        return self.inner.challenge(rng)

    async def check(self, request: Any, response: Any) -> float:
        return await self.inner.check(request, response)

    def wrong_answer(self, request: Any, rng: random.Random) -> BaseModel:
        return self.inner.wrong_answer(request, rng)


class TaskError(ValueError):
    """A task name or plugin that cannot be loaded; the message says what is accepted."""


BUILTIN: Mapping[str, type] = MappingProxyType({"matmul": MatmulTask, "echo": EchoTask})


def load_task(name: str, **params: Any) -> Task:
    """``matmul``, ``echo``, or ``package.module:factory`` (called with ``params``)."""
    if name in BUILTIN:
        factory = BUILTIN[name]
        if factory is EchoTask:
            params = {}
    elif ":" in name:
        module_name, _, attr = name.partition(":")
        try:
            factory = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            raise TaskError(f"task {name!r}: cannot import it ({exc})") from None
    else:
        raise TaskError(
            f"task {name!r} is unknown: use one of {', '.join(BUILTIN)} or a plugin "
            "'package.module:factory'"
        )
    try:
        task = factory(**params)
    except TypeError:
        task = factory()
    if not isinstance(task, Task):
        raise TaskError(
            f"task {name!r} does not implement neuron.task.Task "
            "(name, request_model, response_model, solve, challenge, check, wrong_answer)"
        )
    if not task.name.isidentifier():
        raise TaskError(f"task {name!r}: its name {task.name!r} must be an identifier (the route)")
    return task
