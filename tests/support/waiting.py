"""One way to wait for a condition: poll it until it holds, or fail saying what was awaited.

``eventually`` is for tests on an event loop, ``eventually_sync`` for tests that block. Both
return the first truthy value the condition produced, so a test can wait for a value and use it.
A timeout here only bounds how long a broken test hangs; it is never the property under test,
so make it generous.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")

NOTHING_TOLERATED: tuple[type[BaseException], ...] = ()


def _failure(what: str, timeout: float, last: object) -> AssertionError:
    return AssertionError(f"timed out after {timeout:g} s waiting for {what}; last saw {last!r}")


async def eventually(
    condition: Callable[[], T | Awaitable[T]],
    *,
    what: str,
    timeout: float = 30.0,
    every: float = 0.02,
    tolerating: tuple[type[BaseException], ...] = NOTHING_TOLERATED,
) -> T:
    """Call ``condition`` (plain or async) until it returns something truthy; return that.

    Exceptions of a type in ``tolerating`` count as "not yet" (a server still starting).
    """
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = condition()
            if inspect.isawaitable(last):
                last = await last
        except tolerating as exc:
            last = exc
        else:
            if last:
                return last
        if time.monotonic() > deadline:
            raise _failure(what, timeout, last)
        await asyncio.sleep(every)


def eventually_sync(
    condition: Callable[[], T],
    *,
    what: str,
    timeout: float = 30.0,
    every: float = 0.1,
    tolerating: tuple[type[BaseException], ...] = NOTHING_TOLERATED,
) -> T:
    """The blocking twin of :func:`eventually`, for tests without an event loop."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = condition()
        except tolerating as exc:
            last = exc
        else:
            if last:
                return last
        if time.monotonic() > deadline:
            raise _failure(what, timeout, last)
        time.sleep(every)
