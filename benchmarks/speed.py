"""The book's speed comparisons, re-run outside the notebooks.

1. Sweep: final loss after heavy-ball descent for every (learning rate,
   momentum) pair of a grid, as the gradient-descent chapter computes it
   (its loss, start, 40 x 20 grid, 30 steps, float64):
   ``nnbook.optim.final_loss_grid`` (one jitted call: ``vmap`` over the grid,
   ``lax.scan`` over the steps) versus a Python loop over the same grid that
   calls the jitted single run ``nnbook.optim.momentum_descent`` once per pair.
   Both are compiled before timing, and must give the same numbers.

2. Gradient modes: the gradient of one scalar function of n inputs,

       f(x) = 1/2 x^T A x + sum_i log cosh x_i,   A = B^T B / n  (B fixed, random),

   whose cost is one n x n matrix-vector product, like a dense layer's.
   Reverse mode (``jax.grad``) costs a small multiple of one evaluation;
   forward mode (``jax.jacfwd``: n Jacobian-vector products, vectorised) and
   central differences (``nnbook.calculus.central_difference``: 2n evaluations,
   vectorised) cost about n evaluations. All three are jitted and compiled
   before timing; float64, so the finite differences are accurate enough to
   compare (their relative error to reverse mode is reported).

Each part runs in its own process (both turn on float64).

Timings: median over 7 batches of the per-call time, each batch long enough
(>= 50 ms or 3 calls) to be above the clock's noise, on JAX's CPU backend.

Run:  python -m benchmarks.speed {sweep|gradient_modes}
"""

from __future__ import annotations

import importlib
import json
import statistics
import sys
import time

import jax
import jax.numpy as jnp

from benchmarks.common import run_json

SIZES = (10, 100, 1000)


def per_call(fn, *args, batches: int = 7, min_batch_seconds: float = 0.05) -> float:
    """Median seconds per call of an already-compiled ``fn``."""
    jax.block_until_ready(fn(*args))
    times = []
    for _ in range(batches):
        calls, t0 = 0, time.perf_counter()
        while True:
            jax.block_until_ready(fn(*args))
            calls += 1
            elapsed = time.perf_counter() - t0
            if elapsed >= min_batch_seconds or (calls >= 3 and elapsed >= min_batch_seconds / 10):
                break
        times.append(elapsed / calls)
    return statistics.median(times)


def gradient_modes() -> dict:
    jax.config.update("jax_enable_x64", True)
    from nnbook.calculus import central_difference, relative_error

    rows = []
    for n in SIZES:
        key_b, key_x = jax.random.split(jax.random.key(n))
        B = jax.random.normal(key_b, (n, n))
        A = B.T @ B / n
        x = jax.random.normal(key_x, (n,))

        def f(x, A=A):
            return 0.5 * x @ A @ x + jnp.sum(jnp.log(jnp.cosh(x)))

        evaluate = jax.jit(f)
        reverse = jax.jit(jax.grad(f))
        forward = jax.jit(jax.jacfwd(f))
        finite = jax.jit(lambda x: central_difference(f, x))
        g_rev, g_fwd, g_fd = reverse(x), forward(x), finite(x)
        row = {"n": n, "f_ms": per_call(evaluate, x) * 1e3}
        for name, fn in (("reverse", reverse), ("forward", forward), ("finite_diff", finite)):
            row[f"{name}_ms"] = per_call(fn, x) * 1e3
        row["forward_rel_err"] = relative_error(g_fwd, g_rev)
        row["finite_diff_rel_err"] = relative_error(g_fd, g_rev)
        rows.append(row)
    return {"function": "f(x) = x^T A x / 2 + sum log cosh x (float64)", "rows": rows}


def sweep() -> dict:
    """The gradient-descent chapter's vectorised sweep vs a Python loop, with
    the chapter's settings (float64, its quadratic, start, grid and steps)."""
    jax.config.update("jax_enable_x64", True)  # as the chapter's setup cell does
    try:
        optim = importlib.import_module("nnbook.optim")
    except ModuleNotFoundError:
        return {"status": "not available yet: nnbook/optim.py does not exist"}
    missing = [n for n in ("final_loss_grid", "momentum_descent") if not hasattr(optim, n)]
    if missing:
        return {"status": f"not available yet: nnbook.optim has no {', '.join(missing)}"}
    try:
        figs = importlib.import_module("nnbook.descent_figures")
        loss, start = figs.quadratic_loss, jnp.array(figs.QUADRATIC_START)
    except (ModuleNotFoundError, AttributeError):
        loss, start = optim.quadratic(jnp.diag(jnp.array([1.0, 9.0]))), jnp.array([-4.0, 1.5])
    etas = jnp.linspace(0.01, 0.6, 40)
    betas = jnp.linspace(0.0, 0.95, 20)
    steps = 30

    def vectorised():
        return optim.final_loss_grid(loss, start, etas, betas, steps)

    def one_setting(eta, beta):
        return loss(optim.momentum_descent(loss, start, eta, beta, steps)[-1])

    def python_loop():
        return jnp.array([[one_setting(e, b) for b in betas] for e in etas])

    grid_v, grid_l = vectorised(), python_loop()
    same = bool(jnp.allclose(jnp.nan_to_num(grid_v, posinf=1e300), jnp.nan_to_num(grid_l, posinf=1e300)))
    t_vec = per_call(vectorised)
    t_loop = per_call(python_loop, batches=5, min_batch_seconds=0.0)
    return {
        "status": "ok",
        "grid": f"{len(etas)} learning rates x {len(betas)} momenta, {steps} steps",
        "vectorised_ms": t_vec * 1e3,
        "python_loop_ms": t_loop * 1e3,
        "speedup": t_loop / t_vec,
        "same_results": same,
    }


PARTS = {"sweep": sweep, "gradient_modes": gradient_modes}


def measure(root=None) -> dict:
    out = {}
    for part in PARTS:
        try:
            out[part] = run_json(["-m", "benchmarks.speed", part], **({"root": root} if root else {}))
        except Exception as exc:
            out[part] = {"status": f"failed: {str(exc)[-800:]}"} if part == "sweep" else {"error": str(exc)[-800:]}
    return out


def main() -> None:
    part = sys.argv[1] if len(sys.argv) > 1 else ""
    if part not in PARTS:
        sys.exit(f"usage: python -m benchmarks.speed {{{'|'.join(PARTS)}}}")
    print(json.dumps(PARTS[part]()))


if __name__ == "__main__":
    sys.exit(main())
