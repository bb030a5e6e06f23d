"""Shared code of the book: what chapters teach once and reuse by name.

Modules are named for what they hold: ``calculus`` (derivative checks),
``sliders`` (the two faces of an interactive figure), ``style`` (plot style),
``optim`` (gradient descent and friends), ...
"""

__version__ = "0.1.0"
