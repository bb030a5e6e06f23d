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

__version__ = "0.1.0"
