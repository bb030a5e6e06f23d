"""nnbook.mlp: the hand-written backward pass against jax.grad and central
differences, training against gradient descent with jax.grad, the data; then
every claim of the backpropagation chapter and its exercise solutions, asserted
on the chapter's own code (executed in-process by chapter_code)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from chapter_code import solution_blocks
from nnbook.activations import log_softmax, softmax
from nnbook.calculus import central_difference, relative_error
from nnbook.data import moons
from nnbook.losses import mean_cross_entropy, one_hot
from nnbook.mlp import (
    at_step,
    backward,
    backward_example,
    forward,
    grad_loss,
    init_mlp,
    layer_deltas,
    loss,
    normal,
    split,
    train,
)
from nnbook.neurons import gradient_descent

CHAPTER = "05_backpropagation.ipynb"


@pytest.fixture(autouse=True)
def float64():
    with jax.enable_x64(True):
        yield


def flat(tree):
    return ravel_pytree(tree)[0]


@pytest.fixture(scope="module")
def problem():
    with jax.enable_x64(True):
        key = jax.random.key(11)
        k_data, k_init = jax.random.split(key)
        X, y = moons(k_data, 64, noise=0.2)
        return X, y, init_mlp(k_init, (2, 5, 2))


# --- building blocks ------------------------------------------------------------------------


def test_init_shapes_and_scale():
    params = init_mlp(jax.random.key(0), (3, 400, 7), scale=2.0)
    assert [(p["W"].shape, p["b"].shape) for p in params] == [((400, 3), (400,)), ((7, 400), (7,))]
    # standard deviation scale / sqrt(fan_in), biases zero
    assert float(jnp.std(params[0]["W"])) == pytest.approx(2.0 / np.sqrt(3), rel=0.1)
    assert float(jnp.std(params[1]["W"])) == pytest.approx(2.0 / np.sqrt(400), rel=0.05)
    assert not np.any(np.asarray(params[0]["b"]))


@pytest.mark.parametrize("shape", [(), (1,), (2, 8), (64, 64), (3, 4, 5), (4096,), (4097,), (1000, 1000)])
def test_normal_draws_jax_random_normals_numbers(shape):
    # the same numbers as jax.random.normal, in both lengths of flat draw
    key = jax.random.fold_in(jax.random.key(5), len(shape))
    drawn = normal(key, shape)
    assert drawn.shape == shape and drawn.dtype == jnp.float64
    np.testing.assert_array_equal(drawn, jax.random.normal(key, shape))


def test_normal_refuses_more_numbers_than_its_longest_draw():
    with pytest.raises(ValueError, match="at most"):
        normal(jax.random.key(0), (2**21 + 1,))


@pytest.mark.parametrize("num", [1, 2, 4, 11, 16, 17])
def test_split_gives_jax_random_splits_keys(num):
    key = jax.random.key(7)
    ours = np.stack([jax.random.key_data(k) for k in split(key, num)])
    np.testing.assert_array_equal(ours, jax.random.key_data(jax.random.split(key, num)))


def test_init_draws_each_layer_from_its_own_split_key():
    # init_mlp(key, sizes)[l]["W"] is normal(k_l, (fan_out, fan_in)) / sqrt(fan_in), biases 0,
    # with k_l = jax.random.split(key, layers)[l]; checked against jax.random directly
    key, sizes = jax.random.key(3), (3, 5, 4, 2)
    keys = jax.random.split(key, len(sizes) - 1)
    for layer, k, fan_in, fan_out in zip(init_mlp(key, sizes, scale=1.7), keys, sizes[:-1], sizes[1:]):
        want = 1.7 * np.asarray(jax.random.normal(k, (fan_out, fan_in))) / np.sqrt(fan_in)
        np.testing.assert_allclose(layer["W"], want, rtol=1e-15, atol=0)
        np.testing.assert_array_equal(layer["b"], np.zeros(fan_out))


def test_softmax_and_cross_entropy_against_closed_forms_and_large_logits():
    z = jnp.array([[1.0, 2.0, 3.0], [1000.0, 0.0, -1000.0]])
    p = softmax(z)
    np.testing.assert_allclose(p[0], np.exp([1, 2, 3]) / np.exp([1, 2, 3]).sum(), rtol=1e-14)
    np.testing.assert_allclose(p[1], [1.0, 0.0, 0.0], atol=1e-300)  # no overflow to NaN
    assert np.all(np.isfinite(np.asarray(log_softmax(z))))
    labels = jnp.array([2, 1])
    expected = -(np.log(np.exp(3) / np.exp([1, 2, 3]).sum()) + (-1000.0)) / 2
    assert float(mean_cross_entropy(z, labels)) == pytest.approx(expected, rel=1e-14)
    np.testing.assert_array_equal(one_hot(labels, 3), [[0, 0, 1], [0, 1, 0]])


def test_forward_of_a_network_without_hidden_layer_is_affine():
    params = init_mlp(jax.random.key(1), (2, 3))
    X = jnp.array([[0.5, -1.0], [2.0, 0.0]])
    np.testing.assert_allclose(forward(params, X), X @ params[0]["W"].T + params[0]["b"], rtol=1e-15)


# --- the backward pass ----------------------------------------------------------------------


def test_backward_matches_jax_grad_to_1e_12(problem):
    X, y, params = problem
    assert relative_error(flat(backward(params, X, y)), flat(jax.grad(loss)(params, X, y))) < 1e-12
    for by_hand, auto in zip(backward(params, X, y), grad_loss(params, X, y)):
        for name in ("W", "b"):
            assert relative_error(by_hand[name], auto[name]) < 1e-12


def test_backward_matches_central_differences(problem):
    X, y, params = problem
    v, unflatten = ravel_pytree(params)
    numeric = central_difference(lambda u: loss(unflatten(u), X, y), v)
    assert relative_error(flat(backward(params, X, y)), numeric) < 1e-8


def test_backward_is_the_mean_of_backward_example(problem):
    X, y, params = problem
    per_example = jax.vmap(backward_example, in_axes=(None, 0, 0))(params, X, y)
    mean = jax.tree.map(lambda g: g.mean(axis=0), per_example)
    assert relative_error(flat(mean), flat(backward(params, X, y))) < 1e-13
    # and one example's gradient is the gradient of that example's loss
    one = backward_example(params, X[3], y[3])
    auto = jax.grad(lambda p: loss(p, X[3:4], y[3:4]))(params)
    assert relative_error(flat(one), flat(auto)) < 1e-12


def test_layer_deltas_are_the_backward_pass_deltas(problem):
    # for one hidden layer, dL/dZ2 = (P - Y)/n and dL/dZ1 = (dL/dZ2 W2) * (1 - A1^2)
    X, y, params = problem
    delta1, delta2 = layer_deltas(params, X, y)
    (l1, l2) = params
    A1 = jnp.tanh(X @ l1["W"].T + l1["b"])
    P = softmax(A1 @ l2["W"].T + l2["b"])
    expected2 = (P - one_hot(y, 2)) / len(X)
    np.testing.assert_allclose(delta2, expected2, rtol=1e-12, atol=1e-16)
    np.testing.assert_allclose(delta1, (expected2 @ l2["W"]) * (1 - A1**2), rtol=1e-12, atol=1e-16)
    # and the weight gradient is delta^T a
    np.testing.assert_allclose(delta1.T @ X, backward(params, X, y)[0]["W"], rtol=1e-12)


# --- training -------------------------------------------------------------------------------


def test_train_with_hand_gradients_follows_gradient_descent_with_jax_grad(problem):
    X, y, params = problem
    history = train(params, X, y, 0.5, 100)
    v, unflatten = ravel_pytree(params)
    path = gradient_descent(lambda u: loss(unflatten(u), X, y), v, 0.5, 100)
    ours = jax.vmap(lambda k: flat(at_step(history, k)))(jnp.arange(101))
    np.testing.assert_allclose(ours, path, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(flat(at_step(history, 0)), v)  # index 0 is the start
    assert float(loss(at_step(history, 100), X, y)) < float(loss(params, X, y))
    same = train(params, X, y, 0.5, 100, gradient=grad_loss)
    np.testing.assert_allclose(flat(at_step(same, 100)), flat(at_step(history, 100)), atol=1e-12)


# --- the chapter's claims, on the chapter's own code ----------------------------------------


def test_engine_and_jax_agree_in_the_chapter(chapter):
    for name in ("err_jax", "err_all_jax"):
        assert chapter[name] < 1e-13
    for name in ("err_fd", "err_all_fd"):
        assert 1e-14 < chapter[name] < 1e-8  # truncation error of central differences, not zero
    for leaf in ("x1", "w1", "x2", "w2", "b"):  # the engine did what the chain rule by hand did
        assert chapter[leaf].grad == pytest.approx(chapter["grad_" + leaf], rel=1e-14)


def test_cost_table_of_the_chapter(chapter):
    for n in (10, 100, 1000):
        assert chapter["evaluations"]["reverse (jax.grad)", n] == 1
        assert chapter["evaluations"]["forward (jax.jacfwd)", n] == 1
        assert chapter["evaluations"]["central differences", n] == 2 * n
        assert chapter["flop_ratio"]["reverse (jax.grad)", n] < 3
        assert n <= chapter["flop_ratio"]["forward (jax.jacfwd)", n] < 1.5 * n
        assert 2 * n <= chapter["flop_ratio"]["central differences", n] < 2.5 * n
    assert max(chapter["disagreement"].values()) < 1e-7


def test_hand_backward_in_the_chapter_matches_to_1e_12(chapter):
    check = chapter["mlp_check"]
    assert check.vs_closed_form < 1e-12  # jax.grad vs backward, all 42 parameters
    assert 1e-14 < check.vs_finite_differences < 1e-8  # truncation of central differences, not zero
    assert chapter["vmap_error"] < 1e-12  # mean of backward_example vs backward
    assert chapter["path_difference"] < 1e-10  # 2000 steps, hand vs gradient_descent with jax.grad
    # the chapter's backward, per parameter, against central differences written here
    X, y, params = chapter["X"], chapter["y"], chapter["params"]
    v, unflatten = ravel_pytree(params)
    numeric = unflatten(central_difference(lambda u: loss(unflatten(u), X, y), v))
    for got, want in zip(jax.tree.leaves(chapter["by_hand"]), jax.tree.leaves(numeric)):
        assert relative_error(got, want) < 1e-8


def test_general_output_error_for_sigmoid_and_softmax(chapter):
    # sigmoid + squared error: (a - t) a (1 - a), written out in NumPy
    z, t = np.asarray(chapter["z_out"]), np.asarray(chapter["target"])
    a = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(chapter["delta_sigmoid"], (a - t) * a * (1 - a), rtol=1e-14)
    assert chapter["sigmoid_check"].vs_closed_form < 1e-14
    assert chapter["sigmoid_check"].vs_finite_differences < 1e-8
    # the first unit is confidently wrong and its delta is damped by sigma' < 0.1
    assert a[0] > 0.9 and t[0] == 0 and a[0] * (1 - a[0]) < 0.1
    # softmax + cross-entropy: J^T grad_p C collapses to p - y
    p = np.exp(z) / np.exp(z).sum()
    onehot = np.array([0.0, 0.0, 1.0])
    np.testing.assert_allclose(chapter["delta_chain"], p - onehot, rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(chapter["J"], np.diag(p) - np.outer(p, p), rtol=1e-13, atol=1e-16)
    assert chapter["softmax_check"].vs_closed_form < 1e-14
    assert chapter["jacobian_error"] < 1e-14 and chapter["collapse_error"] < 1e-14


def test_constant_starts_keep_hidden_units_identical(chapter):
    symmetry = chapter["symmetry"]
    for name in ("all zero", "all 0.5"):
        spread, _ = symmetry[name]
        assert spread < 1e-12  # "not even by rounding": measured exactly 0
    # all zero: nothing but the output bias learns, one class everywhere (the test set is balanced)
    assert symmetry["all zero"][1] == pytest.approx(float(np.mean(np.asarray(chapter["y_test"]) == 0)), abs=1e-12)
    # a constant start learns only a straight line: no better than a one-unit network's 86-87%
    assert symmetry["all 0.5"][1] < 0.90
    assert abs(symmetry["all 0.5"][1] - chapter["linear_accuracy"]) < 0.02
    spread, accuracy = symmetry["random (as above)"]
    assert spread > 0.1 and accuracy == pytest.approx(chapter["mlp_accuracy"])


def test_zero_start_never_moves_the_weights(chapter):
    # the claim "neither layer's weights ever move": the chapter's train from its zero start
    start = chapter["constant_start"](0.0)
    final = at_step(train(start, chapter["X"], chapter["y"], 1.0, 200), 200)
    for layer in final:
        assert not np.any(np.asarray(layer["W"]))
    assert not np.any(np.asarray(final[0]["b"]))
    assert np.any(np.asarray(final[1]["b"]))  # the output bias learns


def test_signal_mean_squares_against_a_numpy_backward_pass(chapter):
    rng = np.random.default_rng(0)
    Ws = rng.normal(size=(3, 5, 5)) / np.sqrt(5)
    x, s = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    forward_ms, backward_ms = chapter["signal_mean_squares"](jnp.asarray(Ws), jnp.asarray(x), jnp.asarray(s))
    zs, a = [], x
    for W in Ws:
        zs.append(a @ W.T)
        a = np.maximum(zs[-1], 0)
    deltas = [s * (zs[-1] > 0)]
    for W, z in zip(Ws[:0:-1], zs[-2::-1]):
        deltas.insert(0, (deltas[0] @ W) * (z > 0))
    np.testing.assert_allclose(forward_ms, [np.mean(z**2) for z in zs], rtol=1e-13)
    np.testing.assert_allclose(backward_ms, [np.mean(d**2) for d in deltas], rtol=1e-13)


def test_he_keeps_relu_signals_level_other_scales_go_geometric(chapter):
    growth, spread = chapter["growth"], chapter["spread"]
    assert spread["He, 2/n"] < 2.5  # "within a factor of about 2" over 20 layers, both ways
    for name, g in (("LeCun, 1/n", 0.5), ("4/n", 2.0)):
        for measured in growth[name]:  # forward and backward, predicted g^19
            assert g**19 / 3 < measured < 3 * g**19, (name, measured)
        assert spread[name] > 1e5


def test_hidden_layer_is_needed_on_the_moons(chapter):
    assert chapter["mlp_accuracy"] > 0.95
    assert chapter["linear_accuracy"] < 0.90
    # the linear model's loss flattens early: step 200 is within 0.1% of step 2000
    train_loss = np.asarray(chapter["curves"]["linear model"][0])
    assert train_loss[20] == pytest.approx(train_loss[-1], rel=1e-3)
    # the network keeps improving: its loss at 2000 is far below its loss at 200
    mlp_loss = np.asarray(chapter["curves"]["two-layer network"][0])
    assert mlp_loss[-1] < mlp_loss[20] / 2


def test_vanishing_and_exploding_ratios(chapter):
    ratio = chapter["ratio"]
    assert ratio[0.5] < 0.5**9 * 1.5  # about sigma per layer over nine layers
    assert 0.2 < ratio[1.0] < 1.0  # roughly preserved, slightly shrinking
    assert 3 < ratio[2.0] < ratio[3.0]  # growing on the way back
    assert ratio[3.0] > 10
    # weight gradients at sigma = 0.5: equally small in layers 2..10 and far below sigma = 1
    small = chapter["weight_norms"][0.5]
    assert small[1:].max() < 2 * small[1:].min()
    assert chapter["weight_norms"][1.0].mean() > 100 * small.mean()
    for scale in (0.5, 1.0, 2.0, 3.0):  # layer 1 (two inputs) sits below layer 2 in every case
        assert chapter["weight_norms"][scale][0] < chapter["weight_norms"][scale][1]


# --- the exercise solutions -----------------------------------------------------------------


def test_every_exercise_has_a_tested_solution():
    assert set(solution_blocks(CHAPTER)) == {
        "ex-bp-log", "ex-bp-relu", "ex-bp-he", "ex-bp-digits", "ex-bp-fa-zero", "ex-bp-sigmoid-ce"}


def test_sigmoid_cross_entropy_delta_is_a_minus_y(solve):
    chapter, _ = solve("ex-bp-sigmoid-ce")
    check = chapter["sigmoid_ce_check"]
    assert check.vs_closed_form < 1e-14 and check.vs_finite_differences < 1e-8
    z = float(chapter["z_unit"])
    # a - y by hand, y = 0, and the derivative of -log(1 - sigmoid(z)) is sigmoid(z)
    assert float(jax.grad(chapter["binary_ce"])(chapter["z_unit"])) == pytest.approx(1 / (1 + np.exp(-z)), rel=1e-14)


def test_log_operation_gives_p_minus_y(solve):
    chapter, _ = solve("ex-bp-log")
    engine, expected = np.asarray(chapter["engine_ce"]), np.asarray(chapter["p_minus_y"])
    np.testing.assert_allclose(engine, expected, rtol=1e-13)
    np.testing.assert_allclose(engine, jax.grad(chapter["ce_jax"])(chapter["logits"]), rtol=1e-13)
    assert engine.sum() == pytest.approx(0.0, abs=1e-15)  # p - y sums to zero


def test_relu_backward_matches_jax_grad(solve):
    chapter, _ = solve("ex-bp-relu")
    assert chapter["relu_error"] < 1e-12


def test_he_initialisation_keeps_relu_deltas(solve):
    chapter, _ = solve("ex-bp-he")
    he_ratio = chapter["he_ratio"]
    assert 0.02 < he_ratio[1.0] < 0.15  # "roughly sqrt(2) per layer": 2^(-9/2) = 0.044
    assert 0.5 < he_ratio[2**0.5] < 2.0  # keeps its size


def test_digits_hidden_layer_buys_little(solve):
    chapter, _ = solve("ex-bp-digits")
    acc = chapter["digits_accuracy"]
    assert acc["two-layer"] > 0.95 and acc["linear"] > 0.95
    gain_digits = acc["two-layer"] - acc["linear"]
    gain_moons = chapter["mlp_accuracy"] - chapter["linear_accuracy"]
    assert -0.01 < gain_digits < 0.03  # "about a point"
    assert gain_moons > 3 * gain_digits
