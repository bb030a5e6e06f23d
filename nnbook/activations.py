"""Activation functions, their derivatives by hand, and stable ways to compute them.

Taught in chapter 2, "Activation functions" (chapters/02_activations.ipynb);
the losses built on them are in :mod:`nnbook.losses` (chapter 3). Every function here is pure and
elementwise (softmax works along the last axis), so ``jax.grad`` and
``jax.vmap`` apply directly. Each activation comes with the derivative
worked out by hand, which the chapter and the tests compare with autodiff.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
from jax.scipy.special import erfc

# ----------------------------------------------------------------------------
# activations
# ----------------------------------------------------------------------------


def step(x):
    """Heaviside step, the perceptron's output: 1 where x > 0, else 0."""
    return jnp.where(x > 0, 1.0, 0.0)


def sigmoid(x):
    """The logistic function 1 / (1 + e^-x), computed as exp(log sigmoid(x))
    = exp(-softplus(-x)): the same number, accurate to the last digits even
    where it is tiny, and a finite gradient for every x (autodiff of
    1 / (1 + e^-x) gives inf / inf = NaN at x = -1000)."""
    return jnp.exp(-softplus(-x))


def tanh(x):
    """Hyperbolic tangent, (e^x - e^-x) / (e^x + e^-x) = 2 sigmoid(2x) - 1."""
    return jnp.tanh(x)


def relu(x):
    """Rectified linear unit max(x, 0). Written with ``where`` so that its
    autodiff derivative at the kink x = 0 is 0, as in ``jax.nn.relu``."""
    return jnp.where(x > 0, x, 0.0)


def leaky_relu(x, slope=0.01):
    """x for x > 0, slope * x otherwise: never exactly flat."""
    return jnp.where(x > 0, x, slope * x)


def softplus(x):
    """log(1 + e^x), a smooth ReLU, computed as log(e^0 + e^x) by ``jnp.logaddexp``,
    which factors out the larger exponent: no overflow at x = 1000, and no loss
    of the tiny value e^x at x = -40."""
    return jnp.logaddexp(0.0, x)


def gelu(x):
    """Gaussian error linear unit x * Phi(x), Phi the standard normal CDF."""
    return x * normal_cdf(x)


GELU_TANH_C = 0.044715  # the constant of Hendrycks and Gimpel's approximation


def gelu_tanh(x):
    """The tanh approximation of GELU: x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    return 0.5 * x * (1.0 + jnp.tanh(math.sqrt(2.0 / math.pi) * (x + GELU_TANH_C * x**3)))


def silu(x):
    """Sigmoid-weighted linear unit (also called swish): x * sigmoid(x)."""
    return x * sigmoid(x)


# ----------------------------------------------------------------------------
# derivatives worked out by hand
# ----------------------------------------------------------------------------


def step_derivative(x):
    """0 everywhere except at 0, where the step has no derivative."""
    return jnp.zeros_like(x)


@jax.jit
def sigmoid_derivative(x):
    """sigma' = sigma (1 - sigma): at most 1/4, reached at x = 0."""
    s = sigmoid(x)
    return s * (1.0 - s)


def tanh_derivative(x):
    """tanh' = 1 - tanh^2: at most 1, reached at x = 0."""
    return 1.0 - jnp.tanh(x) ** 2


def relu_derivative(x):
    """1 for x > 0, 0 for x < 0; at x = 0 we pick 0 (any value in [0, 1] is a subgradient)."""
    return jnp.where(x > 0, 1.0, 0.0)


def leaky_relu_derivative(x, slope=0.01):
    return jnp.where(x > 0, 1.0, slope)


def softplus_derivative(x):
    """d/dx log(1 + e^x) = e^x / (1 + e^x) = sigmoid(x)."""
    return sigmoid(x)


def normal_pdf(x):
    return jnp.exp(-0.5 * x**2) / math.sqrt(2.0 * math.pi)


def normal_cdf(x):
    """Phi(x) = (1 + erf(x / sqrt 2)) / 2, written with erfc = 1 - erf so that
    the far left tail keeps its digits instead of cancelling to 0."""
    return 0.5 * erfc(-x / math.sqrt(2.0))


def gelu_derivative(x):
    """Product rule on x Phi(x): Phi(x) + x phi(x)."""
    return normal_cdf(x) + x * normal_pdf(x)


def gelu_tanh_derivative(x):
    """Product and chain rule on x/2 (1 + tanh u), u = sqrt(2/pi) (x + c x^3)."""
    k = math.sqrt(2.0 / math.pi)
    t = jnp.tanh(k * (x + GELU_TANH_C * x**3))
    return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t**2) * k * (1.0 + 3.0 * GELU_TANH_C * x**2)


def silu_derivative(x):
    """Product rule on x sigma(x): sigma + x sigma (1 - sigma)."""
    s = sigmoid(x)
    return s + x * s * (1.0 - s)


class Activation(NamedTuple):
    name: str
    function: Callable
    derivative: Callable  # by hand
    formula: str  # LaTeX, for tables and legends


ACTIVATIONS = {
    a.name: a
    for a in (
        Activation("step", step, step_derivative, r"1[x > 0]"),
        Activation("sigmoid", sigmoid, sigmoid_derivative, r"1/(1 + e^{-x})"),
        Activation("tanh", tanh, tanh_derivative, r"\tanh x"),
        Activation("ReLU", relu, relu_derivative, r"\max(x, 0)"),
        Activation("leaky ReLU", leaky_relu, leaky_relu_derivative, r"\max(x, 0.01 x)"),
        Activation("softplus", softplus, softplus_derivative, r"\log(1 + e^x)"),
        Activation("GELU", gelu, gelu_derivative, r"x \Phi(x)"),
        Activation("GELU (tanh approx.)", gelu_tanh, gelu_tanh_derivative,
                   r"\frac{x}{2}(1 + \tanh(\sqrt{2/\pi}(x + 0.044715 x^3)))"),
        Activation("SiLU", silu, silu_derivative, r"x \sigma(x)"),
    )
}


def autodiff_derivative(f: Callable) -> Callable:
    """x -> f'(x) elementwise, for a 1-d array x: ``jax.grad`` of the scalar
    function, mapped over the points with ``jax.vmap``."""
    return jax.vmap(jax.grad(f))


# ----------------------------------------------------------------------------
# naive formulas, kept to show how they fail
# ----------------------------------------------------------------------------


def sigmoid_naive(x):
    """1 / (1 + e^-x) as written: right values, but e^-x overflows for x << 0
    and its gradient there is inf / inf = NaN."""
    return 1.0 / (1.0 + jnp.exp(-x))


def softplus_naive(x):
    """log(1 + e^x) as written: inf for x > 709 (float64) or 88 (float32)."""
    return jnp.log(1.0 + jnp.exp(x))


def log_sigmoid(x):
    """log sigmoid(x) = -log(1 + e^-x) = -softplus(-x): stable for every x."""
    return -softplus(-x)


def log_sigmoid_naive(x):
    """log of the sigmoid: log(0) = -inf once sigmoid(x) underflows to 0."""
    return jnp.log(sigmoid_naive(x))


# ----------------------------------------------------------------------------
# softmax
# ----------------------------------------------------------------------------


def softmax_naive(z):
    """e^{z_k} / sum_j e^{z_j} as written: NaN (inf / inf) once some z_k > 709."""
    e = jnp.exp(z)
    return e / jnp.sum(e, axis=-1, keepdims=True)


def logsumexp(z):
    """log sum_k e^{z_k} = m + log sum_k e^{z_k - m} with m = max_k z_k: every
    exponent is <= 0, so nothing overflows and the largest term is exactly 1.
    (The shift m is treated as a constant by autodiff; the result does not
    depend on it.)"""
    m = jax.lax.stop_gradient(jnp.max(z, axis=-1, keepdims=True))
    return jnp.squeeze(m, -1) + jnp.log(jnp.sum(jnp.exp(z - m), axis=-1))


def softmax(z):
    """Stable softmax: subtracting the maximum changes nothing mathematically,
    softmax(z - c) = softmax(z), but keeps every exponent <= 0."""
    e = jnp.exp(z - jax.lax.stop_gradient(jnp.max(z, axis=-1, keepdims=True)))
    return e / jnp.sum(e, axis=-1, keepdims=True)


def log_softmax(z):
    """log softmax(z) = z - logsumexp(z), without forming softmax(z) (whose
    tiny entries would underflow to 0 and have log -inf)."""
    return z - logsumexp(z)[..., None]


def softmax_jacobian_by_hand(z):
    """d p_i / d z_j = p_i (delta_ij - p_j), i.e. diag(p) - p p^T, for one vector z."""
    p = softmax(z)
    return jnp.diag(p) - jnp.outer(p, p)


# ----------------------------------------------------------------------------
# depth: linear layers collapse, saturating layers shrink gradients
# ----------------------------------------------------------------------------


def collapse_two_linear_layers(W1, b1, W2, b2):
    """The single layer that equals W2 (W1 x + b1) + b2: (W2 W1, W2 b1 + b2)
    (layers as in :func:`nnbook.neurons.dense`, taught in chapter 1)."""
    return W2 @ W1, W2 @ b1 + b2


def chain_outputs(activation: Callable, x, depth: int):
    """a_1, ..., a_depth with a_0 = x and a_k = activation(a_{k-1}): a deep
    network of scalar layers with weight 1 and bias 0."""

    def layer(a, _):
        a = activation(a)
        return a, a

    _, outputs = jax.lax.scan(layer, jnp.asarray(x, dtype=jnp.result_type(float)), None, length=depth)
    return outputs


@partial(jax.jit, static_argnames=("activation", "depth"))
def chain_gradients(activation: Callable, x, depth: int):
    """d a_n / d x for every n = 1..depth in one call: forward-mode autodiff
    (``jax.jacfwd``) through the ``lax.scan`` of :func:`chain_outputs`."""
    x = jnp.asarray(x, dtype=jnp.result_type(float))
    return jax.jacfwd(lambda x0: chain_outputs(activation, x0, depth))(x)


def chain_gradients_by_hand(activation: Callable, derivative: Callable, x, depth: int):
    """The chain rule written out: d a_n / d x = prod_{k<n} activation'(a_k)."""
    outputs = chain_outputs(activation, x, depth)
    inputs = jnp.concatenate([jnp.asarray(x, dtype=outputs.dtype)[None], outputs[:-1]])
    return jnp.cumprod(derivative(inputs))


def sigmoid_fixed_point(iterations: int = 200) -> float:
    """The a* with sigmoid(a*) = a*, by iterating the sigmoid (it contracts:
    its slope is below 1/4). A deep sigmoid chain settles there, and each
    further layer multiplies the gradient by sigmoid'(a*) = a* (1 - a*)."""
    a = 0.5
    for _ in range(iterations):
        a = float(sigmoid(a))
    return a
