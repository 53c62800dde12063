"""``Module``: the base class of every layer and model.

A module owns parameters, buffers and child modules, registered by plain attribute
assignment in the order they are assigned::

    class MLP(Module):
        def __init__(self):
            super().__init__()
            self.hidden = Linear(3, 8)   # registered as a child: keys "hidden.weight", "hidden.bias"
            self.out = Linear(8, 2)

        def forward(self, x):            # (B, 3) -> (B, 2)
            return self.out(self.hidden(x).relu())

Names are dotted paths (``layers.0.weight``), equal to PyTorch's for the same layer,
so a ``state_dict`` maps one-to-one onto the PyTorch equivalent.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable, Iterator, Mapping, NamedTuple

import numpy as np

from ..errors import StateDictError, StateDictShapeError
from ..tensor import Tensor
from .parameter import Parameter


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict`` returns: keys the module expected but the state lacked, and
    keys the state had but the module does not."""

    missing_keys: list
    unexpected_keys: list


def _addindent(text: str, spaces: int) -> str:
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


def _check_name(module: "Module", kind: str, name: Any) -> None:
    if not isinstance(name, str):
        raise TypeError(f"{kind} name must be a string, got {type(name).__name__}")
    if not name or "." in name:
        raise KeyError(f"{kind} name must be non-empty and cannot contain '.', got {name!r}")
    if hasattr(type(module), name):
        raise KeyError(f"cannot register {kind} {name!r}: {type(module).__name__} already has a class attribute of that name")


class Module:
    """Base class for layers and models: subclass it, assign parameters and submodules in
    ``__init__`` (after ``super().__init__()``), and define ``forward``.

    Calling the module calls ``forward``. ``training`` is True after construction;
    ``train()``/``eval()`` set it on the whole tree (Dropout reads it).
    """

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    # ------------------------------------------------------------------ calling
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # ------------------------------------------------------------------ registration
    def _registry(self, kind: str) -> OrderedDict:
        try:
            return self.__dict__[kind]
        except KeyError:
            raise AttributeError(
                f"cannot register anything on {type(self).__name__} before Module.__init__() is called; "
                "call super().__init__() first in your __init__"
            ) from None

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (or None, a declared but absent parameter such as ``bias=False``)."""
        params = self._registry("_parameters")
        _check_name(self, "parameter", name)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign {type(param).__name__} as parameter {name!r} of {type(self).__name__} "
                "(a Parameter or None is expected; wrap it in nn.Parameter)"
            )
        if name in self.__dict__ or name in self._buffers or name in self._modules:
            self._discard(name)
        params[name] = param

    def register_buffer(self, name: str, value: Any, persistent: bool = True) -> None:
        """Register a tensor that is state but not a parameter (e.g. running statistics).

        ``value`` is a Tensor, an ndarray or anything ``numpy.asarray`` takes (kept as a
        Tensor that never requires grad), or None. Persistent buffers go into
        ``state_dict`` after the module's own parameters.
        """
        buffers = self._registry("_buffers")
        _check_name(self, "buffer", name)
        if name in self._parameters or name in self._modules:
            raise KeyError(f"attribute {name!r} of {type(self).__name__} is already a parameter or submodule")
        if name in self.__dict__:
            self._discard(name)
        buffers[name] = None if value is None else _as_buffer(value)
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: "Module | None") -> None:
        """Register a child module under ``name`` (what ``self.name = module`` does)."""
        modules = self._registry("_modules")
        _check_name(self, "module", name)
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        if name in self.__dict__ or name in self._parameters or name in self._buffers:
            self._discard(name)
        modules[name] = module

    register_module = add_module

    def _discard(self, name: str) -> None:
        for kind in ("_parameters", "_buffers", "_modules"):
            self.__dict__[kind].pop(name, None)
        self.__dict__.pop(name, None)
        self._non_persistent_buffers.discard(name)

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, Parameter):
            self.register_parameter(name, value)
        elif isinstance(value, Module):
            self.add_module(name, value)
        else:
            d = self.__dict__
            if name in d.get("_parameters", ()):
                self.register_parameter(name, value)  # None, or a TypeError for anything else
            elif name in d.get("_modules", ()):
                if value is not None:
                    raise TypeError(
                        f"cannot assign {type(value).__name__} as child module {name!r} of {type(self).__name__} "
                        "(a Module or None is expected)"
                    )
                d["_modules"][name] = None
            elif name in d.get("_buffers", ()):
                d["_buffers"][name] = None if value is None else _as_buffer(value)
            else:
                object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        # only called when normal lookup fails: parameters, buffers and children live in dicts
        d = self.__dict__
        for kind in ("_parameters", "_buffers", "_modules"):
            registry = d.get(kind)
            if registry is not None and name in registry:
                return registry[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for kind in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__.get(kind, ()):
                del self.__dict__[kind][name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self) -> list:
        keys = list(super().__dir__()) + list(self._parameters) + list(self._buffers) + list(self._modules)
        return sorted(set(keys))

    # ------------------------------------------------------------------ traversal
    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, "Module"]]:
        """(dotted name, module) for this module ("" name) and every descendant, pre-order;
        a module reachable twice is yielded once unless ``remove_duplicate=False``."""
        stack: list[tuple[str, Module]] = [(prefix, self)]
        seen = set() if memo is None else memo
        while stack:  # iterative pre-order, children in registration order
            name, module = stack.pop()
            if remove_duplicate:
                if id(module) in seen:
                    continue
                seen.add(id(module))
            yield name, module
            children = [(name + ("." if name else "") + child_name, child)
                        for child_name, child in module._modules.items() if child is not None]
            stack.extend(reversed(children))

    def modules(self) -> Iterator["Module"]:
        """This module and every descendant, each once."""
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        """(name, module) of the direct children, each module once."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator["Module"]:
        """The direct children."""
        for _, module in self.named_children():
            yield module

    def _named_members(self, kind: str, prefix: str, recurse: bool, remove_duplicate: bool) -> Iterator[tuple[str, Tensor]]:
        seen: set[int] = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in module.__dict__[kind].items():
                if value is None:
                    continue
                if remove_duplicate:
                    if id(value) in seen:
                        continue
                    seen.add(id(value))
                yield module_prefix + ("." if module_prefix else "") + name, value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) in registration order; a shared parameter appears once
        (under its first name) unless ``remove_duplicate=False``."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter once, in registration order (what an optimizer takes)."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, buffer) in registration order."""
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    def num_parameters(self, trainable_only: bool = False) -> int:
        """Total number of scalars in the (distinct) parameters."""
        return int(sum(p.data.size for p in self.parameters() if p.requires_grad or not trainable_only))

    def get_submodule(self, target: str) -> "Module":
        """The descendant at dotted path ``target`` ("" is this module)."""
        module: Module = self
        if target == "":
            return module
        for part in target.split("."):
            child = module._modules.get(part)
            if child is None:
                raise AttributeError(f"{type(module).__name__} has no submodule {part!r} (looking up {target!r})")
            module = child
        return module

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at dotted path ``target`` (``"layers.0.weight"``)."""
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        param = module._parameters.get(name)
        if param is None:
            raise AttributeError(f"{type(module).__name__} has no parameter {name!r} (looking up {target!r})")
        return param

    # ------------------------------------------------------------------ state
    def _state_items(self) -> Iterator[tuple[str, Tensor]]:
        """Per module, PyTorch's order: its parameters, its persistent buffers, then each child."""
        for prefix, module in self.named_modules(remove_duplicate=False):
            dot = prefix + "." if prefix else ""
            for name, param in module._parameters.items():
                if param is not None:
                    yield dot + name, param
            for name, buf in module._buffers.items():
                if buf is not None and name not in module._non_persistent_buffers:
                    yield dot + name, buf

    def state_dict(self, keep_vars: bool = False) -> "OrderedDict[str, np.ndarray]":
        """OrderedDict of dotted name -> a COPY of the value as an ndarray (parameters, then
        persistent buffers, module by module as PyTorch orders them). A shared parameter
        appears under each of its names. ``keep_vars=True`` gives the tensors themselves."""
        state: OrderedDict[str, Any] = OrderedDict()
        for key, value in self._state_items():
            state[key] = value if keep_vars else value.data.copy()
        return state

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy values from ``state_dict`` (name -> ndarray or Tensor) into this module's
        parameters and buffers, in place, keeping each one's dtype (so an optimizer holding
        the parameter objects sees the new values).

        Nothing is copied unless every shared key fits. A shape mismatch raises
        ``StateDictShapeError`` (a ``ShapeError``) naming the key and both shapes; with
        ``strict=True`` missing or unexpected keys raise ``StateDictError`` listing them. Both
        are ``RuntimeError``s too, as PyTorch's. Returns
        ``IncompatibleKeys(missing_keys, unexpected_keys)``.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"load_state_dict: expected a mapping of name -> array, got {type(state_dict).__name__}")
        targets = OrderedDict(self._state_items())
        missing = [key for key in targets if key not in state_dict]
        unexpected = [key for key in state_dict if key not in targets]
        updates: list[tuple[Tensor, np.ndarray]] = []
        mismatched = []
        for key, target in targets.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            array = value.data if isinstance(value, Tensor) else np.asarray(value)
            if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
                raise TypeError(f"load_state_dict: value for {key!r} is not a numeric array (dtype {array.dtype})")
            if array.shape != target.data.shape:
                mismatched.append(
                    f"size mismatch for {key}: copying a param with shape {array.shape} from checkpoint, "
                    f"the shape in current model is {target.data.shape}."
                )
            updates.append((target, array))
        errors = list(mismatched)
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ". ")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ". ")
        if errors:
            message = f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(errors)
            raise StateDictShapeError(message) if mismatched else StateDictError(message)
        for target, array in updates:
            target.data[...] = array  # in place: same array object, dtype kept
        return IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ modes and bulk changes
    def train(self, mode: bool = True) -> "Module":
        """Set ``training`` on this module and every descendant; returns self."""
        if not isinstance(mode, bool):
            raise ValueError(f"train: mode must be a bool, got {type(mode).__name__}")  # PyTorch: ValueError
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> "Module":
        """``train(False)``: dropout off. Returns self."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        """Set ``requires_grad`` on every parameter (freeze with False); returns self."""
        for param in self.parameters():
            param.requires_grad = requires_grad
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's ``.grad`` to None (or to zeros with ``set_to_none=False``)."""
        for param in self.parameters():
            if set_to_none or param.grad is None:
                param.grad = None
            else:
                param.grad = np.zeros_like(param.data)

    def apply(self, fn: Callable[["Module"], Any]) -> "Module":
        """Call ``fn`` on every child (recursively) and then on self; returns self.
        Typical use: custom initialisation."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    def to(self, dtype: Any) -> "Module":
        """Convert every parameter (and floating-point buffer) to the floating dtype
        ``dtype``, in place: the Parameter objects stay the same, their ``.data`` (and
        ``.grad``) change dtype. ``"cpu"`` is accepted and does nothing (there is only the CPU).
        """
        if isinstance(dtype, str) and dtype == "cpu":
            return self
        dtype = np.dtype(dtype)
        if not np.issubdtype(dtype, np.floating):
            raise TypeError(f"to: modules can only be converted to a floating dtype, got {dtype}")
        for param in self.parameters():
            param.data = param.data.astype(dtype, copy=False)
            if param.grad is not None:
                param.grad = param.grad.astype(dtype, copy=False)
        for buf in self.buffers():
            if np.issubdtype(buf.data.dtype, np.floating):
                buf.data = buf.data.astype(dtype, copy=False)
        return self

    def double(self) -> "Module":
        """``to(float64)`` (gradcheck uses it)."""
        return self.to(np.float64)

    def float(self) -> "Module":
        """``to(float32)``."""
        return self.to(np.float32)

    # ------------------------------------------------------------------ printing
    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's repr line; layers override it."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        lines = extra.split("\n") if extra else []
        for name, module in self._modules.items():
            lines.append(f"({name}): " + _addindent(repr(module), 2))
        main = type(self).__name__ + "("
        if lines:
            if len(lines) == 1 and not self._modules:
                main += lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"


def _as_buffer(value: Any) -> Tensor:
    if isinstance(value, Tensor):
        if value.requires_grad:
            return value.detach()
        return value
    array = np.asarray(value)
    if array.dtype == object:
        raise TypeError(f"register_buffer: cannot store a {type(value).__name__} as a buffer (non-numeric)")
    return Tensor(array)
