"""Sequential, ModuleList and ModuleDict: indexing, mutation and the names they give."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn


def test_sequential_calls_in_order_and_indexes():
    mg.manual_seed(0)
    seq = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    x = mg.randn(5, 3)
    expected = seq[2](seq[1](seq[0](x)))
    np.testing.assert_array_equal(seq(x).data, expected.data)
    assert len(seq) == 3 and seq[-1] is seq[2]
    assert [type(m).__name__ for m in seq] == ["Linear", "ReLU", "Linear"]
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    tail = seq[1:]
    assert isinstance(tail, nn.Sequential) and list(tail._modules) == ["1", "2"] and tail[1] is seq[2]
    with pytest.raises(IndexError, match="index 3 is out of range for 3 modules"):
        seq[3]
    with pytest.raises(TypeError, match="holds Modules only"):
        nn.Sequential(nn.ReLU(), lambda x: x)


def test_sequential_from_ordered_dict_and_mutation():
    seq = nn.Sequential(OrderedDict([("hidden", nn.Linear(2, 3)), ("act", nn.Tanh())]))
    assert list(seq.state_dict()) == ["hidden.weight", "hidden.bias"]
    seq.append(nn.Linear(3, 1))
    assert list(seq._modules) == ["hidden", "act", "2"]
    seq[1] = nn.Sigmoid()
    assert isinstance(seq.act, nn.Sigmoid)

    numbered = nn.Sequential(nn.ReLU(), nn.Tanh(), nn.Sigmoid())
    del numbered[0]
    assert list(numbered._modules) == ["0", "1"] and isinstance(numbered[0], nn.Tanh)


def test_module_list():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(2)])
    layers.append(nn.Linear(2, 3))
    layers.extend([nn.ReLU()])
    layers.insert(1, nn.Tanh())
    assert len(layers) == 5
    assert [type(m).__name__ for m in layers] == ["Linear", "Tanh", "Linear", "Linear", "ReLU"]
    assert list(layers._modules) == ["0", "1", "2", "3", "4"]
    assert [n for n, _ in layers.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias", "3.weight", "3.bias"]
    assert layers[-1] is layers[4] and isinstance(layers[1:3], nn.ModuleList) and len(layers[1:3]) == 2
    del layers[1]
    assert [type(m).__name__ for m in layers] == ["Linear", "Linear", "Linear", "ReLU"]
    layers[3] = nn.GELU()
    assert isinstance(layers[3], nn.GELU)
    layers += [nn.Identity()]
    assert len(layers) == 5 and len(layers + [nn.ReLU()]) == 6

    class Holder(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])

    assert list(Holder().state_dict()) == ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"]
    with pytest.raises(TypeError, match="iterable of Modules"):
        layers.extend(nn.ReLU())
    with pytest.raises(TypeError, match="holds Modules only"):
        layers.append(3)
    with pytest.raises(NotImplementedError):
        layers(mg.ones(2))


def test_module_dict():
    heads = nn.ModuleDict({"a": nn.Linear(2, 1), "b": nn.Linear(2, 3)})
    heads["c"] = nn.ReLU()
    assert list(heads.keys()) == ["a", "b", "c"] and list(heads) == ["a", "b", "c"]
    assert [k for k, _ in heads.items()] == ["a", "b", "c"] and len(list(heads.values())) == 3
    assert "a" in heads and "z" not in heads and len(heads) == 3
    assert heads["b"].out_features == 3
    assert [n for n, _ in heads.named_parameters()] == ["a.weight", "a.bias", "b.weight", "b.bias"]
    assert isinstance(heads.pop("c"), nn.ReLU) and len(heads) == 2
    heads.update([("d", nn.Tanh())])
    del heads["d"]
    with pytest.raises(KeyError, match="no key 'zz'"):
        heads["zz"]
    heads.clear()
    assert len(heads) == 0


def test_containers_take_each_other_as_torch_does():
    a, b, c = nn.ReLU(), nn.Tanh(), nn.Sigmoid()
    inner = nn.ModuleList([a, b])
    assert list(nn.ModuleList(inner)) == [a, b]
    ml = nn.ModuleList([c])
    ml.extend(inner)
    ml += nn.Sequential(c)
    assert list(ml) == [c, a, b, c] and list(ml._modules) == ["0", "1", "2", "3"]
    with pytest.raises(TypeError, match="iterable of Modules"):
        ml.extend(nn.Linear(2, 2))
    d = nn.ModuleDict({"x": a})
    d.update(nn.ModuleDict({"y": b}))
    assert list(nn.ModuleDict(d).items()) == [("x", a), ("y", b)]


def test_sequential_and_modulelist_list_methods():
    a, b, c = nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2)
    seq = nn.Sequential(a).extend([b])
    seq.insert(0, c)
    assert list(seq) == [c, a, b] and [k for k, _ in seq.named_children()] == ["0", "1", "2"]
    assert seq.pop() is b and seq.pop(0) is c and list(seq) == [a]
    assert [name for name, _ in seq.named_parameters()] == ["0.weight", "0.bias"]
    ml = nn.ModuleList([a, b, c])
    assert ml.pop(1) is b and list(ml) == [a, c] and list(ml._modules) == ["0", "1"]
