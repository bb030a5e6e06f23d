"""Chapter 7 (frontiers and challenges): nnbook.frontiers, every claim the
chapter's prose makes, its interactive figure and its exercise solutions.

The chapter's code runs once via chapter_code.run_chapter (its cells, not
copies), in 32-bit floats as a reader runs it; the claims are asserted on the
numbers it computes.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from chapter_code import run_solution, solution_blocks
from conftest import check_extremes_draw, check_faces_start_at_initial
from nnbook import frontiers as fr
from nnbook import frontiers_figures as figs
from nnbook import transfer as tr
from nnbook.sliders import live_figure

CHAPTER = "07_frontiers.ipynb"


@pytest.fixture(scope="module")
def target_images():
    images, y = tr.digits_raw()
    _, target = tr.source_target_split(y)
    return images[target]


# ----------------------------------------------------------------------------
# The drifts
# ----------------------------------------------------------------------------


def test_scanner_drift_goes_from_the_old_scanner_to_chapter_6s_new_one(target_images):
    assert np.array_equal(fr.scanner_drift(target_images, 0.0), target_images)
    assert np.array_equal(fr.scanner_drift(target_images, 1.0), tr.new_scanner(target_images))
    half = fr.scanner_drift(target_images, 0.5)
    assert half.min() >= 0 and half.max() <= tr.PIXEL_MAX


def test_permuted_fraction_moves_that_many_pixels(target_images):
    assert np.array_equal(fr.permuted_fraction(target_images, 0.0), target_images)
    flat = target_images.reshape(len(target_images), 64)
    for fraction in (0.5, 1.0):
        moved = fr.permuted_fraction(target_images, fraction).reshape(len(flat), 64)
        assert np.array_equal(np.sort(moved, axis=1), np.sort(flat, axis=1))  # the same pixels, elsewhere
        # a pixel place changed in some image: exactly the round(fraction * 64) chosen ones (a cycle has no fixed point)
        assert (moved != flat).any(axis=0).sum() <= round(fraction * 64)
    full = fr.permuted_fraction(target_images, 1.0).reshape(len(flat), 64)
    assert (full != flat).any(axis=0).sum() > 48  # nearly every place (a few blank ones swap blanks)


@pytest.mark.parametrize("function", [fr.scanner_drift, fr.permuted_fraction])
def test_a_drift_outside_0_1_is_refused(function, target_images):
    with pytest.raises(ValueError, match="between 0"):
        function(target_images, 1.5)
    with pytest.raises(ValueError, match="unknown kind of drift"):
        fr.drift_tasks("rotation")


# ----------------------------------------------------------------------------
# Training pieces against independent references
# ----------------------------------------------------------------------------


def _toy(seed=0, n=24, classes=3, d=5):
    X = jax.random.normal(jax.random.key(seed), (n, d))
    y = jnp.arange(n) % classes
    return X, y


def test_adam_is_chapter_6s_adam():
    X, y = _toy()
    params = tr.init_mlp(jax.random.key(1), 5, 7, 3)
    ours = jax.jit(lambda p: fr.adam(lambda q: tr.cross_entropy(q, X, y), p, 0.01, 40))(params)
    theirs, _ = tr.train(params, X, y, 0.01, 40)
    for name in params:
        assert np.allclose(ours[name], theirs[name], atol=1e-5), name  # float32, same operations


def test_weighted_cross_entropy_trains_on_the_first_k_per_class_alone():
    # sample_labels-style layout: class by class, max_k each; weights keep the first k of each class
    max_k, k, classes = 4, 2, 3
    X = jax.random.normal(jax.random.key(0), (classes * max_k, 5))
    y = jnp.repeat(jnp.arange(classes), max_k)
    w = fr.first_k_per_class(y, k, max_k)
    assert w.tolist() == [1, 1, 0, 0] * classes
    keep = np.asarray(w) > 0
    params = tr.init_mlp(jax.random.key(1), 5, 6, classes)
    assert float(fr.weighted_cross_entropy(params, X, y, w)) == pytest.approx(
        float(tr.cross_entropy(params, X[keep], y[keep])), rel=1e-6)
    ours = jax.jit(lambda p: fr.adam(lambda q: fr.weighted_cross_entropy(q, X, y, w), p, 0.01, 30))(params)
    theirs, _ = tr.train(params, X[keep], y[keep], 0.01, 30)
    for name in params:
        assert np.allclose(ours[name], theirs[name], atol=1e-5), name


def test_pull_gradient_by_central_finite_differences():
    with jax.enable_x64(True):  # finite differences need 64-bit floats
        X, y = _toy()
        X = X.astype(jnp.float64)
        theta = jax.tree.map(lambda a: a.astype(jnp.float64), tr.init_mlp(jax.random.key(2), 5, 4, 3))
        anchor = jax.tree.map(lambda a: a.astype(jnp.float64), tr.init_mlp(jax.random.key(3), 5, 4, 3))
        loss = jax.jit(lambda p: fr.pulled_loss(p, anchor, X, y, 0.3))  # compiled once, not op by op
        grad = jax.jit(jax.grad(loss))(theta)
        direction = jax.tree.map(lambda a: jax.random.normal(jax.random.key(4), a.shape, jnp.float64), theta)
        h = 1e-5
        shifted = lambda t: jax.tree.map(lambda a, d: a + t * d, theta, direction)
        numeric = (loss(shifted(h)) - loss(shifted(-h))) / (2 * h)
        analytic = sum(jnp.sum(grad[n] * direction[n]) for n in theta)
        assert float(numeric) == pytest.approx(float(analytic), rel=1e-7)


def test_renormalise_gives_the_source_statistics():
    rng = np.random.default_rng(0)
    X_t = rng.normal(3.0, 2.0, (200, 4)).astype(np.float32)
    X_t[:, 3] = 1.0  # a pixel that never varies in the target
    X_s = rng.normal(0.5, 0.1, (300, 4)).astype(np.float32)
    out = fr.renormalise(X_t, fr.pixel_statistics(X_t), fr.pixel_statistics(X_s))
    mean_s, std_s = fr.pixel_statistics(X_s)
    assert np.allclose(out.mean(0)[:3], mean_s[:3], atol=1e-5)
    assert np.allclose(out.std(0)[:3], std_s[:3], rtol=1e-4)
    assert np.allclose(out[:, 3], mean_s[3])
    with pytest.raises(ValueError, match="shape \\(n, 4\\)"):
        fr.renormalise(X_t[:, :3], fr.pixel_statistics(X_t), fr.pixel_statistics(X_s))


def test_a_low_rank_update_starts_at_the_source_and_masked_directions_never_move():
    source = tr.init_mlp(jax.random.key(0), 5, 6, 3)
    X, y = _toy()
    adapter = fr.init_adapter(jax.random.key(1), 5, 6, 4)
    assert np.array_equal(fr.with_low_rank_update(source, adapter["A"], adapter["B"])["W1"], source["W1"])
    mask = jnp.array([1.0, 1.0, 0.0, 0.0])
    trained = jax.jit(lambda a: fr.adam(lambda q: fr.lora_loss(q, source, X, y, mask), a, 0.01, 20))(adapter)
    assert np.array_equal(trained["A"][:, 2:], adapter["A"][:, 2:])
    assert not np.any(trained["B"][2:])
    assert not np.allclose(trained["B"][:2], 0)
    update = (trained["A"] * mask) @ (trained["B"] * mask[:, None])
    assert np.linalg.matrix_rank(np.asarray(update, np.float64), tol=1e-6) <= 2
    assert fr.lora_parameters(3, 64, 64) == 3 * 128
    assert fr.rank_masks((1, 3)).tolist() == [[1, 0, 0], [1, 1, 1]]


# ----------------------------------------------------------------------------
# The claims of the chapter
# ----------------------------------------------------------------------------


def test_source_model_is_chapter_6s(chapter):
    assert chapter["accuracy_old"] > 0.85
    assert fr.full_parameters(chapter["source"]) == 64 * 64 + 64 + 64 * 10 + 10


def test_scanner_drift_lowers_both_ways_and_does_not_shrink_the_gain(chapter):
    scratch, whole, gain = chapter["scratch"]["scanner"], chapter["whole"]["scanner"], chapter["gain"]["scanner"]
    assert np.all(scratch[-1] < scratch[0]) and np.all(whole[-1] < whole[0])  # "both accuracies fall", every k
    assert np.all(gain > 0)  # fine-tuning beats scratch at every drift and k
    assert np.all(gain[-1] >= gain[0])  # "does not shrink" (at one label the difference is within the spread)
    k10 = fr.DRIFT_KS.index(10)
    assert gain[-1, k10] > gain[0, k10] + 0.02  # "with ten labels it grows"


def test_permutation_drift_leaves_scratch_and_turns_the_gain_negative(chapter):
    scratch, gain = chapter["scratch"]["permuted"], chapter["gain"]["permuted"]
    # scratch is blind to a permutation in distribution; the realised runs differ by less than the seeds' spread
    assert np.all(scratch.max(0) - scratch.min(0) < 0.04)
    assert np.all(gain[0] > 0) and np.all(gain[-1] < 0)  # for every k
    assert 0 < chapter["crossing"] < 1


def test_renormalising_beats_a_few_labels_at_full_strength(chapter):
    renormalised, untrained = chapter["renormalised"], chapter["untrained"]["scanner"]
    whole = chapter["whole"]["scanner"]
    k1, k10 = fr.DRIFT_KS.index(1), fr.DRIFT_KS.index(10)
    assert untrained[-1] < 0.3 < renormalised[-1]
    assert renormalised[-1] > whole[-1, k10] > whole[-1, k1]
    assert renormalised[0] < chapter["accuracy_old"]  # "it costs a little" at s = 0
    assert renormalised[-1] < chapter["accuracy_old"]  # "stops short of the old scanner"
    assert whole[0, k1] < chapter["accuracy_old"]  # one label per class at s = 0 is worse than no fine-tuning


def test_forgetting_and_the_pull(chapter):
    forgetting, accuracy_old = chapter["forgetting"], chapter["accuracy_old"]
    target, old = (a.mean(-1) for a in forgetting["permuted pixels"])
    spread = max(a.std(-1).max() for a in forgetting["permuted pixels"])
    assert old[0] < accuracy_old - 0.2  # "it forgot"
    assert target[0] > chapter["untouched"]["permuted pixels"] + 0.5
    p = fr.PULLS.index(0.01)
    assert old[p] > old[0] + 2 * spread and target[p] < target[0]  # the trade
    assert np.all(np.diff(old) > 0) and np.all(np.diff(target) < 0)  # stronger pull: more memory, less target
    assert old[-1] > accuracy_old - 0.05  # "barely moves"
    # the new scanner: mild forgetting, and the pull buys nothing back
    target_s, old_s = (a.mean(-1) for a in forgetting["new scanner"])
    assert accuracy_old - 0.1 < old_s[0] < accuracy_old
    assert old_s[-1] <= old_s[0] + 0.01 and target_s[-1] < target_s[0] - 0.05


def test_low_rank_updates(chapter):
    lora, full = chapter["lora"], chapter["full"]
    scanner, permuted = lora["new scanner"].mean(-1), lora["permuted pixels"].mean(-1)
    assert full["new scanner"].mean() - scanner[0] < 0.05  # rank 1 close to full fine-tuning on the scanner
    assert scanner[0] > chapter["untouched"]["new scanner"] + 0.3
    assert permuted[-1] > permuted[0] + 0.4  # rank matters on permuted pixels
    assert np.all(np.diff(permuted) > 0)
    assert permuted[-1] < full["permuted pixels"].mean()
    assert chapter["trained"][-1] < chapter["n_full"]


def test_gradient_checks(chapter):
    # float32: the two sides sum the same products in another order
    assert chapter["error_A"] < 1e-5 and chapter["error_B"] < 1e-5 and chapter["error_pull"] < 1e-5


def test_drift_figure(chapter):
    spec = figs.drift_spec(chapter["scratch"], chapter["whole"], chapter["untrained"], chapter["renormalised"])
    low, high = spec.frame(drift=0.0, labels_per_class=1), spec.frame(drift=1.0, labels_per_class=1)
    assert np.allclose(low.lines["whole permuted"][1], chapter["whole"]["permuted"][:, 0])
    assert low.lines["here whole permuted"][1][0] > high.lines["here whole permuted"][1][0]
    assert spec.frame(drift=0.97, labels_per_class=4).note.startswith("s = 1.0, k = 5")
    assert set(high.lines) <= set(spec.styles)
    check_faces_start_at_initial(spec)
    check_extremes_draw(live_figure(spec))


# ----------------------------------------------------------------------------
# Exercise solutions
# ----------------------------------------------------------------------------


def test_every_exercise_has_a_tested_solution():
    assert set(solution_blocks(CHAPTER)) == {"ex-fr-learning-rate", "ex-fr-lora-count", "ex-fr-global-renormalise"}


def solve(chapter, label):
    namespace = dict(chapter)
    with jax.enable_x64(False):
        run_solution(namespace, solution_blocks(CHAPTER)[label])
    return namespace


def test_a_smaller_learning_rate_forgets_less_and_learns_less(chapter):
    ns = solve(chapter, "ex-fr-learning-rate")
    target, old = (a.mean(-1) for a in chapter["forgetting"]["permuted pixels"])
    assert ns["slow_old"].mean() > old[0] and ns["slow_target"].mean() < target[0]


def test_lora_count(chapter):
    ns = solve(chapter, "ex-fr-lora-count")
    assert ns["break_even"] and ns["big_fraction"] == pytest.approx(1 / 256)


def test_global_renormalisation_recovers_most_but_less(chapter):
    ns = solve(chapter, "ex-fr-global-renormalise")
    assert chapter["untrained"]["scanner"][-1] + 0.3 < ns["global_accuracy"] < chapter["renormalised"][-1]
