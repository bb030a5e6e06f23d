"""Derivatives checked independently of autodiff.

Taught in chapter 0 ("How to use this book"); reused wherever a chapter checks
``jax.grad`` against something that does not share its code.
"""

from __future__ import annotations

from functools import partial
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp


def central_difference(f: Callable, x, h: float = 1e-5):
    """Gradient of a scalar function ``f`` at ``x`` by central differences,

        df/dx_i ~ (f(x + h e_i) - f(x - h e_i)) / (2h),

    one coordinate at a time. The error is O(h^2) from truncation plus
    O(eps / h) from rounding, so ``h`` near eps**(1/3) is best: about 1e-5 in
    float64 and 5e-3 in float32.
    """
    x = jnp.asarray(x)
    basis = jnp.eye(x.size, dtype=x.dtype).reshape((x.size, *x.shape))
    grad = jax.vmap(lambda e: (f(x + h * e) - f(x - h * e)) / (2 * h))(basis)
    return grad.reshape(x.shape)


def relative_error(a, b) -> float:
    """||a - b|| / max(||a||, ||b||) (0 if both are 0): the number a gradient check reports."""
    norm_a, norm_b, norm_difference = (float(n) for n in _norms(jnp.asarray(a), jnp.asarray(b)))
    scale = max(norm_a, norm_b)
    return 0.0 if scale == 0.0 else norm_difference / scale


@jax.jit
def _norms(a, b):
    return jnp.linalg.norm(a), jnp.linalg.norm(b), jnp.linalg.norm(a - b)


def tangent_line(f: Callable, x0: float, xs):
    """The tangent of ``f`` at ``x0``, evaluated at ``xs``: f(x0) + f'(x0)(x - x0),
    with the slope from ``jax.grad``."""
    slope = jax.grad(f)(x0)
    return f(x0) + slope * (jnp.asarray(xs) - x0)


def bisect(predicate: Callable[[float], bool], lo: float, hi: float, iterations: int = 60) -> float:
    """The point where ``predicate`` switches from False to True, by bisection:
    ``predicate(lo)`` must be False and ``predicate(hi)`` True. Each step halves
    the bracket [lo, hi] and keeps the half where the switch happens, so 60
    steps shrink it by 2^-60 (to rounding in float64). Returns the end of the
    final bracket where the predicate holds.

    Taught in chapter 1 (the rheobase found by simulation); reused in chapter 4
    (the learning rate where gradient descent starts to diverge)."""
    if predicate(lo) or not predicate(hi):
        raise ValueError(
            f"bisection needs the predicate false at lo ({lo}) and true at hi ({hi}): widen or swap the bracket."
        )
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if predicate(mid) else (mid, hi)
    return hi


class GradientCheck(NamedTuple):
    """Relative errors of ``jax.grad`` against independent references."""

    vs_finite_differences: float
    vs_closed_form: float | None  # None when no closed form was given

    def __str__(self) -> str:
        closed = "" if self.vs_closed_form is None else f", vs closed form {self.vs_closed_form:.1e}"
        return f"jax.grad: relative error vs finite differences {self.vs_finite_differences:.1e}{closed}"


def gradient_check(f: Callable, x, closed_form=None, h: float = 1e-5) -> GradientCheck:
    """The ritual of chapter 0 in one call: ``jax.grad(f)(x)`` against central
    differences and, when given, against ``closed_form`` (an array, or a function
    of ``x``). Chapters after 0 use it where the check is routine, so the page
    shows one line instead of three.

    Example: ``gradient_check(lambda w: jnp.sum(w**2), w, closed_form=2 * w)``.
    """
    autodiff, differences = _autodiff_and_differences(f, x, h)
    expected = closed_form(x) if callable(closed_form) else closed_form
    return GradientCheck(
        vs_finite_differences=relative_error(autodiff, differences),
        vs_closed_form=None if expected is None else relative_error(autodiff, expected),
    )


@partial(jax.jit, static_argnums=0)
def _autodiff_and_differences(f: Callable, x, h):
    """``jax.grad(f)(x)`` and :func:`central_difference` in one compiled call
    (run eagerly, each of their small operations compiles its own program)."""
    return jax.grad(f)(x), central_difference(f, x, h)
