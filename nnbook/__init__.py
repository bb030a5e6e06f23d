"""Shared code of the book: what chapters teach once and reuse by name.

Modules are named for what they hold: ``calculus`` (derivative checks,
bisection), ``data`` (every data set), ``neurons`` (the neuron, the dense
layer, accuracy and the one gradient-descent routine), ``activations`` and
``losses``, ``optim`` (momentum, SGD, sweeps), ``autodiff`` (a scalar reverse-
mode engine), ``xla_cost`` (counting what a computation costs), ``mlp``,
``sliders`` (the two faces of an interactive figure), ``style`` (plot style).
A module imports only modules taught in its chapter or earlier
(nbtests/test_book_sources.py holds the table).
"""

import os
import sys
from importlib import metadata

__version__ = "0.1.0"

# Compiling is most of a chapter's cold Run All: its many small XLA programs
# (benchmarks/execution.py measures it). Two XLA flags make them compile
# faster; XLA reads XLA_FLAGS once, when JAX first computes, so they are set
# here: every chapter imports nnbook before it computes
# (nbtests/test_compile_flags.py runs each chapter's setup cell to check it).
# - XLA's CPU compiler has two code generators for fused loops; the newer,
#   MLIR-based "fusion emitters" (its default) took 25-40 % longer to compile
#   this book's chapters.
# - LLVM's optimisation passes, after XLA's own, are a third to a half of
#   the compile time of a small program, and most programs here run once, for
#   microseconds. Level 0 skips them.
# The price is run time: unoptimised loops run 2-3 times slower. So the few
# programs that run long (training runs, sweeps, what a slider calls on every
# move, what a chapter times) ask for the optimisations back, one by one:
# ``jax.jit(f, compiler_options=OPTIMISED)``. Both settings compute the same
# operations; a few results differ in the last bit or two. A flag XLA does not
# know stops the process, so the flags are set only for the jaxlib the book is
# tested with (requirements.txt), and never over a reader's own choice in
# XLA_FLAGS.
FAST_COMPILE_FLAGS = ("--xla_cpu_use_fusion_emitters=false", "--xla_backend_optimization_level=0")
OPTIMISED = {"xla_backend_optimization_level": 2}  # XLA's default: for programs that run long


def optimised(jitted, **jit_options):
    """The Python function under ``jitted`` (a ``jax.jit`` function), compiled
    again with OPTIMISED: for a caller that runs it on its own, and often (a
    slider's frame). A function jitted with its own compiler options cannot be
    called inside another compiled function, so ``jitted`` itself stays plain
    for the callers that do. ``jit_options``: the same static arguments."""
    import jax

    return jax.jit(jitted.__wrapped__, compiler_options=OPTIMISED, **jit_options)
TESTED_JAXLIB = "0.10."


def _flag_name(flag: str) -> str:
    return flag.split("=")[0]


def _use_fast_compile_flags() -> bool:
    """Add FAST_COMPILE_FLAGS to XLA_FLAGS; True if XLA will compile with them."""
    flags = os.environ.get("XLA_FLAGS", "").split()
    if all(flag in flags for flag in FAST_COMPILE_FLAGS):
        return True
    try:
        tested = metadata.version("jaxlib").startswith(TESTED_JAXLIB)
    except metadata.PackageNotFoundError:
        tested = False
    jax_started = "jax" in sys.modules and sys.modules["jax"]._src.xla_bridge.backends_are_initialized()
    readers_own = {_flag_name(f) for f in flags} & {_flag_name(f) for f in FAST_COMPILE_FLAGS}
    if not tested or jax_started or readers_own:
        return False
    os.environ["XLA_FLAGS"] = " ".join([*flags, *FAST_COMPILE_FLAGS])
    return True


fast_compile = _use_fast_compile_flags()
