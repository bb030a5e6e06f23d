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
# (benchmarks/execution.py measures it). XLA's CPU compiler has two code
# generators for fused loops; the newer, MLIR-based "fusion emitters" (its
# default) took 25-40 % longer to compile this book's chapters. They run big
# training steps faster (chapter 6's full-batch Adam step: 455 against 673 us),
# so chapter 7, mostly training, is about 10 % slower with the older ones, and
# every other chapter faster (README, "Targets"). Both compute the same
# operations; a few results differ in the last bit or two. XLA reads XLA_FLAGS once, when
# JAX first computes, so the flag is set here: every chapter imports nnbook
# before it computes (nbtests/test_compile_flags.py runs each chapter's setup
# cell to check it). A flag XLA does not know stops the process, so it is set
# only for the jaxlib the book is tested with (requirements.txt), and never
# over a reader's own choice in XLA_FLAGS.
FAST_COMPILE_FLAG = "--xla_cpu_use_fusion_emitters=false"
TESTED_JAXLIB = "0.10."


def _use_fast_compile_flag() -> bool:
    """Add FAST_COMPILE_FLAG to XLA_FLAGS; True if XLA will compile with it."""
    flags = os.environ.get("XLA_FLAGS", "")
    if FAST_COMPILE_FLAG in flags.split():
        return True
    try:
        tested = metadata.version("jaxlib").startswith(TESTED_JAXLIB)
    except metadata.PackageNotFoundError:
        tested = False
    jax_started = "jax" in sys.modules and sys.modules["jax"]._src.xla_bridge.backends_are_initialized()
    if not tested or jax_started or "xla_cpu_use_fusion_emitters" in flags:
        return False
    os.environ["XLA_FLAGS"] = f"{flags} {FAST_COMPILE_FLAG}".strip()
    return True


fast_compile = _use_fast_compile_flag()
