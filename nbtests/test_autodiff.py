"""nnbook.autodiff: the scalar engine against jax.grad, against central
differences and against finite differences of its own forward pass; and
nnbook.xla_cost: the cost model of the chapter's reverse/forward/finite-
difference comparison, counted (evaluations of L, operations counted by XLA),
never timed."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from nnbook.autodiff import Value, topological_order
from nnbook.calculus import central_difference, relative_error
from nnbook.mlp import tanh_unit_loss
from nnbook.xla_cost import counting, flop_count


@pytest.fixture(autouse=True)
def float64():
    # The global flag, not the `jax.enable_x64` context: `counting` runs a host
    # callback, which XLA may execute on one of its own threads, where a
    # thread-local context does not reach (the callback's float64 result was
    # then narrowed to float32 and rejected).
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", previous)


# Each case: the same formula written for the engine and for JAX, and points
# where it is differentiable (relu away from 0).
CASES = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "div": (lambda a, b: a / b, lambda a, b: a / b),
    "pow int": (lambda a, b: a**3 * b, lambda a, b: a**3 * b),
    "pow float": (lambda a, b: (a * a + 1) ** 0.5 + b**-2, lambda a, b: (a * a + 1) ** 0.5 + b**-2),
    "tanh": (lambda a, b: (a * b).tanh(), lambda a, b: jnp.tanh(a * b)),
    "exp": (lambda a, b: (a - b).exp(), lambda a, b: jnp.exp(a - b)),
    "relu": (lambda a, b: (a * b).relu() + (a + 5).relu(), lambda a, b: jnp.maximum(a * b, 0) + jnp.maximum(a + 5, 0)),
    "constants left": (lambda a, b: 2 + a, lambda a, b: 2 + a),
    "constants right": (lambda a, b: 3 * a - 1 + b * 0.5, lambda a, b: 3 * a - 1 + b * 0.5),
    "rsub rdiv": (lambda a, b: 1 - a + 2 / b, lambda a, b: 1 - a + 2 / b),
    "neg": (lambda a, b: -a * b, lambda a, b: -a * b),
    "reuse": (lambda a, b: a * a * a + a * b + a, lambda a, b: a * a * a + a * b + a),
}
POINTS = [(0.7, -1.3), (-0.4, 2.2), (1.9, 0.6)]


def engine_gradient(formula, point):
    a, b = Value(point[0]), Value(point[1])
    out = formula(a, b)
    out.backward()
    return out.data, np.array([a.grad, b.grad])


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("point", POINTS)
def test_engine_matches_jax_grad_and_central_differences(name, point):
    engine_formula, jax_formula = CASES[name]
    value, grad = engine_gradient(engine_formula, point)
    f = lambda p: jax_formula(p[0], p[1])
    p = jnp.array(point)
    assert value == pytest.approx(float(f(p)), rel=1e-14, abs=1e-14)
    assert relative_error(grad, jax.grad(f)(p)) < 1e-13
    assert relative_error(grad, central_difference(f, p)) < 1e-8


@pytest.mark.parametrize("name", sorted(CASES))
def test_engine_matches_finite_differences_of_its_own_forward_pass(name):
    # no JAX at all: the engine's backward against the engine's forward
    formula = CASES[name][0]
    point, h = POINTS[1], 1e-6
    _, grad = engine_gradient(formula, point)
    for i in range(2):
        up, down = list(point), list(point)
        up[i] += h
        down[i] -= h
        numeric = (formula(*map(Value, up)).data - formula(*map(Value, down)).data) / (2 * h)
        assert grad[i] == pytest.approx(numeric, rel=1e-7, abs=1e-8)


def test_the_chapter_neuron_by_the_closed_form():
    x1, w1, x2, w2, b = (Value(v) for v in (1.5, 0.8, -0.5, -1.2, -0.3))
    o = (x1 * w1 + x2 * w2 + b).tanh()
    o.backward()
    local = 1 - math.tanh(1.5) ** 2  # n = 1.2 + 0.6 - 0.3
    assert o.data == pytest.approx(math.tanh(1.5), rel=1e-15)
    assert w1.grad == pytest.approx(local * 1.5, rel=1e-14)
    assert x1.grad == pytest.approx(local * 0.8, rel=1e-14)
    assert w2.grad == pytest.approx(local * -0.5, rel=1e-14)
    assert x2.grad == pytest.approx(local * -1.2, rel=1e-14)
    assert b.grad == pytest.approx(local, rel=1e-14)


def test_gradients_accumulate_over_uses_and_backward_can_run_twice():
    x = Value(3.0)
    y = x * x + x
    y.backward()
    assert x.grad == 7.0  # 2x + 1: all three uses of x contribute
    y.backward()
    assert x.grad == 7.0  # a second pass starts from zero, not from 7
    z = x + x
    z.backward()
    assert x.grad == 2.0


def test_relu_gradient_at_zero_is_zero_and_negative_side_is_zero():
    for v, expected in ((0.0, 0.0), (-1.0, 0.0), (2.0, 1.0)):
        a = Value(v)
        a.relu().backward()
        assert a.grad == expected


def test_topological_order_puts_every_node_after_its_parents_once():
    a, b = Value(1.0), Value(2.0)
    c = a * b
    d = c + a
    e = (d * c).tanh()
    order = topological_order(e)
    assert len(order) == len({id(n) for n in order}) == 6  # a, b, c, d, d*c, e
    position = {id(n): i for i, n in enumerate(order)}
    for node in order:
        for parent in node.parents:
            assert position[id(parent)] < position[id(node)]
    assert order[-1] is e


def test_pow_accepts_only_constant_exponents():
    with pytest.raises(AssertionError, match="constant exponents only"):
        Value(2.0) ** Value(3.0)


# --- counting evaluations and operations ------------------------------------------------------


def test_counting_counts_plain_jitted_and_vmapped_evaluations():
    f = counting(lambda x: jnp.sum(x**2))
    x = jnp.arange(3.0)
    f(x)
    assert f.count == 1
    jax.jit(f)(x).block_until_ready()
    assert f.count == 2
    jax.vmap(f)(jnp.ones((5, 3))).block_until_ready()
    assert f.count == 7  # each element of the batch is one evaluation
    assert float(f(x)) == 5.0  # the counter does not change the value
    np.testing.assert_allclose(jax.grad(f)(x), 2 * x)  # nor the gradient


@pytest.mark.parametrize("n", [10, 100, 1000])
def test_evaluations_of_the_loss_per_gradient(n):
    # the chapter's claim: reverse and forward mode evaluate L once,
    # central differences exactly 2n times
    key = jax.random.key(5)
    f = tanh_unit_loss(n, jax.random.fold_in(key, n))
    w = jax.random.normal(jax.random.fold_in(key, n + 1), (n,))
    methods = {
        "reverse": jax.grad,
        "forward": jax.jacfwd,
        "central": lambda g: (lambda v: central_difference(g, v)),
    }
    counts, grads = {}, {}
    for name, method in methods.items():
        counted = counting(f)
        grads[name] = jax.jit(method(counted))(w)
        counts[name] = counted.count
    assert counts == {"reverse": 1, "forward": 1, "central": 2 * n}
    # and all three compute the same gradient
    assert relative_error(grads["forward"], grads["reverse"]) < 1e-12
    assert relative_error(grads["central"], grads["reverse"]) < 1e-7


@pytest.mark.parametrize("n", [10, 100, 1000])
def test_operation_counts_follow_the_cost_model(n):
    key = jax.random.key(5)
    f = tanh_unit_loss(n, jax.random.fold_in(key, n))
    w = jax.random.normal(jax.random.fold_in(key, n + 1), (n,))
    ops = lambda fn: flop_count(jax.jit(fn).lower(w).compile())
    base = ops(f)
    assert base >= 2 * n * n  # X w alone is n^2 multiply-adds
    reverse = ops(jax.grad(f)) / base
    forward = ops(jax.jacfwd(f)) / base
    central = ops(lambda v: central_difference(f, v)) / base
    assert reverse < 3  # a small constant, independent of n
    assert n <= forward < 1.5 * n  # one tangent pass per weight
    assert 2 * n <= central < 2.5 * n  # two evaluations per weight


class Assigning(Value):
    """The engine with ``=`` instead of ``+=`` in the backward functions of
    + and *: the mistake the chapter warns about."""

    def __add__(self, other):
        other = other if isinstance(other, Value) else Assigning(other)
        out = Assigning(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad = out.grad
            other.grad = out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Assigning(other)
        out = Assigning(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad = other.data * out.grad
            other.grad = self.data * out.grad

        out._backward = _backward
        return out


def test_assigning_instead_of_adding_reports_one_use_only():
    # the chapter: "the engine would report 3 (one factor of x*x) instead of 7"
    x = Assigning(3.0)
    y = x * x + x
    y.backward()
    assert x.grad == 3.0
