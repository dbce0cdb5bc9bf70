"""``taowatch check`` over an in-process simnet chain, through the poll the agent runs.

Marks are judged against the thresholds file and the rendered rules, never against numbers
written here: a value is marked exactly when the mark's declaration, the one
``alerts.generate`` renders into the rule, says it is past the knob.
"""

from __future__ import annotations

import asyncio
import inspect
import json

import pytest
import yaml

from alerts.generate import load_thresholds, render_rules
from alerts.marks import BY_NAME, MARKS
from simnet.economy import EmissionSchedule
from simnet.substrate import SimSubstrate
from simnet.testing import dev_wallet, in_process_backends, small_world
from taowatch.check import _parser, poll_once, run_check, with_progress
from taowatch.check_report import build_report, render_text
from tests.support.exporters import CountingSubstrate

NETWORK = "sim://primary:1"


@pytest.fixture
def world():
    return small_world(validators=2, miners=3, tempo=10, max_uids=6)


def backends_of(world):
    return in_process_backends(every=SimSubstrate(world.chain))


def check(world, *argv: str) -> tuple[int, list[str]]:
    """Run the command's coroutine as ``main`` does; returns (exit code, stderr lines)."""
    err: list[str] = []
    args = _parser().parse_args(["--network", NETWORK, *argv])
    code = asyncio.run(run_check(args, backends=backends_of(world), err=err.append))
    return code, err


async def report_of(world, argv: list[str], knobs=None):
    from taowatch.check import build_config

    args = _parser().parse_args(["--network", NETWORK, *argv])
    polled = await poll_once(build_config(args), backends=backends_of(world))
    assert polled.snapshot is not None, polled.error
    return polled.snapshot, build_report(
        polled.snapshot, NETWORK, knobs or load_thresholds(), polled.nowhere
    )


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_every_mark_is_the_comparison_of_its_alerts_rule_at_its_severity():
    knobs = load_thresholds()
    rules = [
        rule
        for text in render_rules(knobs).values()
        for group in yaml.safe_load(text)["groups"]
        for rule in group["rules"]
    ]
    for mark in MARKS:
        promql = mark.promql()
        for knob in {b.knob for b in mark.bounds if b.knob}:
            promql = promql.replace(f"${{{knob}}}", str(knobs[knob]))
        exprs = [
            _flat(r["expr"])
            for r in rules
            if r.get("alert") == mark.alert and r["labels"]["severity"] == mark.severity
        ]
        assert exprs, mark.name
        assert any(_flat(promql) in expr for expr in exprs), (mark.name, exprs)
        if mark.silenced_by:
            assert all(_flat(mark.silence_promql()) in expr for expr in exprs), mark.name
        if mark.record is not None:
            (recorded,) = [r["expr"] for r in rules if r.get("record") == mark.record]
            assert _flat(recorded) == _flat(mark.value.promql())


def test_the_pruning_mark_follows_the_knob_not_a_copy_of_it():
    mark = BY_NAME["pruning_position"]
    knobs = load_thresholds()
    at = knobs["pruning_position_max"]
    assert mark.past(knobs, lambda name: at)
    assert not mark.past(knobs, lambda name: at + 1)
    assert mark.past({**knobs, "pruning_position_max": at + 1}, lambda name: at + 1)
    assert not mark.past(knobs, lambda name: None)


async def test_the_neuron_the_exporter_ranks_next_for_eviction_is_marked_and_no_other(world):
    hotkeys = [w.hotkey.ss58_address for w in (*world.validators, *world.miners)]
    snap, report = await report_of(world, ["--hotkey", *hotkeys, "--netuid", "1"])
    knob = load_thresholds()["pruning_position_max"]
    by_hotkey = snap.subnets[world.netuid].by_hotkey
    marked = {
        n.hotkey for n in report.neurons if any(f.mark == "pruning_position" for f in n.flags)
    }
    expected = {
        hk
        for hk in hotkeys
        if by_hotkey[hk].pruning_position is not None and by_hotkey[hk].pruning_position <= knob
    }
    assert marked == expected and len(expected) == 1
    text = render_text(report)
    (line,) = [ln for ln in text.splitlines() if "BittensorNeuronDeregistrationRisk" in ln]
    assert line.lstrip().startswith("! pruning position")


async def test_a_validator_silent_for_tempos_is_marked_stale_and_a_miner_never_is(world):
    chain, netuid = world.chain, world.netuid
    tempo = chain.subnet(netuid).tempo
    warning = load_thresholds()["weights_stale_warning_tempos"]
    chain.step(int((warning + 1) * tempo))
    hotkeys = [w.hotkey.ss58_address for w in (*world.validators, *world.miners)]
    _, report = await report_of(world, ["--hotkey", *hotkeys, "--netuid", str(netuid)])
    rows = {n.hotkey: n for n in report.neurons}
    for w in world.validators:
        row = rows[w.hotkey.ss58_address]
        assert row.tempos_since_weights is not None and row.tempos_since_weights > warning
        assert "weights_stale_warning" in {f.mark for f in row.flags}
    for w in world.miners:
        row = rows[w.hotkey.ss58_address]
        assert row.blocks_since_weights is None
        assert not {f.mark for f in row.flags} & {"weights_stale_warning", "weights_stale_critical"}


async def test_on_a_null_consensus_subnet_no_validator_value_is_marked(world):
    chain, netuid = world.chain, world.netuid
    warning = load_thresholds()["weights_stale_warning_tempos"]
    chain.step(int((warning + 1) * chain.subnet(netuid).tempo))
    chain.set_hyperparameter(netuid, "null_consensus_enabled", True)
    chain.step()
    hotkeys = [w.hotkey.ss58_address for w in world.validators]
    snap, report = await report_of(world, ["--hotkey", *hotkeys, "--netuid", str(netuid)])
    assert snap.subnets[netuid].rules.null_consensus is True
    # Past the warning by the numbers, yet silent: the rule is silent on such subnets.
    assert all(row.tempos_since_weights > warning for row in report.neurons)
    assert [row.flags for row in report.neurons] == [(), ()]


async def test_raising_the_knob_past_the_value_clears_the_mark(world):
    chain, netuid = world.chain, world.netuid
    tempo = chain.subnet(netuid).tempo
    knobs = load_thresholds()
    chain.step(int((knobs["weights_stale_warning_tempos"] + 1) * tempo))
    hotkey = world.validators[0].hotkey.ss58_address
    lenient = {**knobs, "weights_stale_warning_tempos": 1000}
    _, report = await report_of(world, ["--hotkey", hotkey, "--netuid", "1"], lenient)
    assert "weights_stale_warning" not in {f.mark for f in report.neurons[0].flags}


async def test_the_subnet_row_carries_the_exporters_emission_standing(world):
    snap, report = await report_of(world, ["--coldkey", world.validators[0].coldkey.ss58_address])
    (subnet,) = report.subnets
    standing = snap.chain_wide.standings[world.netuid]
    assert (subnet.emission_share, subnet.gate_weight, subnet.bar_ratio) == (
        standing.share,
        standing.gate_weight,
        standing.bar_ratio,
    )
    assert subnet.emission_enabled is standing.emission_enabled


def test_json_lists_every_watched_neuron_with_its_flags_and_exits_zero(world, capsys):
    hotkeys = [w.hotkey.ss58_address for w in world.miners]
    code, err = check(world, "--hotkey", *hotkeys, "--netuid", "1", "--json")
    assert code == 0, err
    doc = json.loads(capsys.readouterr().out)
    assert [n["hotkey"] for n in doc["neurons"]] == sorted(hotkeys)
    assert all(n["registered"] and isinstance(n["flags"], list) for n in doc["neurons"])
    assert doc["unregistered"] == [] and doc["subnets"][0]["netuid"] == 1


def test_an_unregistered_hotkey_exits_one_and_is_listed(world, capsys):
    stranger = dev_wallet("Stranger").hotkey.ss58_address
    code, _ = check(world, "--hotkey", stranger, "--netuid", "1", "--json")
    assert code == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["unregistered"] == [{"netuid": 1, "hotkey": stranger}]


def test_a_hotkey_without_netuid_is_found_on_its_subnets_or_reported_nowhere(world, capsys):
    miner = world.miners[1].hotkey.ss58_address
    stranger = dev_wallet("Stranger").hotkey.ss58_address
    code, _ = check(world, "--hotkey", miner, stranger, "--json")
    doc = json.loads(capsys.readouterr().out)
    assert code == 1
    assert [(n["netuid"], n["hotkey"]) for n in doc["neurons"] if n["registered"]] == [
        (world.netuid, miner)
    ]
    assert doc["unregistered"] == [{"netuid": None, "hotkey": stranger}]


def test_a_bad_address_exits_two_naming_the_flag(world, capsys):
    code, err = check(world, "--coldkey", "5notanaddress")
    assert code == 2
    assert any(line.startswith("taowatch check: --coldkey: not a valid Bittensor") for line in err)
    assert capsys.readouterr().out == ""


def test_an_unreachable_chain_exits_three_with_the_reason(world):
    err: list[str] = []
    args = _parser().parse_args(
        [
            "--network",
            "sim://127.0.0.1:9",
            "--coldkey",
            world.owner.coldkey.ss58_address,
            "--timeout",
            "2",
        ]
    )
    code = asyncio.run(run_check(args, err=err.append))
    assert code == 3
    assert any("no answer from sim://127.0.0.1:9" in line for line in err)


def test_finney_is_the_default_network():
    args = _parser().parse_args(["--coldkey", "5F"])
    assert args.network == "finney"


async def test_a_slow_poll_shows_progress_until_it_answers():
    lines: list[str] = []

    async def slow() -> str:
        await asyncio.sleep(0.3)
        return "answer"

    assert await with_progress(slow(), "finney", lines.append, every=0.05) == "answer"
    assert len(lines) >= 3
    assert all(line.startswith("taowatch check: still waiting for finney") for line in lines)


async def test_a_fast_poll_prints_no_progress():
    lines: list[str] = []

    async def fast() -> int:
        return 1

    assert await with_progress(fast(), "finney", lines.append, every=5) == 1
    assert lines == []


class SlowSubstrate(CountingSubstrate):
    """An endpoint that takes ``delay`` seconds over every read, as a far public node does."""

    delay = 0.05

    def __getattr__(self, name: str):
        target = super().__getattr__(name)
        if name in {"connect", "close"} or not inspect.iscoroutinefunction(target):
            return target

        async def slow(*args, **kwargs):
            await asyncio.sleep(self.delay)
            return await target(*args, **kwargs)

        return slow


def test_a_slow_endpoint_shows_progress_and_then_the_report(world, capsys):
    slow = SlowSubstrate(SimSubstrate(world.chain))
    err: list[str] = []
    hotkey = world.miners[0].hotkey.ss58_address
    args = _parser().parse_args(["--network", NETWORK, "--hotkey", hotkey, "--netuid", "1"])
    code = asyncio.run(
        run_check(
            args, backends=in_process_backends(every=slow), err=err.append, progress_every=0.02
        )
    )
    assert code == 0, err
    waiting = [line for line in err if "still waiting for sim://primary:1" in line]
    assert len(waiting) >= 2, err
    assert f"neuron {hotkey}" in capsys.readouterr().out


async def test_a_subnet_whose_gate_weight_is_under_the_knob_is_marked(world):
    # Today's chain: a root record holds the bar, and the coinbase splits TAO through the gate.
    world.chain.create_root()
    world.chain.economy.use_schedule(EmissionSchedule(mode="ranked"))
    world.chain.step()
    knobs = load_thresholds()
    snap, report = await report_of(world, ["--coldkey", world.validators[0].coldkey.ss58_address])
    weight = snap.chain_wide.standings[world.netuid].gate_weight
    assert weight is not None and weight >= knobs["emission_gate_weight_min"]
    assert not report.subnets[0].flags
    strict = {**knobs, "emission_gate_weight_min": weight + 0.01}
    _, marked = await report_of(
        world, ["--coldkey", world.validators[0].coldkey.ss58_address], strict
    )
    (flag,) = marked.subnets[0].flags
    assert (flag.alert, flag.knob, flag.value) == (
        "BittensorSubnetUnderEmissionBar",
        "emission_gate_weight_min",
        weight,
    )
    assert "! emission" in render_text(marked)


async def test_a_subnet_with_its_emission_switched_off_is_marked(world):
    world.chain.economy.set_emission_enabled(world.netuid, False)
    world.chain.step()
    _, report = await report_of(world, ["--coldkey", world.validators[0].coldkey.ss58_address])
    alerts = {f.alert for f in report.subnets[0].flags}
    assert {"BittensorSubnetEmissionOff", "BittensorWatchedSubnetEmissionOff"} <= alerts
    assert "switched off (SubnetEmissionEnabled)" in render_text(report)


async def test_each_neuron_shows_the_registrations_until_eviction_the_exporter_exports(world):
    from common.metric_names import Exporter
    from exporters.collector import ChainCollector

    hotkeys = [w.hotkey.ss58_address for w in (*world.validators, *world.miners)]
    snap, report = await report_of(world, ["--hotkey", *hotkeys, "--netuid", "1"])
    (family,) = [
        f
        for f in ChainCollector.snapshot_families(snap)
        if f.series == Exporter.NEURON_REGISTRATIONS_UNTIL_PRUNED
    ]
    hotkey_at = family.label_names.index("hotkey")
    exported = {
        labels[hotkey_at]: int(value)
        for labels, value in zip(family.label_values, family.values, strict=True)
        if value is not None
    }
    shown = {
        n.hotkey: n.registrations_until_evicted
        for n in report.neurons
        if n.registrations_until_evicted is not None
    }
    assert shown == exported and exported
    soonest = min(shown.values())
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(soonest, "th")
    assert f"evicted by the {soonest}{suffix} registration" in render_text(report)
