"""Containers: ``Sequential``, ``ModuleList`` and ``ModuleDict``.

Children are registered under their index ("0", "1", ...) or key, so parameter names
read ``layers.0.weight`` exactly as in PyTorch.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Iterable, Iterator, Mapping, TypeVar

from .module import Module


def _index(container: Module, idx: Any) -> int:
    if not isinstance(idx, int):
        try:
            idx = idx.__index__()
        except AttributeError:
            raise TypeError(f"{type(container).__name__} indices must be integers or slices, got {type(idx).__name__}") from None
    n = len(container)
    if not -n <= idx < n:
        raise IndexError(f"{type(container).__name__}: index {idx} is out of range for {n} modules")
    return idx % n


def _module(container: Module, value: Any) -> Module:
    if not isinstance(value, Module):
        raise TypeError(f"{type(container).__name__} holds Modules only, got {type(value).__name__}")
    return value


_S = TypeVar("_S", bound="_ModuleSequence")


class _ModuleSequence(Module):
    """What ``Sequential`` and ``ModuleList`` share: children in order, reached by position."""

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self: _S, module: Module) -> _S:
        """Add ``module`` at the end; returns self."""
        self.add_module(str(len(self)), _module(self, module))
        return self

    def pop(self, index: int = -1) -> Module:
        """Remove and return the module at ``index`` (default the last)."""
        module = self[index]
        del self[index]
        return module

    def _insert(self, index: int, module: Module) -> None:
        items = list(self._modules.values())
        items.insert(index, _module(self, module))
        self._renumber(items)

    def _renumber(self, items: list) -> None:
        """Make ``items`` the children, named "0", "1", ... in order."""
        self._modules.clear()
        for i, module in enumerate(items):
            self._modules[str(i)] = module


class Sequential(_ModuleSequence):
    """Calls its children in order, each on the previous one's output.

    ``Sequential(Linear(3, 8), ReLU(), Linear(8, 2))`` names them "0", "1", "2";
    ``Sequential(OrderedDict(hidden=..., out=...))`` uses the given names. Indexing (ints
    and slices), ``len``, iteration, ``append``, ``extend``, ``insert``, ``pop``, assignment
    and deletion, as a list.
    """

    def __init__(self, *modules: Module | Mapping[str, Module]):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], Mapping):
            for name, module in modules[0].items():
                self.add_module(name, _module(self, module))
        else:
            for i, module in enumerate(modules):
                self.add_module(str(i), _module(self, module))

    def __getitem__(self, idx: int | slice) -> Module:
        if isinstance(idx, slice):
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        return list(self._modules.values())[_index(self, idx)]

    def __setitem__(self, idx: int, module: Module) -> None:
        key = list(self._modules)[_index(self, idx)]
        self.add_module(key, _module(self, module))

    def __delitem__(self, idx: int | slice) -> None:
        keys = list(self._modules)
        for key in keys[idx] if isinstance(idx, slice) else [keys[_index(self, idx)]]:
            del self._modules[key]
        if all(k.isdigit() for k in keys):  # keep "0", "1", ... contiguous
            self._renumber(list(self._modules.values()))

    def extend(self, modules: Iterable[Module]) -> "Sequential":
        """Append every module of ``modules`` (a list, a ModuleList, another Sequential); returns self."""
        for module in list(modules):
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> "Sequential":
        """Insert ``module`` before position ``index`` (list semantics; children renumbered); returns self."""
        self._insert(index, module)
        return self

    def forward(self, x: Any) -> Any:
        """x -> module_n(...module_1(module_0(x)))."""
        for module in self._modules.values():
            x = module(x)
        return x


class ModuleList(_ModuleSequence):
    """A list of modules whose parameters are registered (a plain list hides them).

    Supports indexing (ints and slices), ``len``, iteration, ``append``, ``extend`` (any
    iterable of modules, another ModuleList or a Sequential too), ``insert``, ``pop``,
    assignment and deletion; children are named "0", "1", ...
    """

    def __init__(self, modules: Iterable[Module] | None = None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, idx: int | slice) -> Any:
        if isinstance(idx, slice):
            return ModuleList(list(self._modules.values())[idx])
        return self._modules[str(_index(self, idx))]

    def __setitem__(self, idx: int, module: Module) -> None:
        self.add_module(str(_index(self, idx)), _module(self, module))

    def __delitem__(self, idx: int | slice) -> None:
        items = list(self._modules.values())
        if isinstance(idx, slice):
            del items[idx]
        else:
            del items[_index(self, idx)]
        self._renumber(items)

    def __iadd__(self, modules: Iterable[Module]) -> "ModuleList":
        return self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> "ModuleList":
        return ModuleList(list(self) + list(other))

    def extend(self, modules: Iterable[Module]) -> "ModuleList":
        """Append every module of ``modules``; returns self."""
        # A ModuleList or Sequential is an iterable of modules; a single other Module is not.
        iterable_module = isinstance(modules, (ModuleList, Sequential))
        if isinstance(modules, str) or (isinstance(modules, Module) and not iterable_module) \
                or not hasattr(modules, "__iter__"):
            raise TypeError(f"ModuleList.extend takes an iterable of Modules, got {type(modules).__name__}")
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Insert ``module`` before position ``index`` (list semantics)."""
        self._insert(index, module)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("ModuleList has no forward(); iterate over it and call the modules")


class ModuleDict(Module):
    """A dict of modules (insertion order kept) whose parameters are registered.

    ``ModuleDict({"enc": ..., "dec": ...})``; keys, values, items, ``[]``, ``in``, ``len``,
    iteration over keys, ``update`` (a mapping, another ModuleDict or (key, module) pairs),
    ``pop``, ``clear``.
    """

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        try:
            return self._modules[key]
        except KeyError:
            raise KeyError(f"ModuleDict has no key {key!r}; keys are {list(self._modules)}") from None

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, _module(self, module))

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def pop(self, key: str) -> Module:
        """Remove ``key`` and return its module."""
        module = self[key]
        del self._modules[key]
        return module

    def clear(self) -> None:
        self._modules.clear()

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        """Add or replace entries from a mapping or from (key, module) pairs."""
        pairs = modules.items() if isinstance(modules, (Mapping, ModuleDict)) else modules
        for pair in pairs:
            key, module = pair
            self[key] = module

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("ModuleDict has no forward(); index it and call the modules")
