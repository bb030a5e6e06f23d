"""A tiny reverse-mode automatic differentiation engine on scalars.

Taught in the chapter "Backpropagation: the chain rule, run backwards"
(chapters/05_backpropagation.ipynb), in the spirit of Karpathy's micrograd.
Every arithmetic operation on :class:`Value` objects records a node of a
computation graph: its result, its inputs, and a small function that knows the
*local* derivative of this one operation. :meth:`Value.backward` visits the
graph from the output back to the inputs and multiplies the local derivatives
together: the chain rule, run backwards.

Pure Python floats, no arrays, no JAX: slow, but every step can be read.
(What a gradient costs in JAX is counted in :mod:`nnbook.xla_cost`.)
"""

from __future__ import annotations

import math


class Value:
    """A scalar that remembers how it was computed.

    ``data`` is the number, ``grad`` the derivative of the final
    output with respect to it (filled in by :meth:`backward`),
    ``parents`` the values it was computed from and ``op`` the name
    of that operation.
    """

    def __init__(self, data, parents=(), op="", label=""):
        self.data = float(data)
        self.grad = 0.0
        self.parents = tuple(parents)
        self.op = op
        self.label = label
        self._backward = lambda: None  # leaves have nothing to pass on

    def __repr__(self):
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g})"

    # Each operation computes its output, then defines how the
    # output's gradient flows to its inputs: local derivative times
    # out.grad. Gradients are *added* (+=): a value used twice
    # receives gradient from both uses.

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():  # d(a + b)/da = 1, d(a + b)/db = 1
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():  # d(a b)/da = b, d(a b)/db = a
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __pow__(self, k):
        assert isinstance(k, (int, float)), "constant exponents only"
        out = Value(self.data**k, (self,), f"**{k:g}")

        def _backward():  # d(a^k)/da = k a^(k-1)
            self.grad += k * self.data ** (k - 1) * out.grad

        out._backward = _backward
        return out

    def tanh(self):
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def _backward():  # d tanh(a)/da = 1 - tanh(a)^2
            self.grad += (1.0 - t * t) * out.grad

        out._backward = _backward
        return out

    def exp(self):
        e = math.exp(self.data)
        out = Value(e, (self,), "exp")

        def _backward():  # d e^a/da = e^a
            self.grad += e * out.grad

        out._backward = _backward
        return out

    def relu(self):
        out = Value(max(self.data, 0.0), (self,), "relu")

        def _backward():  # 1 where a > 0, else 0 (we pick 0 at a = 0)
            self.grad += (self.data > 0) * out.grad

        out._backward = _backward
        return out

    # Everything else is built from the operations above.
    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other)

    def __truediv__(self, other):
        return self * other**-1

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __rsub__(self, other):
        return Value(other) - self

    def __rtruediv__(self, other):
        return Value(other) * self**-1

    def backward(self):
        """Fill in ``grad`` of every value this one depends on."""
        order = topological_order(self)
        for node in order:
            node.grad = 0.0  # every backward pass starts afresh
        self.grad = 1.0  # d out / d out
        for node in reversed(order):  # each node before its inputs
            node._backward()


def topological_order(root: Value) -> list[Value]:
    """Every value ``root`` depends on, each after all its parents.

    A depth-first search, recursive for readability: a chain of more
    than about a thousand nested operations exceeds Python's
    recursion limit.
    """
    order, seen = [], set()

    def visit(node):
        if id(node) not in seen:
            seen.add(id(node))
            for parent in node.parents:
                visit(parent)
            order.append(node)

    visit(root)
    return order
