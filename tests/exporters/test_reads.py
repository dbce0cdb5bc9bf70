"""Reads that fail alone (exporters/reads.py, exporters/retry.py) and the runtime's version
(exporters/runtime_version.py), through the SDK on an in-process simnet that answers as an
older runtime (simnet/runtime.py) or refuses requests."""

from __future__ import annotations

from typing import Any

import pytest
from bittensor.result import ChainError
from prometheus_client import CollectorRegistry

from exporters.chain import ColdkeyWatch, WatchPlan
from exporters.reads import READ_ERROR_REASONS, READS, ReadBook
from simnet.runtime import OLDER_RUNTIME_LACKS, Runtime, RuntimeUpgrade
from simnet.testing import small_world
from tests.support.exporters import event_poller, make_poller


def val(registry: CollectorRegistry, name: str, **labels: Any) -> float | None:
    return registry.get_sample_value(name, {k: str(v) for k, v in labels.items()})


def older_world():
    world = small_world(validators=2, miners=3, tempo=10, max_uids=6)
    world.chain.runtime = Runtime(293, frozenset(OLDER_RUNTIME_LACKS))
    world.chain.step()
    return world


def watch_everything(world) -> WatchPlan:
    miner = world.miners[0]
    return WatchPlan(
        hotkeys=((world.netuid, miner.hotkey.ss58_address),),
        coldkeys=(ColdkeyWatch(miner.coldkey.ss58_address, (world.netuid,)),),
        export_all=frozenset({world.netuid}),
    )


async def test_every_read_starts_with_zero_errors_and_supported():
    world = small_world()
    world.chain.step()
    poller, _, reg = make_poller(world.chain, WatchPlan(export_all=frozenset({world.netuid})))
    assert await poller.poll()
    for read in READS:
        assert val(reg, "bittensor_exporter_read_unsupported", read=read) == 0
        for reason in READ_ERROR_REASONS:
            assert val(reg, "bittensor_exporter_read_errors_total", read=read, reason=reason) == 0


async def test_an_older_runtime_is_polled_without_failure_and_only_its_missing_rules_are_absent():
    world = older_world()
    poller, _sub, reg = event_poller(world.chain, watch_everything(world))
    for _ in range(3):
        assert await poller.poll()
        world.chain.step()
    assert poller.status.errors == dict.fromkeys(poller.status.errors, 0)
    netuid, hotkey = world.netuid, world.miners[0].hotkey.ss58_address
    lacking = {
        "epoch_consensus",
        "mechanism_counts",
        "min_non_immune_uids",
        "coldkey_swap_announcements",
        "coldkey_swap_disputes",
    }
    for read in READS:
        assert val(reg, "bittensor_exporter_read_unsupported", read=read) == (read in lacking)
        assert val(reg, "bittensor_exporter_read_errors_total", read=read, reason="rpc_error") == 0
    # The rules the runtime does not have are absent, not today's defaults (Yuma, floor 10) ...
    assert val(reg, "bittensor_subnet_null_consensus", netuid=netuid) is None
    assert val(reg, "bittensor_subnet_min_non_immune_uids", netuid=netuid) is None
    # ... while what it does have is exported as ever.
    yuma3 = world.chain.subnet(netuid).yuma3_on
    assert val(reg, "bittensor_subnet_yuma3_enabled", netuid=netuid) == float(yuma3)
    uid = world.chain.subnet(netuid).uids[hotkey]
    assert val(reg, "bittensor_neuron_registered", netuid=netuid, hotkey=hotkey) == 1
    assert val(reg, "bittensor_neuron_incentive", netuid=netuid, hotkey=hotkey, uid=uid) is not None
    assert val(reg, "bittensor_chain_runtime_spec_version") == 293
    assert val(reg, "bittensor_chain_runtime_upgrades_total") == 0
    # No swap map on this runtime: no announcement, and no event made up from one.
    assert val(
        reg,
        "bittensor_coldkey_swap_events_total",
        coldkey=world.miners[0].coldkey.ss58_address,
        action="announced",
    ) in (0, None)


async def test_a_runtime_without_the_non_immune_floor_still_gives_eviction_positions():
    # Every neuron past immunity: with today's default floor of 10 applied to a runtime that
    # has no floor, no neuron of a 6-uid subnet would get a position (the miss).
    world = older_world()
    chain = world.chain
    for _ in range(chain.subnet(world.netuid).immunity_period + 1):
        chain.step()
    poller, _, reg = make_poller(chain, WatchPlan(export_all=frozenset({world.netuid})))
    assert await poller.poll()
    positions = [
        val(
            reg,
            "bittensor_neuron_pruning_position",
            netuid=world.netuid,
            hotkey=n.hotkey,
            uid=n.uid,
        )
        for n in chain.subnet(world.netuid).neurons
        if n.hotkey != chain.subnet(world.netuid).owner_hotkey
    ]
    assert sorted(p for p in positions if p is not None) == list(range(len(positions)))


async def test_a_mid_run_upgrade_is_counted_once_with_the_old_and_new_version():
    world = older_world()
    chain = world.chain
    poller, _, reg = make_poller(chain, WatchPlan(export_all=frozenset({world.netuid})))
    assert await poller.poll()
    chain.runtime = chain.runtime.upgraded(
        RuntimeUpgrade(
            spec_version=301,
            adds=["SubtensorModule.MinNonImmuneUids"],
            removes=["SubtensorModule.Yuma3On"],
        )
    )
    for _ in range(3):
        chain.step()
        assert await poller.poll()
    assert val(reg, "bittensor_chain_runtime_spec_version") == 301
    assert val(reg, "bittensor_chain_runtime_previous_spec_version") == 293
    assert val(reg, "bittensor_chain_runtime_upgrades_total") == 1
    assert val(reg, "bittensor_exporter_read_unsupported", read="min_non_immune_uids") == 0
    assert val(reg, "bittensor_exporter_read_unsupported", read="yuma3") == 1
    assert val(reg, "bittensor_subnet_min_non_immune_uids", netuid=world.netuid) is not None
    assert val(reg, "bittensor_subnet_yuma3_enabled", netuid=world.netuid) is None


async def test_the_upgrade_count_survives_a_restart_and_the_version_found_is_no_upgrade(tmp_path):
    world = older_world()
    chain, state = world.chain, tmp_path / "state.json"
    poller, _, _ = make_poller(chain, WatchPlan(export_all=frozenset({world.netuid})), state)
    assert await poller.poll()
    chain.runtime = chain.runtime.upgraded(RuntimeUpgrade(spec_version=300))
    chain.step()
    assert await poller.poll()
    chain.step()
    again, _, reg = make_poller(chain, WatchPlan(export_all=frozenset({world.netuid})), state)
    assert await again.poll()
    assert val(reg, "bittensor_chain_runtime_upgrades_total") == 1
    assert val(reg, "bittensor_chain_runtime_previous_spec_version") == 293


class FailingItem:
    """A substrate whose reads of one storage item fail (a node that errors on it)."""

    def __init__(self, inner: Any, item: str, error: Exception):
        self._inner, self._item, self._error = inner, item, error

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._inner, name)
        if name not in {"query", "query_map", "query_batch"}:
            return target

        async def read(module: str, storage_function: str, *args: Any, **kwargs: Any) -> Any:
            if storage_function == self._item:
                raise self._error
            return await target(module, storage_function, *args, **kwargs)

        return read


async def test_one_failing_read_leaves_only_its_own_series_absent_and_is_counted():
    world = small_world(validators=2, miners=3, tempo=10, max_uids=6)
    chain = world.chain
    chain.step()
    poller, sub, reg = make_poller(chain, WatchPlan(export_all=frozenset({world.netuid})))
    sub._inner = FailingItem(sub._inner, "MinNonImmuneUids", ChainError("node refused"))
    assert await poller.poll()
    assert val(reg, "bittensor_exporter_up") == 1
    assert (
        val(
            reg,
            "bittensor_exporter_read_errors_total",
            read="min_non_immune_uids",
            reason="rpc_error",
        )
        == 1
    )
    assert val(reg, "bittensor_exporter_read_unsupported", read="min_non_immune_uids") == 0
    assert val(reg, "bittensor_subnet_min_non_immune_uids", netuid=world.netuid) is None
    assert val(reg, "bittensor_subnet_null_consensus", netuid=world.netuid) == 0
    assert val(reg, "bittensor_subnet_ema_price_tao", netuid=world.netuid) is not None


async def test_a_failed_subnet_read_leaves_that_subnet_out_and_deregisters_nobody():
    world = small_world(validators=2, miners=3, tempo=10, max_uids=6)
    chain = world.chain
    chain.step()
    hotkey = world.miners[0].hotkey.ss58_address
    poller, sub, reg = make_poller(chain, WatchPlan(hotkeys=((world.netuid, hotkey),)))
    assert await poller.poll()
    inner = sub._inner

    class NoMetagraph:
        def __getattr__(self, name: str) -> Any:
            target = getattr(inner, name)
            if name != "runtime_call":
                return target

            async def call(api: str, method: str, *args: Any, **kwargs: Any) -> Any:
                if "metagraph" in method.lower():
                    raise ChainError("metagraph read failed")
                return await target(api, method, *args, **kwargs)

            return call

    sub._inner = NoMetagraph()
    chain.step()
    assert await poller.poll()
    assert (
        val(reg, "bittensor_exporter_read_errors_total", read="metagraph", reason="rpc_error") == 1
    )
    assert val(reg, "bittensor_neuron_registered", netuid=world.netuid, hotkey=hotkey) is None
    assert poller.tracker.counts().get((world.netuid, hotkey), 0) == 0
    sub._inner = inner
    chain.step()
    assert await poller.poll()
    assert val(reg, "bittensor_neuron_registered", netuid=world.netuid, hotkey=hotkey) == 1


async def test_with_thirty_percent_of_requests_refused_nine_polls_in_ten_complete():
    world = small_world(validators=2, miners=3, tempo=10, max_uids=6)
    chain = world.chain
    chain.step()
    poller, sub, reg = event_poller(chain, watch_everything(world))
    assert await poller.poll()
    sub.refuse = 0.3
    completed = 0
    polls = 60
    for _ in range(polls):
        chain.step()
        completed += await poller.poll()
    assert sub.refused > polls  # the endpoint did refuse, many times
    assert completed >= 0.9 * polls
    # Nothing the refusals touched reads as an event or a deregistration.
    assert poller.tracker.counts().get((world.netuid, world.miners[0].hotkey.ss58_address), 0) == 0
    assert val(
        reg,
        "bittensor_coldkey_swap_events_total",
        coldkey=world.miners[0].coldkey.ss58_address,
        action="reset",
    ) in (0, None)


class Lines:
    def __init__(self) -> None:
        self.lines: list[tuple[str, dict]] = []

    def warning(self, event: str, **kw: Any) -> None:
        self.lines.append((event, kw))

    info = warning


async def test_a_read_failing_every_poll_is_logged_once_per_interval_with_its_count():
    now = [0.0]
    log = Lines()
    book = ReadBook(log_every=60, monotonic=lambda: now[0], logger=log)

    async def refused() -> None:
        raise ChainError("refused")

    for _ in range(30):  # one a second for half a minute
        assert await book.read("delegate_take", refused()) is None
        now[0] += 1
    assert len(log.lines) == 1
    now[0] = 61
    await book.read("delegate_take", refused())
    assert len(log.lines) == 2
    # The 29 kept quiet after the first line, and this one.
    assert log.lines[1][1]["failures_since_last_line"] == 30
    assert book.view().errors[("delegate_take", "rpc_error")] == 31


async def test_an_unknown_read_name_is_a_clear_error():
    async def value() -> int:
        return 1

    pending = value()
    with pytest.raises(ValueError, match=r"add it to exporters\.reads\.READS"):
        await ReadBook().read("no_such_read", pending)
    pending.close()


class Answers:
    """A substrate whose ``query`` raises each of ``errors`` in turn, then answers 7."""

    def __init__(self, *errors: BaseException):
        self.errors = list(errors)
        self.calls = 0

    async def query(self, *args: Any, **kwargs: Any) -> int:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return 7


async def no_sleep(_seconds: float) -> None:
    return None


async def test_a_refused_read_is_asked_again_and_a_chain_answer_or_missing_item_is_not():
    from bittensor._transport.errors import RpcPolicyRejection, StorageFunctionNotFound

    from exporters.retry import RetryingSubstrate

    refused = Answers(RpcPolicyRejection("rate limited"), ConnectionResetError())
    assert await RetryingSubstrate(refused, sleep=no_sleep).query("M", "I") == 7
    assert refused.calls == 3
    for final in (
        ChainError("Custom error: 5"),
        StorageFunctionNotFound("M.I not found"),
        TimeoutError(),  # spent its time; the SDK's transport retries timeouts itself
    ):
        once = Answers(final)
        with pytest.raises(type(final)):
            await RetryingSubstrate(once, sleep=no_sleep).query("M", "I")
        assert once.calls == 1
    always = Answers(*[RpcPolicyRejection("rate limited")] * 9)
    with pytest.raises(RpcPolicyRejection):
        await RetryingSubstrate(always, attempts=5, sleep=no_sleep).query("M", "I")
    assert always.calls == 5
