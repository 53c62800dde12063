"""``Tensor``: one ndarray plus what reverse-mode autodiff needs (grad, grad_fn).

Methods are thin calls into the op functions of ``minigrad.ops``; the maths and
each op's gradient rule live there, one ``Function`` per op.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from . import autograd
from .dtypes import as_array, is_floating
from ._spelling import numpy_spelling
from .errors import BackwardError, ShapeError


class Size(int):
    """``Tensor.size``: the element count as an ``int`` (NumPy's ``a.size``) that can also be
    called as PyTorch's ``size()``: ``x.size()`` returns the shape tuple and ``x.size(dim)`` the
    length of axis ``dim`` (negative dims count from the end).

        >>> x = Tensor(np.zeros((2, 3)))
        >>> x.size, x.size(), x.size(-1)
        (6, (2, 3), 3)
    """

    def __new__(cls, n: int, shape: tuple = ()):
        self = super().__new__(cls, n)
        self.shape = tuple(shape)
        return self

    def __call__(self, dim: int | None = None):
        if dim is None:
            return self.shape
        ndim = len(self.shape)
        if not -ndim <= dim < ndim:
            raise IndexError(f"size: dim {dim} is out of range for a tensor with {ndim} dims (shape {self.shape})")
        return self.shape[dim]

    def __reduce__(self):  # pickles and copies as a plain int
        return (int, (int(self),))


class Tensor:
    """An n-dimensional array that can record the ops applied to it.

    ``data`` is the ndarray; ``grad`` is an ndarray of the same shape (or None) that
    accumulates over ``backward()`` calls; ``grad_fn`` is the node that made this
    tensor (None for leaves); ``name`` is an optional label for the graph tools.
    ``Tensor(array)`` shares an ndarray without copying (``from_numpy`` does the same);
    ``minigrad.tensor`` copies.
    """

    # _output_nr: which output of grad_fn this tensor is (0 but for ops with several outputs);
    # _tangents: None, or {forward-mode level: tangent} (minigrad.forward_ad)
    __slots__ = ("data", "grad", "grad_fn", "_output_nr", "_tangents", "_requires_grad", "_retains_grad", "name",
                 "__weakref__")
    __array_priority__ = 1000  # ndarray <op> Tensor defers to Tensor's reflected op

    def __init__(self, data: Any, dtype: Any = None, requires_grad: bool = False):
        if isinstance(data, Tensor):
            data = data.data
        self.data = as_array(data, dtype)
        self.grad = None
        self.grad_fn = None
        self._output_nr = 0
        self._tangents = None
        self.name = None
        self._retains_grad = False
        self._requires_grad = False
        self.requires_grad = requires_grad

    @classmethod
    def _make(cls, data: np.ndarray, requires_grad: bool, grad_fn) -> "Tensor":
        """Fast constructor for op outputs: no conversion, no checks."""
        t = object.__new__(Tensor)
        t.data = data
        t.grad = None
        t.grad_fn = grad_fn
        t._output_nr = 0
        t._tangents = None
        t.name = None
        t._requires_grad = requires_grad
        t._retains_grad = False
        return t

    # ------------------------------------------------------------------ autograd state
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        value = bool(value)
        if value and not is_floating(self.data.dtype):
            raise TypeError(f"requires_grad: only floating-point tensors can require grad, this one is {self.data.dtype}")
        if not value and self.grad_fn is not None:
            raise BackwardError("requires_grad: cannot turn off requires_grad on a non-leaf tensor; use detach()")
        self._requires_grad = value

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Set ``requires_grad`` in place and return the tensor."""
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded op."""
        return self.grad_fn is None

    def retain_grad(self) -> None:
        """Make a non-leaf tensor keep its ``.grad`` after backward."""
        if not self._requires_grad:
            raise BackwardError("retain_grad: tensor does not require grad")
        self._retains_grad = True

    def detach(self) -> "Tensor":
        """A new leaf sharing this tensor's data, cut off from the graph."""
        return Tensor._make(self.data, False, None)

    def backward(self, grad: Any = None, retain_graph: bool = False, create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``.

        ``grad`` (ndarray or Tensor, self's shape) is required unless self has one element.
        ``.grad`` is an ndarray, so it cannot carry a graph: for gradients to differentiate
        again, use ``minigrad.autograd.grad(..., create_graph=True)``.
        """
        if create_graph:
            raise BackwardError("backward(create_graph=True): .grad is a plain ndarray and cannot carry a graph; "
                                "use minigrad.autograd.grad(outputs, inputs, create_graph=True)")
        autograd.run_backward(self, self._initial_grad(grad), retain_graph=retain_graph)

    def _initial_grad(self, grad: Any) -> np.ndarray:
        """The gradient backward starts from: ``grad`` checked, or 1 for a one-element output."""
        if not self._requires_grad:
            raise BackwardError("backward: this tensor does not require grad and has no grad_fn")
        if grad is None:
            if self.data.size != 1:
                raise BackwardError(
                    f"backward: grad can be created implicitly only for a one-element output, "
                    f"this one has shape {self.data.shape}; pass grad= of that shape"
                )
            return np.ones_like(self.data)
        grad = np.asarray(grad.data if isinstance(grad, Tensor) else grad, dtype=self.data.dtype)
        if grad.shape != self.data.shape:
            raise ShapeError(f"backward: grad of shape {grad.shape} does not match output shape {self.data.shape}")
        return grad

    # ------------------------------------------------------------------ array protocol
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> "Size":
        """Number of elements, as NumPy's ``a.size`` (an ``int``); also callable as PyTorch's
        ``size()``: ``x.size()`` is the shape tuple and ``x.size(dim)`` is ``x.shape[dim]``."""
        return Size(self.data.size, self.data.shape)

    def numel(self) -> int:
        return self.data.size

    def dim(self) -> int:
        return self.data.ndim

    def numpy(self) -> np.ndarray:
        """The underlying ndarray (shared, not copied)."""
        return self.data

    def item(self) -> Any:
        """The single element as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item: only one-element tensors can be converted to a Python scalar, got shape {self.shape}")
        return self.data.item()

    def tolist(self) -> Any:
        return self.data.tolist()

    def __array__(self, dtype=None, copy=None):
        """``np.asarray(t)``: the data, outside the graph."""
        return self.data if dtype is None else self.data.astype(dtype)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """``np.exp(t)``, ``ndarray + t``: the minigrad op (``minigrad.interop``)."""
        from . import interop  # imported here: its tables are built from ops, which import Tensor

        return interop.array_ufunc(ufunc, method, *inputs, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        """``np.sum(t)``, ``np.concatenate([t, u])``: the minigrad op (``minigrad.interop``)."""
        from . import interop

        return interop.array_function(func, types, args, kwargs)

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def _scalar(self, op: str) -> Any:
        """The single element as a Python number, or ValueError naming ``op`` and the shape."""
        if self.data.size != 1:
            raise ValueError(f"{op}: only one-element tensors can be converted to a Python scalar, got shape {self.shape}")
        return self.data.item()

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(
                f"bool: the truth value of a tensor of shape {self.shape} is ambiguous; use .any() or .all()"
            )
        return bool(self.data.item())

    def __float__(self) -> float:
        return float(self._scalar("float"))

    def __int__(self) -> int:
        return int(self._scalar("int"))

    def __round__(self, ndigits: int | None = None):
        """``round(t)`` / ``round(t, 2)`` of a one-element tensor: a Python number, as ``round(float)``."""
        return round(self._scalar("round"), ndigits)

    def __format__(self, spec: str) -> str:
        """``f"{loss:.4f}"`` formats the value of a one-element tensor (PyTorch does so for 0-d);
        an empty spec gives ``str(t)``; a spec on a multi-element tensor is a TypeError."""
        if not spec:
            return str(self)
        if self.data.size != 1:
            raise TypeError(
                f"format: a format spec ({spec!r}) needs a one-element tensor, this one has shape {self.shape}; "
                "format t.item() or t.tolist() elements instead"
            )
        return format(self.data.item(), spec)

    def __index__(self) -> int:
        if not np.issubdtype(self.data.dtype, np.integer) or self.data.size != 1:
            raise TypeError("only one-element integer tensors can be used as an index")
        return int(self.data.item())

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extras = []
        if self.data.dtype not in (np.float32, np.int64, np.bool_):
            extras.append(f"dtype={self.data.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name}>")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extras) + ")"

    __hash__ = object.__hash__

    # ------------------------------------------------------------------ conversion
    def astype(self, dtype: Any) -> "Tensor":
        """Cast (differentiable between float dtypes)."""
        return ops.astype(self, dtype)

    def float(self) -> "Tensor":
        return ops.astype(self, np.float32)

    def double(self) -> "Tensor":
        return ops.astype(self, np.float64)

    def long(self) -> "Tensor":
        return ops.astype(self, np.int64)

    def bool(self) -> "Tensor":
        return ops.astype(self, np.bool_)

    def int(self) -> "Tensor":
        return ops.astype(self, np.int32)  # int32, as PyTorch's Tensor.int()

    def copy(self) -> "Tensor":
        """A differentiable copy with its own array."""
        return ops.astype(self, self.dtype)

    def clone(self) -> "Tensor":
        """PyTorch's name for ``copy()``: new array, gradient flows back to self."""
        return ops.astype(self, self.dtype)

    def to(self, dtype: Any) -> "Tensor":
        """Cast to ``dtype`` (self when it already has it, as PyTorch). minigrad runs on the CPU
        only: ``to("cpu")`` returns self; other devices and arguments are a TypeError."""
        if isinstance(dtype, str) and dtype.split(":")[0] == "cpu":
            return self
        try:
            target = np.dtype(dtype) if dtype is not None else None  # np.dtype(None) would be float64
        except TypeError:
            target = None
        if target is None:
            raise TypeError(
                f"to: expected a dtype (e.g. minigrad.float64) or the device 'cpu', got {dtype!r}; "
                "minigrad runs on the CPU only"
            )
        return self if target == self.data.dtype else ops.astype(self, target)

    # ------------------------------------------------------------------ arithmetic
    def __add__(self, other): return ops.add(self, other)
    def __radd__(self, other): return ops.add(other, self)
    def __sub__(self, other): return ops.sub(self, other)
    def __rsub__(self, other): return ops.sub(other, self)
    def __mul__(self, other): return ops.mul(self, other)
    def __rmul__(self, other): return ops.mul(other, self)
    def __truediv__(self, other): return ops.div(self, other)
    def __rtruediv__(self, other): return ops.div(other, self)
    def __pow__(self, other): return ops.pow(self, other)
    def __rpow__(self, other): return ops.pow(other, self)
    def __matmul__(self, other): return ops.matmul(self, other)
    def __rmatmul__(self, other): return ops.matmul(other, self)
    def __neg__(self): return ops.neg(self)
    def __pos__(self): return self
    def __abs__(self): return ops.abs(self)

    # // and % are not differentiable: their results never require grad
    def __floordiv__(self, other): return _outside_graph(np.floor_divide, "floor_divide", "//", self, other)
    def __rfloordiv__(self, other): return _outside_graph(np.floor_divide, "floor_divide", "//", other, self)
    def __mod__(self, other): return ops.remainder(self, other)
    def __rmod__(self, other): return ops.remainder(other, self)

    # ------------------------------------------------------------------ in-place
    def __iadd__(self, other):
        """``x += y``; ``-= *= /= **= //= %= &= |= ^=`` follow the same rules.

        - Grad mode off (inside ``no_grad``) or no operand requires grad: the result is
          written into ``x.data`` itself, so views of that array (slices, ``detach()``,
          an optimizer's reference) see it. A dtype that cannot hold the result
          (``int64 /= 2``) is a TypeError; ``y`` must broadcast to ``x``'s shape.
        - Grad mode on and ``x`` a leaf that requires grad: BackwardError, as in PyTorch.
        - Grad mode on and ``x`` a non-leaf requiring grad, or ``y`` requiring grad: the
          out-of-place result ``x + y`` is returned, which only rebinds the name ``x``:
          other references to the old tensor keep the old value.

        No version counter is kept: changing an array in place after an op saved it for
        backward (``z = a * w`` then ``a += 1``) changes that op's gradient silently.
        """
        return self._inplace(other, "+=")

    def __isub__(self, other): return self._inplace(other, "-=")
    def __imul__(self, other): return self._inplace(other, "*=")
    def __itruediv__(self, other): return self._inplace(other, "/=")
    def __ipow__(self, other): return self._inplace(other, "**=")
    def __ifloordiv__(self, other): return self._inplace(other, "//=")
    def __imod__(self, other): return self._inplace(other, "%=")
    def __iand__(self, other): return self._inplace(other, "&=")
    def __ior__(self, other): return self._inplace(other, "|=")
    def __ixor__(self, other): return self._inplace(other, "^=")

    def _inplace(self, other, symbol: str) -> "Tensor":
        """``self <symbol> other`` by the rules in ``__iadd__``'s docstring."""
        name, ufunc, graph_op = _INPLACE_OPS[symbol]
        if symbol in ("&=", "|=", "^="):
            _check_bitwise(symbol, self, other)
        operand = _operand(other)
        other_requires_grad = isinstance(other, Tensor) and other._requires_grad
        if autograd.is_grad_enabled() and (self._requires_grad or other_requires_grad):
            if self._requires_grad and self.grad_fn is None:
                raise BackwardError(
                    f"{symbol}: a leaf tensor that requires grad is used in an in-place operation; "
                    f"update it inside `with minigrad.no_grad():` or write y = x {symbol[:-1]} ... instead"
                )
            self._check_inplace_shape(symbol, operand)
            if graph_op is None:
                raise BackwardError(_not_differentiable(name, symbol))
            result = getattr(ops, graph_op)(self, other)
            if result.dtype != self.data.dtype:
                if not np.can_cast(result.dtype, self.data.dtype, casting="same_kind"):
                    raise TypeError(
                        f"{symbol}: the result of {self.data.dtype} {symbol[:-1]} {_dtype_name(operand)} is "
                        f"{result.dtype}, which cannot be stored in this {self.data.dtype} tensor"
                    )
                result = ops.astype(result, self.data.dtype)
            return result
        self._check_inplace_shape(symbol, operand)
        if not self.data.flags.writeable:
            raise ValueError(
                f"{symbol}: this tensor's array is read-only (an expand/broadcast_to result or a read-only "
                f"NumPy array); write y = x {symbol[:-1]} ... or copy() it first"
            )
        try:
            ufunc(self.data, operand, out=self.data)
        except TypeError as exc:
            raise TypeError(
                f"{symbol}: the result of {self.data.dtype} {symbol[:-1]} {_dtype_name(operand)} cannot be "
                f"stored in place in this {self.data.dtype} tensor ({exc})"
            ) from None
        return self

    def _check_inplace_shape(self, symbol: str, operand) -> None:
        shape, other_shape = self.data.shape, np.shape(operand)
        if other_shape == shape or other_shape == ():
            return
        try:
            result_shape = np.broadcast_shapes(shape, other_shape)
        except ValueError:
            raise ShapeError(f"{symbol}: shapes {shape} and {other_shape} cannot be broadcast together") from None
        if result_shape != shape:
            raise ShapeError(
                f"{symbol}: shapes {shape} and {other_shape} broadcast to {result_shape}, "
                f"but an in-place result must keep this tensor's shape {shape}"
            )

    # comparisons give bool tensors outside the graph
    def _compare(self, other, fn, symbol: str) -> "Tensor":
        ops._util.check_broadcast(f"{fn.__name__} ({symbol})", self, other)
        other = other.data if isinstance(other, Tensor) else other
        return Tensor._make(np.asarray(fn(self.data, other)), False, None)

    def __eq__(self, other):  # type: ignore[override]
        if other is None:  # as PyTorch: a plain False, not an elementwise comparison
            return False
        return self._compare(other, np.equal, "==")

    def __ne__(self, other):  # type: ignore[override]
        if other is None:
            return True
        return self._compare(other, np.not_equal, "!=")

    def __lt__(self, other): return self._compare(other, np.less, "<")
    def __le__(self, other): return self._compare(other, np.less_equal, "<=")
    def __gt__(self, other): return self._compare(other, np.greater, ">")
    def __ge__(self, other): return self._compare(other, np.greater_equal, ">=")

    # & | ^ ~: logical on bool tensors, bitwise on integer ones (NumPy and PyTorch); outside the graph
    def __and__(self, other): return _bitwise(np.bitwise_and, "&", self, other)
    def __rand__(self, other): return _bitwise(np.bitwise_and, "&", other, self)
    def __or__(self, other): return _bitwise(np.bitwise_or, "|", self, other)
    def __ror__(self, other): return _bitwise(np.bitwise_or, "|", other, self)
    def __xor__(self, other): return _bitwise(np.bitwise_xor, "^", self, other)
    def __rxor__(self, other): return _bitwise(np.bitwise_xor, "^", other, self)

    def __invert__(self):
        _check_bitwise("~", self)
        return Tensor._make(np.invert(self.data), False, None)

    # ------------------------------------------------------------------ elementwise
    def exp(self): return ops.exp(self)
    def log(self): return ops.log(self)
    def sqrt(self): return ops.sqrt(self)
    def abs(self): return ops.abs(self)
    def tanh(self): return ops.tanh(self)
    def erf(self): return ops.erf(self)
    def sigmoid(self): return ops.sigmoid(self)
    def relu(self): return ops.relu(self)
    def sin(self): return ops.sin(self)
    def cos(self): return ops.cos(self)
    def tan(self): return ops.tan(self)
    def arcsin(self): return ops.arcsin(self)
    def arccos(self): return ops.arccos(self)
    def arctan(self): return ops.arctan(self)
    def sinh(self): return ops.sinh(self)
    def cosh(self): return ops.cosh(self)
    def arcsinh(self): return ops.arcsinh(self)
    def arccosh(self): return ops.arccosh(self)
    def arctanh(self): return ops.arctanh(self)
    def log2(self): return ops.log2(self)
    def log10(self): return ops.log10(self)
    def log1p(self): return ops.log1p(self)
    def exp2(self): return ops.exp2(self)
    def expm1(self): return ops.expm1(self)
    def square(self): return ops.square(self)
    def reciprocal(self): return ops.reciprocal(self)
    def rsqrt(self): return ops.rsqrt(self)
    def sign(self): return ops.sign(self)
    def floor(self): return ops.floor(self)
    def ceil(self): return ops.ceil(self)
    def trunc(self): return ops.trunc(self)
    def round(self, decimals: int = 0): return ops.round(self, decimals)
    def arctan2(self, other): return ops.arctan2(self, other)
    def hypot(self, other): return ops.hypot(self, other)
    def logaddexp(self, other): return ops.logaddexp(self, other)
    def copysign(self, other): return ops.copysign(self, other)
    def fmod(self, other): return ops.fmod(self, other)
    def remainder(self, other): return ops.remainder(self, other)
    def lerp(self, end, weight): return ops.lerp(self, end, weight)
    # PyTorch's names
    asin, acos, atan, atan2, asinh, acosh, atanh = arcsin, arccos, arctan, arctan2, arcsinh, arccosh, arctanh
    def gelu(self, approximate: str = "none"): return ops.gelu(self, approximate=approximate)
    def maximum(self, other): return ops.maximum(self, other)
    def minimum(self, other): return ops.minimum(self, other)
    def clip(self, a_min=None, a_max=None, *, min=None, max=None): return ops.clip(self, a_min, a_max, min=min, max=max)  # noqa: A002,E501
    def masked_fill(self, mask, value): return ops.masked_fill(self, mask, value)
    def pow(self, exponent): return ops.pow(self, exponent)
    def clamp(self, min=None, max=None): return ops.clip(self, min=min, max=max)  # noqa: A002 (PyTorch's names)

    # elementwise tests: bool tensors outside the graph
    def isnan(self): return Tensor._make(np.isnan(self.data), False, None)
    def isinf(self): return Tensor._make(np.isinf(self.data), False, None)
    def isfinite(self): return Tensor._make(np.isfinite(self.data), False, None)

    # ------------------------------------------------------------------ reductions
    # NumPy spelling (axis=, keepdims=); @numpy_spelling turns PyTorch's dim=/keepdim= into a clear TypeError
    @numpy_spelling
    def sum(self, axis=None, keepdims: bool = False, dtype=None): return ops.sum(self, axis=axis, keepdims=keepdims, dtype=dtype)  # noqa: E501
    @numpy_spelling
    def mean(self, axis=None, keepdims: bool = False): return ops.mean(self, axis=axis, keepdims=keepdims)
    @numpy_spelling
    def max(self, axis=None, keepdims: bool = False): return ops.max(self, axis=axis, keepdims=keepdims)
    @numpy_spelling
    def min(self, axis=None, keepdims: bool = False): return ops.min(self, axis=axis, keepdims=keepdims)
    @numpy_spelling
    def var(self, axis=None, ddof: int = 0, keepdims: bool = False): return ops.var(self, axis=axis, ddof=ddof, keepdims=keepdims)
    @numpy_spelling
    def std(self, axis=None, ddof: int = 0, keepdims: bool = False): return ops.std(self, axis=axis, ddof=ddof, keepdims=keepdims)
    @numpy_spelling
    def logsumexp(self, axis=None, keepdims: bool = False): return ops.logsumexp(self, axis=axis, keepdims=keepdims)
    @numpy_spelling
    def argmax(self, axis=None, keepdims: bool = False): return ops.argmax(self, axis=axis, keepdims=keepdims)
    @numpy_spelling
    def argmin(self, axis=None, keepdims: bool = False): return ops.argmin(self, axis=axis, keepdims=keepdims)
    @numpy_spelling
    def softmax(self, axis: int = -1): return ops.softmax(self, axis=axis)
    @numpy_spelling
    def log_softmax(self, axis: int = -1): return ops.log_softmax(self, axis=axis)
    @numpy_spelling
    def prod(self, axis=None, keepdims: bool = False): return ops.prod(self, axis=axis, keepdims=keepdims)
    @numpy_spelling
    def cumsum(self, axis=None): return ops.cumsum(self, axis=axis)
    @numpy_spelling
    def cumprod(self, axis=None): return ops.cumprod(self, axis=axis)
    @numpy_spelling
    def logcumsumexp(self, axis: int): return ops.logcumsumexp(self, axis)
    @numpy_spelling
    def cummax(self, axis: int): return ops.cummax(self, axis)
    @numpy_spelling
    def cummin(self, axis: int): return ops.cummin(self, axis)
    @numpy_spelling
    def sort(self, axis=-1, descending: bool = False): return ops.sort(self, axis=axis, descending=descending)
    @numpy_spelling
    def argsort(self, axis=-1, descending: bool = False): return ops.argsort(self, axis=axis, descending=descending)
    @numpy_spelling
    def topk(self, k: int, axis: int = -1, largest: bool = True, sorted: bool = True): return ops.topk(self, k, axis, largest, sorted)  # noqa: A002,E501

    # any/all: bool results outside the graph
    @numpy_spelling
    def any(self, axis=None, keepdims: bool = False): return Tensor._make(np.asarray(self.data.any(axis=axis, keepdims=keepdims)), False, None)  # noqa: E501
    @numpy_spelling
    def all(self, axis=None, keepdims: bool = False): return Tensor._make(np.asarray(self.data.all(axis=axis, keepdims=keepdims)), False, None)  # noqa: E501

    # ------------------------------------------------------------------ shape
    def reshape(self, *shape): return ops.reshape(self, *shape)
    def view(self, *shape): return ops.reshape(self, *shape)
    @numpy_spelling
    def transpose(self, *args, axes=None):
        """Permute axes as NumPy: ``transpose(1, 0, 2)``, ``transpose((1, 0, 2))`` or
        ``transpose(axes=(1, 0, 2))``; no axes reverses them (like ``.T``)."""
        if axes is not None:
            if args:
                raise TypeError("transpose: give the axes positionally or as axes=, not both")
            args = (axes,)
        return ops.transpose(self, *args)

    @numpy_spelling
    def permute(self, *axes): return ops.permute(self, *axes)
    def swapaxes(self, axis1: int, axis2: int): return ops.swapaxes(self, axis1, axis2)
    @numpy_spelling
    def squeeze(self, axis=None): return ops.squeeze(self, axis)
    @numpy_spelling
    def unsqueeze(self, axis: int): return ops.unsqueeze(self, axis)
    def expand(self, *shape): return ops.expand(self, *shape)
    def broadcast_to(self, shape): return ops.broadcast_to(self, shape)
    def flatten(self, start_axis: int = 0, end_axis: int = -1): return ops.flatten(self, start_axis, end_axis)
    @numpy_spelling
    def take_along_axis(self, indices, axis): return ops.take_along_axis(self, indices, axis)
    @numpy_spelling
    def split(self, sections_or_indices, axis: int = 0): return ops.split(self, sections_or_indices, axis)
    @numpy_spelling
    def flip(self, axis=None): return ops.flip(self, axis)
    @numpy_spelling
    def roll(self, shift, axis=None): return ops.roll(self, shift, axis)
    @numpy_spelling
    def repeat(self, repeats, axis=None): return ops.repeat(self, repeats, axis)  # NumPy's repeat, not PyTorch's (tile)
    def tile(self, reps): return ops.tile(self, reps)
    def moveaxis(self, source, destination): return ops.moveaxis(self, source, destination)
    def diagonal(self, offset: int = 0, axis1: int = 0, axis2: int = 1): return ops.diagonal(self, offset, axis1, axis2)
    def trace(self, offset: int = 0, axis1: int = 0, axis2: int = 1): return ops.trace(self, offset, axis1, axis2)
    def tril(self, k: int = 0): return ops.tril(self, k)
    def triu(self, k: int = 0): return ops.triu(self, k)
    @numpy_spelling
    def unflatten(self, axis: int, sizes): return ops.unflatten(self, axis, sizes)
    @numpy_spelling
    def gather(self, axis: int, index): return ops.gather(self, axis, index)
    @numpy_spelling
    def scatter(self, axis: int, index, src): return ops.scatter(self, axis, index, src)
    @numpy_spelling
    def scatter_add(self, axis: int, index, src): return ops.scatter_add(self, axis, index, src)
    def masked_select(self, mask): return ops.masked_select(self, mask)
    def nonzero(self): return ops.nonzero(self)
    @numpy_spelling
    def chunk(self, chunks: int, axis: int = 0): return ops.chunk(self, chunks, axis)
    def matmul(self, other): return ops.matmul(self, other)
    def dot(self, other): return ops.dot(self, other)
    def inner(self, other): return ops.inner(self, other)
    def outer(self, other): return ops.outer(self, other)
    def kron(self, other): return ops.kron(self, other)

    def t(self) -> "Tensor":
        """Transpose a tensor of at most 2 dims (0-d and 1-d come back as they are), as PyTorch."""
        if self.data.ndim > 2:
            raise ValueError(
                f"t: expects a tensor with <= 2 dims, this one has {self.data.ndim} (shape {self.shape}); "
                "use swapaxes(a, b) or transpose(*axes)"
            )
        return ops.transpose(self)

    @property
    def T(self) -> "Tensor":
        return ops.transpose(self)

    def __getitem__(self, index): return ops.getitem(self, index)

    def __setitem__(self, index, value) -> None:
        """``x[index] = value`` writes into ``x.data`` (views of it change too).

        Allowed inside ``no_grad()`` (also on a leaf that requires grad, e.g. to initialise
        it) and whenever neither ``x`` nor ``value`` requires grad; assignment recorded in
        the graph is not supported: build the result with ``where``, ``masked_fill`` or
        ``concat`` instead.
        """
        value = self._check_write("__setitem__", value)
        if isinstance(index, tuple):
            index = tuple(i.data if isinstance(i, Tensor) else i for i in index)
        elif isinstance(index, Tensor):
            index = index.data
        self.data[index] = value

    def zero_(self) -> "Tensor":
        """Set every element to 0 in place and return self (rules as ``__setitem__``)."""
        return self._fill("zero_", 0)

    def fill_(self, value: Any) -> "Tensor":
        """Set every element to the scalar ``value`` in place and return self (rules as ``__setitem__``)."""
        return self._fill("fill_", value)

    def _fill(self, op: str, value: Any) -> "Tensor":
        value = self._check_write(op, value)
        if np.ndim(value) != 0:
            raise ShapeError(f"{op}: value must be a scalar or a 0-d tensor, got shape {np.shape(value)}")
        self.data[...] = value
        return self

    def _check_write(self, op: str, value: Any) -> Any:
        """Refuse a write into ``self.data`` that would corrupt the graph; return ``value``'s array."""
        if autograd.is_grad_enabled():
            if self._requires_grad:
                what = "a leaf tensor that requires grad" if self.grad_fn is None else "a tensor in the graph"
                raise BackwardError(
                    f"{op}: {what} is used in an in-place operation; assign inside "
                    "`with minigrad.no_grad():`, or build a new tensor with where/masked_fill/concat"
                )
            if isinstance(value, Tensor) and value._requires_grad:
                raise BackwardError(
                    f"{op}: assigning a tensor that requires grad would lose its graph; "
                    "build the result with where/masked_fill/concat instead"
                )
        if not self.data.flags.writeable:
            raise ValueError(
                f"{op}: this tensor's array is read-only (an expand/broadcast_to result or a read-only "
                "NumPy array); copy() it first"
            )
        return value.data if isinstance(value, Tensor) else value


# ---------------------------------------------------------------------- operator helpers

_INPLACE_OPS = {  # symbol: (NumPy name, ufunc, differentiable op in minigrad.ops or None)
    "+=": ("add", np.add, "add"),
    "-=": ("subtract", np.subtract, "sub"),
    "*=": ("multiply", np.multiply, "mul"),
    "/=": ("divide", np.true_divide, "div"),
    "**=": ("power", np.power, "pow"),
    "//=": ("floor_divide", np.floor_divide, None),
    "%=": ("remainder", np.remainder, None),
    "&=": ("bitwise_and", np.bitwise_and, None),
    "|=": ("bitwise_or", np.bitwise_or, None),
    "^=": ("bitwise_xor", np.bitwise_xor, None),
}


def _operand(x):
    """A Tensor's array; lists converted by the usual dtype rules; anything else as is."""
    if isinstance(x, Tensor):
        return x.data
    if isinstance(x, (list, tuple)):
        return as_array(x)
    return x


def _dtype_name(x) -> str:
    if isinstance(x, (np.ndarray, np.generic)):
        return str(x.dtype)
    return f"Python {type(x).__name__}"


def _not_differentiable(name: str, symbol: str) -> str:
    hint = "; for PyTorch's gradient of x % d write x - d * (x.detach() // d)" if name == "remainder" else ""
    return (
        f"{name} ({symbol.rstrip('=')}) is not differentiable and an operand requires grad; "
        f"apply it to detach()ed tensors or inside minigrad.no_grad(){hint}"
    )


def _outside_graph(ufunc, name: str, symbol: str, a, b) -> Tensor:
    """``a // b`` or ``a % b`` (NumPy's floor_divide, remainder); the result never requires grad."""
    if autograd.is_grad_enabled() and any(isinstance(x, Tensor) and x._requires_grad for x in (a, b)):
        raise BackwardError(_not_differentiable(name, symbol))
    ops._util.check_broadcast(name, a, b)
    return Tensor._make(np.asarray(ufunc(_operand(a), _operand(b))), False, None)


def _check_bitwise(symbol: str, *operands) -> None:
    """& | ^ ~ take bool (logical) or integer (bitwise) operands only, as NumPy and torch."""
    arrays = [_operand(x) for x in operands]
    for x in arrays:
        if isinstance(x, (np.ndarray, np.generic)) and x.dtype.kind in "biu":
            continue
        if isinstance(x, int):  # bool is an int
            continue
        names = " and ".join(_dtype_name(a) for a in arrays)
        raise TypeError(f"{symbol}: needs bool (logical) or integer (bitwise) operands, got {names}")


def _bitwise(ufunc, symbol: str, a, b) -> Tensor:
    _check_bitwise(symbol, a, b)
    ops._util.check_broadcast(ufunc.__name__, a, b)
    return Tensor._make(np.asarray(ufunc(_operand(a), _operand(b))), False, None)


autograd._Tensor = Tensor

from . import ops  # noqa: E402  (ops need Tensor defined; Tensor methods need ops at call time)
