"""The exercise solutions of the chapters run, and say what they claim.

The solution code is read from the notebooks (it lives in markdown, hidden in
the page) and executed after the chapter's own cells; nothing is copied here.
"""

import jax
import numpy as np
import pytest

from chapter_code import run_chapter, run_solution, solution_blocks

GD = "04_gradient_descent.ipynb"


@pytest.fixture(scope="module")
def gd_chapter():
    with jax.enable_x64(True):
        yield run_chapter(GD)


def solve(namespace, label):
    with jax.enable_x64(True):
        return run_solution(namespace, solution_blocks(GD)[label])


def test_every_gd_exercise_has_a_tested_solution():
    assert set(solution_blocks(GD)) == {"ex-gd-momentum-limit", "ex-gd-nesterov", "ex-gd-decay", "ex-gd-standardise"}


def test_momentum_limit_is_two_times_one_plus_beta_over_a(gd_chapter):
    solve(gd_chapter, "ex-gd-momentum-limit")
    assert gd_chapter["momentum_limit_found"] == pytest.approx(1.5, rel=1e-9)


def test_nesterov_wins_at_high_momentum_and_diverges_where_heavy_ball_does_not(gd_chapter):
    solve(gd_chapter, "ex-gd-nesterov")
    steps = gd_chapter["nesterov_steps"]
    assert 0 < steps["nesterov_descent", 0.1, 0.8] < steps["momentum_descent", 0.1, 0.8]
    assert steps["nesterov_descent", 0.2, 0.5] == -1 and steps["momentum_descent", 0.2, 0.5] > 0
    # the stated stability limits: eta L = 1.8 is above Nesterov's 1.5 and below the heavy ball's 3
    eta, beta, L = 0.2, 0.5, 9.0
    assert 2 * (1 + beta) / (1 + 2 * beta) < eta * L < 2 * (1 + beta)


def test_decaying_learning_rate_ends_several_times_closer(gd_chapter):
    solve(gd_chapter, "ex-gd-decay")
    assert gd_chapter["distance_decay"] < gd_chapter["distance_fixed"] / 3


def test_raw_diabetes_features_are_badly_conditioned(gd_chapter):
    solve(gd_chapter, "ex-gd-standardise")
    kappa = gd_chapter["raw_kappa"]
    assert 1e4 <= kappa < 1e5  # "tens of thousands"
    assert 1 - (kappa - 1) / (kappa + 1) < 1e-4


def test_how_to_use_solutions_run_and_match_their_comments():
    with jax.enable_x64(True):
        chapter = run_chapter("00_how_to_use.ipynb")
        blocks = solution_blocks("00_how_to_use.ipynb")
        run_solution(chapter, blocks["ex-ch0-grad"])
        printed = run_solution(chapter, blocks["ex-ch0-forward"])
    fwd = np.asarray(chapter["fwd"])
    steps = np.asarray(chapter["steps"])
    best = int(np.argmin(fwd))
    assert 1e-10 < steps[best] < 1e-6  # best forward step near sqrt(eps) ~ 1e-8
    assert fwd[best] > 10 * float(np.min(np.asarray(chapter["errors"])))  # far worse than central
    assert printed
