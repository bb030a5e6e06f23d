"""Counting what a computation costs: evaluations of a function, and the
floating-point operations XLA compiles for it.

Used in chapter 5 (chapters/05_backpropagation.ipynb) to compare the cost of
a gradient by reverse mode, forward mode and finite differences. The counts
are exact and static, unlike timings: no noise from the machine.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


def counting(f):
    """``f`` wrapped so that every evaluation of it is counted, also inside
    ``jax.jit`` and each element of a ``jax.vmap`` batch:
    ``g = counting(f); g(x); g.count``. Only evaluations of f's value are
    counted, not the derivative passes (JVPs, VJPs) autodiff runs through it.

    The trick: a ``jax.pure_callback`` that runs Python at execution time,
    made part of f's input (by adding 0 times its result) so the compiler
    cannot drop it. The caveat: XLA may run the callback on one of its own
    threads, where the thread-local ``jax.enable_x64`` context does not reach,
    so a float64 result can arrive narrowed to float32 and be rejected. Turn
    64-bit floats on with the global flag (``jax.config.update``, as the
    chapter does), and the callback returns zeros of the dtype declared at
    trace time, never of the runtime argument's."""

    def counted(x):
        x = jnp.asarray(x)
        one = x.ndim  # one evaluation's input (vmap hides the batch axis)

        dtype = x.dtype  # the declared result type; the runtime argument may differ

        def bump(seen):  # runs at execution time; a vmap batch comes at once
            batch = seen.shape[: seen.ndim - one]
            counted.count += int(np.prod(batch))
            return np.zeros(batch, dtype)

        # stop_gradient: the counter is no part of the maths, autodiff skips it
        tick = jax.pure_callback(
            bump, jax.ShapeDtypeStruct((), dtype), jax.lax.stop_gradient(x),
            vmap_method="broadcast_all")
        # f's input depends on the tick (by adding 0), so the compiler keeps the
        # callback whenever it computes anything inside f
        return f(x + 0 * jax.lax.stop_gradient(tick))

    counted.count = 0
    return counted


def flop_count(compiled) -> float:
    """Floating-point operations of a compiled program, as counted by the XLA
    compiler (a static count: no timing noise), for example
    ``flop_count(jax.jit(f).lower(x).compile())``."""
    return float(compiled.cost_analysis()["flops"])
