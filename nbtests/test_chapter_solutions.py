"""The exercise solutions of the chapters run, and say what they claim.

The solution code is read from the notebooks (it lives in markdown, hidden in
the page) and executed after the chapter's own cells (conftest.py's
``solve``); nothing is copied here.
"""

import jax.numpy as jnp
import numpy as np
import pytest

from chapter_code import code_cells, solution_blocks
from nnbook.calculus import bisect

CHAPTER = "04_gradient_descent.ipynb"


def test_every_gd_exercise_has_a_tested_solution():
    assert set(solution_blocks(CHAPTER)) == {
        "ex-gd-momentum-proof",
        "ex-gd-momentum-limit",
        "ex-gd-nesterov",
        "ex-gd-decay",
        "ex-gd-standardise",
        "ex-gd-adam-scale",
    }


def test_momentum_proof_check_straddles_one(solve):
    chapter, _ = solve("ex-gd-momentum-proof")
    below, above = chapter["limit_check"]
    assert below < 1 < above and above - below < 1e-5


def test_adam_ignores_the_scale_of_the_loss(solve):
    chapter, _ = solve("ex-gd-adam-scale")
    gaps = chapter["scale_gaps"]
    assert set(gaps) == {100.0, 1e-3}
    assert max(gaps.values()) < 1e-4  # "tiny": only eps / c differs


def test_momentum_limit_is_two_times_one_plus_beta_over_a(solve):
    chapter, _ = solve("ex-gd-momentum-limit")
    assert chapter["momentum_limit_found"] == pytest.approx(1.5, rel=1e-9)


def stability_limit(method, a, beta, steps=400):
    """The learning rate above which ``method`` grows |w| late in a run on a w^2 / 2."""
    loss = lambda w: 0.5 * a * jnp.sum(w**2)  # noqa: E731

    def grows(eta):
        run = method(loss, jnp.array([1.0]), eta, beta, steps)[:, 0]
        return not bool(jnp.abs(run[-1]) <= jnp.abs(run[steps // 2]))  # NaN counts as growing

    return bisect(grows, 0.01 / a, 5.0 / a)


def test_nesterov_wins_at_high_momentum_and_diverges_where_heavy_ball_does_not(solve):
    chapter, _ = solve("ex-gd-nesterov")
    steps = chapter["nesterov_steps"]
    assert 0 < steps["nesterov_descent", 0.1, 0.8] < steps["momentum_descent", 0.1, 0.8]
    assert steps["nesterov_descent", 0.2, 0.5] == -1 and steps["momentum_descent", 0.2, 0.5] > 0
    # the stated stability limits, found by bisection on runs of the chapter's two methods
    # at the quadratic's steep curvature a_max: eta a_max < 2 (1 + beta) / (1 + 2 beta) for
    # Nesterov, eta a_max < 2 (1 + beta) for the heavy ball; eta = 0.2 lies between them
    L, beta = chapter["lambda_max"], 0.5
    nesterov = stability_limit(chapter["nesterov_descent"], L, beta)
    heavy = stability_limit(chapter["momentum_descent"], L, beta)
    # rel=1e-6: the late-growth bisection finds the heavy ball's limit to 2e-16;
    # the margin is for Nesterov's, whose late growth near its limit was not measured separately
    assert nesterov * L == pytest.approx(2 * (1 + beta) / (1 + 2 * beta), rel=1e-6)
    assert heavy * L == pytest.approx(2 * (1 + beta), rel=1e-6)
    assert nesterov < 0.2 < heavy


def test_decaying_learning_rate_ends_several_times_closer(solve):
    chapter, _ = solve("ex-gd-decay")
    assert chapter["distance_decay"] < chapter["distance_fixed"] / 3


def test_raw_diabetes_features_are_badly_conditioned(solve):
    chapter, _ = solve("ex-gd-standardise")
    kappa = chapter["raw_kappa"]
    assert 1e4 <= kappa < 1e5  # "tens of thousands"
    assert 1 - (kappa - 1) / (kappa + 1) < 1e-4


# --- chapter 0 ------------------------------------------------------------------------------------

HOW_TO_USE = "00_how_to_use.ipynb"


def test_how_to_use_measures_what_32_bits_change(chapter_of):
    # the chapter once said chapters that need no precision "stay in 32 bits" while every chapter
    # 0-5 enables 64 bits; now it says which do, and measures float32 on purpose
    chapter = chapter_of(HOW_TO_USE)
    # e^x overflows at log(largest float): 88.72 for float32, 709.78 for float64
    assert float(np.log(np.finfo(np.float32).max)) == pytest.approx(88.7228, abs=1e-4)
    assert float(jnp.exp(jnp.float32(88.71))) < float("inf") and float(jnp.exp(jnp.float32(88.73))) == float("inf")
    fd32, fd64 = chapter["fd_error_32"], chapter["fd_error_64"]
    # the rounding part eps32 / h with eps32 ~ 1.2e-7 and h = 1e-5: about 1e-2 at most, seen ~2e-3
    assert 1e-4 < fd32 < 1e-2 and fd64 < 1e-9 and fd32 > 1e6 * fd64
    errors_32, steps = chapter["errors_32"], np.asarray(chapter["steps"])
    best = int(np.argmin(errors_32))
    # the best 32-bit step is near eps32**(1/3) ~ 5e-3 (calculus.central_difference's docstring)
    assert 1e-4 <= steps[best] <= 1e-2 and 1e-7 < errors_32[best] < 1e-4
    assert errors_32[best] > 100 * float(np.min(np.asarray(chapter["errors"])))  # worse than 64 bits' best
    # the chapters that check derivatives run in 64 bits, chapter 6 in 32 (as the text now says)
    for name in ("00_how_to_use", "01_neurons", "02_activations", "03_losses", "04_gradient_descent",
                 "05_backpropagation"):
        assert 'jax.config.update("jax_enable_x64", True)' in "\n".join(code_cells(f"{name}.ipynb")), name
    assert "jax_enable_x64" not in "\n".join(code_cells("06_transfer_learning.ipynb"))


def test_how_to_use_solutions_run_and_match_their_comments(chapter_of, solution_of):
    chapter = chapter_of(HOW_TO_USE)
    assert set(solution_blocks(HOW_TO_USE)) >= {"ex-ch0-grad", "ex-ch0-forward"}
    _, printed_grad = solution_of(HOW_TO_USE, "ex-ch0-grad")
    closed_form_gap, finite_difference_error = (float(v) for v in printed_grad.split())
    assert closed_form_gap < 1e-15  # the comment: "~1e-17", rounding
    assert 1e-14 < finite_difference_error < 1e-9  # the comment: "~1e-11", truncation of central differences
    forward, printed = solution_of(HOW_TO_USE, "ex-ch0-forward")
    fwd = np.asarray(forward["fwd"])
    steps = np.asarray(chapter["steps"])
    best = int(np.argmin(fwd))
    assert 1e-10 < steps[best] < 1e-6  # best forward step near sqrt(eps) ~ 1e-8
    assert fwd[best] > 10 * float(np.min(np.asarray(chapter["errors"])))  # far worse than central
    # "the error falls like h, not h^2": slope 1 on a log-log plot where truncation dominates
    large = steps >= 1e-4
    slope = np.polyfit(np.log(steps[large]), np.log(fwd[large]), 1)[0]
    assert slope == pytest.approx(1.0, abs=0.1)
    np.testing.assert_allclose(
        np.array(printed.replace("[", " ").replace("]", " ").split(), dtype=float), fwd, rtol=1e-6
    )
