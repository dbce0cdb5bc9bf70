"""The fast exposition formatter writes exactly what prometheus-client writes for the same families.

Compared byte for byte on a realistic snapshot (a polled simnet subnet exported whole, plus
an unregistered watched hotkey, failover endpoints, poll errors) for every Accept header the
agent negotiates, and on a hand-built snapshot with hostile label values and awkward floats.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import math
from types import MappingProxyType, SimpleNamespace

import pytest
from prometheus_client import CollectorRegistry, Gauge
from prometheus_client.exposition import choose_encoder, generate_latest
from prometheus_client.openmetrics.exposition import generate_latest as om_generate_latest
from prometheus_client.parser import text_string_to_metric_families

from exporters.chain import PollStatus, WatchPlan
from exporters.collector import ChainCollector
from exporters.endpoints import EndpointStatus
from exporters.exposition import OPENMETRICS, TEXT, render_families
from exporters.scrape import Exposition
from exporters.snapshot import (
    Axon,
    ChainSnapshot,
    ChainView,
    NeuronView,
    SubnetView,
    WatchedNeuron,
)
from simnet.testing import dev_wallet, small_world
from tests.support.exporters import make_poller, promtool_check

ACCEPT_HEADERS = [
    "",
    "text/plain; version=0.0.4",
    "text/plain; version=1.0.0; escaping=allow-utf-8",
    "text/plain; version=1.0.0; escaping=values",
    "application/openmetrics-text; version=1.0.0",
    "application/openmetrics-text",
    "application/openmetrics-text; version=1.0.0; escaping=underscores",
    # Only prometheus-client can write this one (every "_" in a name changes).
    "application/openmetrics-text; version=1.0.0; escaping=dots",
    "application/json",
]

HOSTILE = 'a"b\\c\nd e=f,g{h}ü'


def others_registry() -> tuple[CollectorRegistry, Gauge]:
    """Stands in for the process and InfluxDB collectors: deterministic, with a label."""
    others = CollectorRegistry()
    g = Gauge("taowatch_test_other", 'Another "collector"\\ with\nnewline.', ["k"], registry=others)
    g.labels(k=HOSTILE).set(2.5)
    return others, g


def full_registry(collector: ChainCollector, other: Gauge) -> CollectorRegistry:
    """What prometheus-client would render: the chain collector first, then the others."""
    registry = CollectorRegistry()
    registry.register(collector)
    registry.register(other)
    return registry


@pytest.fixture
async def polled_collector():
    world = small_world(validators=2, miners=3, tempo=10, max_uids=8)
    chain, netuid = world.chain, world.netuid
    miner = world.miners[0]
    chain.serve_axon(netuid, miner.hotkey.ss58_address, 0x0A010203, 8091)
    chain.step(12)
    stranger = dev_wallet("NeverRegistered").hotkey.ss58_address
    plan = WatchPlan(
        hotkeys=((netuid, miner.hotkey.ss58_address), (netuid, stranger)),
        export_all=frozenset({netuid}),
    )
    poller, _, _ = make_poller(chain, plan)
    assert await poller.poll(), poller.status.last_error
    return ChainCollector(poller)


async def test_every_negotiated_format_is_byte_identical_to_prometheus_client(polled_collector):
    others, other = others_registry()
    registry = full_registry(polled_collector, other)
    exposition = Exposition(polled_collector, others, registry)
    for accept in ACCEPT_HEADERS:
        encoder, content_type = choose_encoder(accept)
        ours, ours_type = exposition.body(accept)
        assert ours_type == content_type, accept
        assert ours == encoder(registry), accept
    text, _ = exposition.body("")
    assert b"bittensor_neuron_axon_info{" in text and b'ip="10.1.2.3"' in text
    assert b"bittensor_neuron_deregistrations_total{" in text
    assert b"bittensor_neuron_registered{" in text


async def test_the_fast_exposition_passes_promtool_check_metrics(polled_collector):
    text = render_families(polled_collector.families(), TEXT).encode()
    ok, output = await asyncio.to_thread(promtool_check, text)
    assert ok, output


def hostile_source() -> SimpleNamespace:
    def neuron(uid: int, hotkey: str, **kw) -> NeuronView:
        base = dict(
            netuid=7,
            uid=uid,
            hotkey=hotkey,
            coldkey=HOSTILE + "cold",
            active=True,
            validator_permit=False,
            last_update=10,
            block_at_registration=5,
            rank=0.0,
            trust=-0.0,
            consensus=1e-7,
            incentive=float("nan"),
            dividends=1.0,
            validator_trust=0.123456789012345,
            emission_alpha=123456.789,
            stake_alpha=2.5e7,
            stake_tao=float("inf"),
            stake_weight=2.5e7,
            axon=Axon("::1", 8091),
            immunity_remaining_blocks=0,
            blocks_since_last_update=1_000_000,
            pruning_position=None,
            validator_trust_rank=0,
        )
        base.update(kw)
        return NeuronView(**base)

    a = neuron(0, HOSTILE, stake_tao=float("-inf"), emission_alpha=999999.99)
    b = neuron(1, "plain", axon=None, pruning_position=3, validator_trust_rank=None)
    subnet = SubnetView(
        netuid=7,
        block=100,
        exists=True,
        tempo=360,
        immunity_period=None,
        registration_cost_tao=1e-9,
        alpha_price_tao=float("nan"),
        neurons=(a, b),
        by_hotkey=MappingProxyType({a.hotkey: a, b.hotkey: b}),
    )
    snap = ChainSnapshot(
        chain=ChainView(head=100, finalized=None, block_time=12.0, head_advanced_at=1.8e9),
        endpoint="wss://x",
        taken_at=1.8e9,
        subnets=MappingProxyType({7: subnet, 8: SubnetView(netuid=8, block=100, exists=False)}),
        watched=(
            WatchedNeuron(7, HOSTILE, "config", a),
            WatchedNeuron(7, "gone\\", "config", None),
        ),
        export_all=frozenset({7}),
        deregistrations=MappingProxyType({(7, "gone\\"): 3}),
    )
    status = PollStatus(
        up=True,
        polls=12345678,
        errors=MappingProxyType({"timeout": 2, HOSTILE: 1}),
        last_success_at=1.8e9 + 0.25,
        last_duration=0.000123,
        endpoints=(
            EndpointStatus('wss://h"st', True, True, 100, 0, None),
            EndpointStatus("wss://b\n", False, False, None, None, "down"),
        ),
    )
    return SimpleNamespace(snapshot=snap, status=status)


def test_hostile_label_values_and_awkward_floats_render_as_prometheus_client_renders_them():
    collector = ChainCollector(hostile_source())
    registry = CollectorRegistry()
    registry.register(collector)
    text = render_families(collector.families(), TEXT)
    assert text.encode() == generate_latest(registry)
    om = render_families(collector.families(), OPENMETRICS) + "# EOF\n"
    assert om.encode() == om_generate_latest(registry)
    # And it parses back to the same values, escapes undone.
    parsed = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
    }
    key = ("bittensor_neuron_stake_tao", (("hotkey", HOSTILE), ("netuid", "7"), ("uid", "0")))
    assert parsed[key] == -math.inf
    assert parsed[("bittensor_exporter_poll_errors_total", (("reason", HOSTILE),))] == 1


def test_every_chain_value_says_in_help_that_it_is_cached_per_poll():
    families = ChainCollector(hostile_source()).families()
    chain_families = [
        f
        for f in families
        if f.name.startswith(("bittensor_neuron", "bittensor_subnet", "bittensor_chain"))
    ]
    assert len(chain_families) > 30
    for f in chain_families:
        assert "Cached: read" in f.help, f.name


def test_a_snapshot_is_rendered_once_while_each_scrape_gets_its_own_fresh_tail():
    source = hostile_source()
    collector = ChainCollector(source)
    others, other = others_registry()
    registry = full_registry(collector, other)
    exposition = Exposition(collector, others, registry)
    renders = exposition.snapshot_renders
    for accept in ("", "application/openmetrics-text; version=1.0.0"):
        encoder, _ = choose_encoder(accept)
        for _scraper in range(2):
            zipped, _ = exposition.render_sync(accept, compress=True)
            assert gzip.decompress(zipped) == encoder(registry), accept
            plain, _ = exposition.render_sync(accept, compress=False)
            assert plain == encoder(registry), accept
    # Gzip and plain once each per format: the second scraper's bodies came from the cache.
    assert renders.renders == 4

    # Same snapshot, a later poll status: the tail changes, the snapshot part is reused.
    source.status = dataclasses.replace(source.status, polls=12345679)
    other.labels(k=HOSTILE).set(7.5)
    zipped, _ = exposition.render_sync("", compress=True)
    assert gzip.decompress(zipped) == generate_latest(registry)
    assert b"bittensor_exporter_polls_total 1.2345679e+07" in gzip.decompress(zipped)
    assert renders.renders == 4

    # A new snapshot is rendered anew.
    source.snapshot = dataclasses.replace(source.snapshot, taken_at=1.9e9)
    zipped, _ = exposition.render_sync("", compress=True)
    assert gzip.decompress(zipped) == generate_latest(registry)
    assert renders.renders == 5


def test_large_families_take_the_fast_path_and_still_match_prometheus_client():
    # Over a few thousand samples per family with every value shape: block numbers past
    # 1e6 (Go's exponent form), negatives, zeros, and a family of plain ratios.
    source = hostile_source()
    base = source.snapshot.subnets[7].neurons[1]
    neurons = tuple(
        dataclasses.replace(
            base,
            uid=uid,
            hotkey=f"hk{uid}",
            last_update=6_000_000 + uid,
            stake_alpha=-uid / 7,
            incentive=uid / 4096,
            stake_tao=0.0,
            pruning_position=uid if uid % 3 else None,
        )
        for uid in range(4096)
    )
    subnet = dataclasses.replace(
        source.snapshot.subnets[7],
        neurons=neurons,
        by_hotkey=MappingProxyType({n.hotkey: n for n in neurons}),
    )
    source.snapshot = dataclasses.replace(
        source.snapshot, subnets=MappingProxyType({7: subnet}), watched=()
    )
    collector = ChainCollector(source)
    registry = CollectorRegistry()
    registry.register(collector)
    assert render_families(collector.families(), TEXT).encode() == generate_latest(registry)
