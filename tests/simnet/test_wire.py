"""simnet's wire encoding gives back exactly what was sent: tuples stay tuples, lists stay
lists, bytes, Balances and chain errors keep their types, and maps keep non-string keys."""

from __future__ import annotations

import enum

import pytest
from bittensor.balance import Balance
from bittensor.result import ChainError, ErrorCode

from simnet.wire import WireError, dumps, loads


class Colour(enum.IntEnum):
    RED = 3


def test_every_value_shape_a_read_returns_comes_back_with_its_type():
    sent = {
        "record": {"uid": 7, "active": True, "trust": 0.25, "name": "x", "identity": None},
        "stake": [("5Ck", 10), ("5Dk", 20)],
        "nested": ((1, [2, (3, b"\x00\xff")]),),
        "by_pair": {(1, "hk"): [b"ab"], 3: "three"},
        "amount": Balance(5_000_000_000, 2),
        "error": ChainError("no such uid", "NotRegistered", ErrorCode.NOT_FOUND),
        "list_of_lists": [[1, 2], []],
        "subclass": Colour.RED,
    }
    got = loads(dumps(sent))
    assert got["record"] == sent["record"]
    assert got["stake"] == [("5Ck", 10), ("5Dk", 20)]
    assert all(type(p) is tuple for p in got["stake"])
    assert got["nested"] == ((1, [2, (3, b"\x00\xff")]),)
    assert type(got["nested"][0][1]) is list
    assert got["by_pair"] == {(1, "hk"): [b"ab"], 3: "three"}
    assert (got["amount"].rao, got["amount"].netuid) == (5_000_000_000, 2)
    err = got["error"]
    assert isinstance(err, ChainError)
    assert (err.message, err.name) == ("no such uid", "NotRegistered")
    assert err.code is ErrorCode.NOT_FOUND
    assert got["list_of_lists"] == [[1, 2], []]
    assert got["subclass"] == 3


def test_a_client_builds_balances_with_its_own_factory():
    made = []

    def balance(rao: int, netuid: int) -> Balance:
        made.append((rao, netuid))
        return Balance(rao, netuid)

    got = loads(dumps([Balance(1, 0), {"deep": (Balance(2, 5),)}]), balance=balance)
    assert made == [(1, 0), (2, 5)]
    assert got[1]["deep"][0].rao == 2


def test_an_object_that_only_looks_like_a_tag_stays_an_object():
    assert loads(b'{"$tuple": 5}') == {"$tuple": 5}
    assert loads(b'{"$bytes": "00", "other": 1}') == {"$bytes": "00", "other": 1}


def test_bad_frames_are_wire_errors_not_tracebacks():
    with pytest.raises(WireError, match="not JSON"):
        loads(b"\x00\xffnot json")
    with pytest.raises(WireError, match="not hex"):
        loads(b'{"$bytes": "zz"}')


def test_a_value_the_wire_cannot_carry_is_refused_by_name():
    with pytest.raises(TypeError, match="cannot send a object"):
        dumps(object())
