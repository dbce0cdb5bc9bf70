"""The task protocol, the verifiable matmul task, and the scoring that resists garbage."""

from __future__ import annotations

import random

import pytest
import torch
from pydantic import ValidationError

from neuron.scoring import ScoreBoard, answer_score
from neuron.task import (
    EchoTask,
    MatmulRequest,
    MatmulResponse,
    MatmulTask,
    PoorQuality,
    TaskError,
    load_task,
    matmul_digest,
)


async def test_a_correct_matmul_answer_checks_as_fully_correct():
    task = MatmulTask(size=16, rounds=3)
    request = task.challenge(random.Random(1))
    answer = await task.solve(request)
    assert len(answer.digest) == 16
    assert await task.check(request, answer) == 1.0


async def test_garbage_a_slightly_wrong_or_a_short_answer_scores_zero():
    task = MatmulTask(size=16, rounds=3)
    request = task.challenge(random.Random(2))
    right = (await task.solve(request)).digest
    garbage = task.wrong_answer(request, random.Random(3))
    nudged = MatmulResponse(digest=[right[0] + 1e-3, *right[1:]])
    short = MatmulResponse(digest=right[:-1])
    nan = MatmulResponse(digest=[float("nan"), *right[1:]])
    for bad in (garbage, nudged, short, nan):
        assert await task.check(request, bad) == 0.0


async def test_an_answer_to_a_different_seed_is_wrong():
    task = MatmulTask(size=8, rounds=2)
    request = MatmulRequest(seed=10, size=8, rounds=2)
    other = MatmulResponse(digest=matmul_digest(11, 8, 2))
    assert await task.check(request, other) == 0.0


def test_the_digest_depends_on_every_round():
    assert matmul_digest(5, 8, 2) != matmul_digest(5, 8, 3)


def test_challenges_are_fresh_and_reproducible_from_the_rng():
    task = MatmulTask(size=8, rounds=2)
    a = [task.challenge(random.Random(9)).seed for _ in range(2)]
    rng = random.Random(9)
    b = [task.challenge(rng).seed for _ in range(2)]
    assert a[0] == b[0] and b[0] != b[1]


def test_a_request_beyond_the_difficulty_bounds_is_invalid():
    with pytest.raises(ValidationError):
        MatmulRequest(seed=1, size=100_000, rounds=1)
    with pytest.raises(ValidationError):
        MatmulRequest.model_validate_json(b'{"seed": 1, "size": 8, "rounds": 1, "extra": 1}')


async def test_the_poor_quality_wrapper_answers_wrong_about_the_configured_fraction():
    task = PoorQuality(EchoTask(), wrong_fraction=0.5, delay=0.0, seed=4)
    inner = EchoTask()
    rng = random.Random(0)
    outcomes = []
    for _ in range(200):
        request = inner.challenge(rng)
        outcomes.append(await inner.check(request, await task.solve(request)))
    wrong = outcomes.count(0.0)
    assert 60 < wrong < 140


async def test_tasks_load_by_name_or_plugin_path_and_unknown_names_are_explained():
    rng = random.Random(3)
    for spec, options, name in (
        ("matmul", {"size": 8, "rounds": 1}, "matmul"),
        ("echo", {}, "echo"),
        ("neuron.task:EchoTask", {}, "echo"),
    ):
        task = load_task(spec, **options)
        assert task.name == name
        request, other = task.challenge(rng), task.challenge(rng)
        assert await task.check(request, await task.solve(request)) == 1.0, spec
        assert await task.check(request, await task.solve(other)) == 0.0, spec
    with pytest.raises(TaskError, match="matmul, echo"):
        load_task("nope")
    with pytest.raises(TaskError, match="cannot import"):
        load_task("no.such.module:Task")
    with pytest.raises(TaskError, match="does not implement"):
        load_task("random:Random")


def test_any_correct_answer_outscores_any_wrong_one_and_latency_is_bounded():
    timeout, weight = 5.0, 0.2
    slowest_correct = answer_score(1.0, timeout * 10, timeout, weight)
    fastest_wrong = answer_score(0.0, 0.0, timeout, weight)
    assert slowest_correct == pytest.approx(0.8)
    assert fastest_wrong == 0.0
    assert answer_score(1.0, 0.1, timeout, weight) > answer_score(1.0, 2.0, timeout, weight)
    assert answer_score(1.0, -1.0, timeout, weight) == 1.0


def test_the_score_board_is_an_ema_that_resets_a_uid_whose_hotkey_changed():
    board = ScoreBoard(alpha=0.5)
    assert board.sync(["a", "b", "c"]) == []
    board.update([0, 1], [1.0, 0.5])
    board.update([0, 1], [1.0, 0.5])
    assert board.scores.tolist() == pytest.approx([0.75, 0.375, 0.0])
    assert board.sync(["a", "B", "c", "d"]) == [1]
    assert board.scores.tolist() == pytest.approx([0.75, 0.0, 0.0, 0.0])
    uids, weights = board.weights()
    assert uids == [0] and weights == pytest.approx([1.0])
    board.update([2], [0.75])
    uids, weights = board.weights()
    assert uids == [0, 2] and sum(weights) == pytest.approx(1.0)
    assert board.sync(["a"]) == []  # shrinking drops vanished uids
    assert board.scores.numel() == 1
    with pytest.raises(IndexError):
        board.update([3], [1.0])
    assert board.scores.dtype == torch.float64
