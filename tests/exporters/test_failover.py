"""RPC endpoint failover between two in-process simnet chains built identically."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from exporters.chain import ChainPoller, WatchPlan
from exporters.collector import ChainCollector
from exporters.deregistration import AgentState
from exporters.endpoints import EndpointPool, endpoint_label
from simnet.substrate import SimSubstrate
from simnet.testing import in_process_backends, small_world
from tests.support.exporters import CountingSubstrate


def test_endpoint_labels_never_carry_credentials():
    assert endpoint_label("wss://user:secret@rpc.example.com/ws/APIKEY?key=x") == (
        "wss://rpc.example.com"
    )
    assert endpoint_label("wss://rpc.example.com:9944/abc") == "wss://rpc.example.com:9944"
    assert endpoint_label("finney") == "finney"


async def test_the_poll_moves_to_a_healthy_endpoint_and_back_when_the_primary_recovers():
    primary_world = small_world(validators=1, miners=2)
    backup_world = small_world(validators=1, miners=2)
    subs = {
        "sim://primary:1": CountingSubstrate(SimSubstrate(primary_world.chain)),
        "sim://backup:2": CountingSubstrate(SimSubstrate(backup_world.chain)),
    }
    pool = EndpointPool.over(list(subs), in_process_backends(subs), failback_after_polls=2)
    hk = primary_world.miners[0].hotkey.ss58_address
    poller = ChainPoller(WatchPlan(hotkeys=((1, hk),)), pool, AgentState(None))
    reg = CollectorRegistry()
    reg.register(ChainCollector(poller))

    def sample(name: str, endpoint: str) -> float | None:
        return reg.get_sample_value(name, {"endpoint": endpoint})

    def step_both() -> None:
        primary_world.chain.step()
        backup_world.chain.step()

    assert await poller.poll()
    assert poller.snapshot.endpoint == "sim://primary:1"
    assert sample("bittensor_exporter_rpc_endpoint_active", "sim://primary:1") == 1

    subs["sim://primary:1"].fail = ConnectionError("primary is down")
    step_both()
    assert await poller.poll()  # still up: served by the backup in the same poll
    assert poller.snapshot.endpoint == "sim://backup:2"
    assert reg.get_sample_value("bittensor_exporter_up") == 1
    assert sample("bittensor_exporter_rpc_endpoint_up", "sim://primary:1") == 0
    assert sample("bittensor_exporter_rpc_endpoint_up", "sim://backup:2") == 1
    assert sample("bittensor_exporter_rpc_endpoint_active", "sim://backup:2") == 1
    assert reg.get_sample_value("bittensor_neuron_registered", {"netuid": "1", "hotkey": hk}) == 1

    # The primary recovers: it must stay healthy for failback_after_polls probes first.
    subs["sim://primary:1"].fail = None
    step_both()
    assert await poller.poll()
    assert poller.snapshot.endpoint == "sim://backup:2"
    step_both()
    assert await poller.poll()
    assert poller.snapshot.endpoint == "sim://primary:1"
    assert sample("bittensor_exporter_rpc_endpoint_active", "sim://primary:1") == 1
    assert sample("bittensor_exporter_rpc_endpoint_head_lag_blocks", "sim://backup:2") == 0


async def test_a_lagging_endpoint_is_left_for_the_one_ahead():
    ahead = small_world(validators=1, miners=2)
    behind = small_world(validators=1, miners=2)
    subs = {
        "sim://ahead:1": CountingSubstrate(SimSubstrate(ahead.chain)),
        "sim://behind:2": CountingSubstrate(SimSubstrate(behind.chain)),
    }
    pool = EndpointPool.over(list(subs)[::-1], in_process_backends(subs), max_lag_blocks=2)
    poller = ChainPoller(
        WatchPlan(hotkeys=((1, ahead.miners[0].hotkey.ss58_address),)),
        pool,
        AgentState(None),
    )
    ahead.chain.step(5)  # the preferred endpoint ("behind") is now 5 blocks behind
    assert await poller.poll()
    assert poller.snapshot.endpoint == "sim://ahead:1"
    lags = {e.label: e.lag for e in poller.status.endpoints}
    assert lags == {"sim://behind:2": 5, "sim://ahead:1": 0}


class CountingState(AgentState):
    """The agent's state, counting the commits the poller asks for."""

    def __init__(self, path):
        super().__init__(path)
        self.commits = 0

    def save(self) -> bool:
        self.commits += 1
        return super().save()


async def test_a_poll_that_fails_over_mid_read_commits_the_state_file_once(tmp_path):
    primary_world = small_world(validators=1, miners=2)
    backup_world = small_world(validators=1, miners=2)
    subs = {
        "sim://primary:1": CountingSubstrate(SimSubstrate(primary_world.chain)),
        "sim://backup:2": CountingSubstrate(SimSubstrate(backup_world.chain)),
    }
    pool = EndpointPool.over(list(subs), in_process_backends(subs))
    hk = primary_world.miners[0].hotkey.ss58_address
    state = CountingState(tmp_path / "state.json")
    poller = ChainPoller(WatchPlan(hotkeys=((1, hk),)), pool, state)
    assert await poller.poll()
    assert state.commits == 1

    # The primary answers its head probe, then fails the pinned reads: the backup serves
    # the same poll, and the poll (not each endpoint's read) commits the state once.
    primary, backup = subs["sim://primary:1"], subs["sim://backup:2"]
    primary.spared.add("block_number")
    primary.fail = ConnectionError("primary dropped mid-read")
    primary_world.chain.step()
    backup_world.chain.step()
    assert await poller.poll()
    assert poller.snapshot.endpoint == "sim://backup:2"
    assert state.commits == 2

    # Both fail mid-read: the poll fails, and still commits once after trying both.
    backup.spared.add("block_number")
    backup.fail = ConnectionError("backup dropped mid-read")
    primary_world.chain.step()
    backup_world.chain.step()
    assert not await poller.poll()
    assert state.commits == 3
    assert (tmp_path / "state.json").exists()
