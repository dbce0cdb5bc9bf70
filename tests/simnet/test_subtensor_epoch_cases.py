"""subtensor's own original-Yuma epoch tests (``Yuma3On`` off), run on simnet's Yuma.

Source: ``pallets/subtensor/src/tests/epoch.rs`` (opentensor/subtensor; RaoFoundation splits it
into ``tests/epoch/*.rs``). Each test's setup is rebuilt in :class:`MockSubnet` (the mock's
defaults: kappa 32767, ``BondsMovingAverage`` 900_000, bonds penalty 65535, activity cutoff
5000). The Rust tests assert exact integers computed in fixed point; simnet computes in
float64, so a value lands within 1 u16 LSB and 2 rao of them (yuma.md section 4: the
"(discrepancy)" the tests annotate is fixed point landing just below the ideal).
"""

from __future__ import annotations

import pytest

from tests.support.subtensor_epoch import MockSubnet

LSB = 1  # u16 outputs and stored bonds
RAO = 2  # emission per uid


def test_1_graph():
    subnet = MockSubnet(stakes=[1_000_000_000], max_validators=64, registered_at=1)
    subnet.run_to(1)
    subnet.set_weights(0, [0], [65535])
    subnet.epoch(advance=False)
    assert subnet.last is not None
    for name in ("consensus", "incentive", "dividends"):
        assert getattr(subnet.last, name).tolist() == [0], name


def test_10_graph():
    subnet = MockSubnet(stakes=[1] * 10, max_validators=64, registered_at=0)
    subnet.run_to(1)
    for i in range(10):
        subnet.set_weights(i, [i], [65535])
    subnet.epoch(advance=False)
    assert subnet.last is not None
    for uid in range(10):
        assert subnet.dividend_u16(uid) == 0
        assert int(subnet.last.incentive[uid]) == 0 and int(subnet.last.consensus[uid]) == 0
        assert subnet.emission_rao(uid) == pytest.approx(99_999_999, abs=RAO)


def test_active_stake():
    subnet = MockSubnet(stakes=[1, 1, 1, 1], max_validators=4, tempo=1, registered_at=0)
    subnet.epoch(advance=False)  # the first epoch issues the permits
    subnet.run_to(1)
    for validator in (0, 1):
        subnet.set_weights(validator, [2, 3], [65535 // 2] * 2)
    subnet.epoch(advance=False)
    for uid in range(4):
        if uid < 2:
            assert subnet.dividend_u16(uid) == pytest.approx(32767, abs=LSB)
        assert subnet.emission_rao(uid) == pytest.approx(250_000_000, abs=RAO)
    for validator in (0, 1):
        assert [subnet.bond_u16(validator, j) for j in range(4)] == [0, 0, 65535, 65535]

    subnet.run_to(subnet.activity_cutoff + 2)  # uid 1's weights become outdated
    subnet.set_weights(0, [2, 3], [65535 // 2] * 2)
    subnet.epoch(advance=False)
    assert subnet.dividend_u16(0) == pytest.approx(36044, abs=LSB)
    assert subnet.emission_rao(0) == pytest.approx(274_999_999, abs=RAO)
    assert subnet.dividend_u16(1) == pytest.approx(29490, abs=LSB)
    assert subnet.emission_rao(1) == pytest.approx(224_999_999, abs=RAO)
    for server in (2, 3):
        assert subnet.bond_u16(0, server) == pytest.approx(65535, abs=LSB)
        assert subnet.bond_u16(1, server) == pytest.approx(53619, abs=LSB)

    subnet.set_weights(1, [2, 3], [65535 // 2] * 2)
    subnet.run_to(subnet.activity_cutoff + 3)
    subnet.epoch(advance=False)
    assert subnet.dividend_u16(0) == pytest.approx(35716, abs=LSB)
    assert subnet.emission_rao(0) == pytest.approx(272_501_132, abs=RAO)
    assert subnet.dividend_u16(1) == pytest.approx(29818, abs=LSB)
    assert subnet.emission_rao(1) == pytest.approx(227_498_866, abs=RAO)
    for server in (2, 3):
        assert subnet.bond_u16(0, server) == pytest.approx(65535, abs=LSB)
        assert subnet.bond_u16(1, server) == pytest.approx(54712, abs=LSB)


# test_bonds: (what is set before the epoch, the server column asserted, bonds of uids 0-3)
BONDS_STEPS = [
    ("validators weight servers 0.1 / 0.2 / 0.3 / 0.4", 4, (16383, 32767, 49151, 65535)),
    ("val1 self-weight only", 4, (14582, 32767, 49151, 65535)),
    ("val2 self-weight only", 4, (12603, 28321, 49151, 65535)),
    ("val3 self-weight only", 7, (12602, 28320, 49150, 65535)),
    ("val3 -> srv4: 1", 7, (10951, 24609, 49150, 65535)),
    ("no change", 7, (9559, 21482, 49150, 65535)),
    ("no change", 7, (8376, 18824, 49150, 65535)),
]


def test_bonds():
    subnet = MockSubnet(stakes=[1, 2, 3, 4, 0, 0, 0, 0], max_validators=8, tempo=1, registered_at=0)
    subnet.epoch(advance=False)  # the first epoch issues the permits
    subnet.run_to(1)
    servers = [4, 5, 6, 7]
    for uid in range(4):
        subnet.set_weights(uid, servers, [65535 // 4, 65535 // 2, (65535 // 4) * 3, 65535])
    changes = {1: (0, [0]), 2: (1, [1]), 3: (2, [2]), 4: (2, [7])}
    for step, (what, column, expected) in enumerate(BONDS_STEPS):
        if step in changes:
            uid, dests = changes[step]
            subnet.set_weights(uid, dests, [65535])
        subnet.epoch(advance=step > 0)
        got = [subnet.bond_u16(uid, column) for uid in range(4)]
        assert got == pytest.approx(list(expected), abs=LSB), f"epoch {step}: {what}"
