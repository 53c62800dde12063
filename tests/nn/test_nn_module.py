"""Module semantics: registration, traversal, state_dict round trips and error messages,
modes, zero_grad, dtype conversion, printing."""

from __future__ import annotations

import copy
from collections import OrderedDict

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(3, 4)
        self.scale = nn.Parameter(np.ones(4, dtype=np.float32))
        self.register_buffer("steps", np.zeros((), dtype=np.int64))
        self.register_buffer("cache", np.zeros(2, dtype=np.float32), persistent=False)
        self.norm = nn.LayerNorm(4)

    def forward(self, x):
        return self.norm(self.proj(x) * self.scale)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 3)
        self.layers = nn.ModuleList([Block(), Block()])
        self.head = nn.Linear(4, 2, bias=False)

    def forward(self, idx):
        x = self.embed(idx)
        for layer in self.layers:
            x = layer(x)[..., :3]
        return self.head(mg.pad(x, [(0, 0)] * (x.ndim - 1) + [(0, 1)]))


BLOCK_KEYS = ["scale", "steps", "proj.weight", "proj.bias", "norm.weight", "norm.bias"]
NET_KEYS = ["embed.weight"] + [f"layers.{i}.{k}" for i in (0, 1) for k in BLOCK_KEYS] + ["head.weight"]


# ---------------------------------------------------------------- registration and traversal


def test_named_parameters_are_dotted_and_in_registration_order():
    # module by module (pre-order), each module's own parameters first: PyTorch's order
    names = [name for name, _ in Net().named_parameters()]
    assert names == [k for k in NET_KEYS if not k.endswith("steps")]
    assert [n for n, _ in Block().named_parameters(prefix="blk", recurse=False)] == ["blk.scale"]
    assert [n for n, _ in Block().named_parameters(prefix="blk")][:2] == ["blk.scale", "blk.proj.weight"]


def test_modules_children_and_buffers():
    net = Net()
    assert [n for n, _ in net.named_children()] == ["embed", "layers", "head"]
    assert list(net.children())[2] is net.head
    assert [n for n, _ in net.named_modules()] == [
        "", "embed", "layers", "layers.0", "layers.0.proj", "layers.0.norm", "layers.1", "layers.1.proj",
        "layers.1.norm", "head",
    ]
    assert len(list(net.modules())) == 10
    assert [n for n, _ in net.named_buffers()] == ["layers.0.steps", "layers.0.cache", "layers.1.steps", "layers.1.cache"]
    assert all(isinstance(b, mg.Tensor) and not b.requires_grad for b in net.buffers())
    assert net.get_submodule("layers.1.proj") is net.layers[1].proj
    assert net.get_parameter("layers.1.proj.bias") is net.layers[1].proj.bias
    with pytest.raises(AttributeError, match="no submodule 'nope'"):
        net.get_submodule("layers.nope")


def test_shared_parameters_and_modules_are_counted_once():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(7, 3)
            self.out = nn.Linear(3, 7)
            self.out.weight = self.embed.weight  # weight tying

    tied = Tied()
    assert [n for n, _ in tied.named_parameters()] == ["embed.weight", "out.bias"]
    assert len(list(tied.parameters())) == 2
    assert tied.num_parameters() == 7 * 3 + 7
    assert list(tied.state_dict()) == ["embed.weight", "out.weight", "out.bias"]  # PyTorch keeps both names
    tied.load_state_dict(tied.state_dict())

    shared = nn.Linear(2, 2)
    seq = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(seq.parameters())) == 2
    assert [n for n, _ in seq.named_parameters(remove_duplicate=False)] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert len(list(seq.modules())) == 3


def test_assignment_rules():
    m = nn.Linear(2, 3)
    with pytest.raises(TypeError, match=r"cannot assign Tensor as parameter 'weight'.*nn.Parameter"):
        m.weight = mg.ones(3, 2)
    m.bias = None  # a parameter may be set to None (declared but absent)
    assert m.bias is None and [n for n, _ in m.named_parameters()] == ["weight"]
    m.bias = nn.Parameter(np.zeros(3, dtype=np.float32))
    assert [n for n, _ in m.named_parameters()] == ["weight", "bias"]
    m.note = "plain attributes are not registered"
    assert "note" not in dict(m.named_parameters())
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'missing'"):
        m.missing
    del m.bias
    assert [n for n, _ in m.named_parameters()] == ["weight"]
    with pytest.raises(KeyError, match="class attribute"):
        m.register_parameter("forward", nn.Parameter(np.zeros(1, dtype=np.float32)))


def test_forgetting_super_init_gives_a_clear_error():
    class Broken(nn.Module):
        def __init__(self):
            self.layer = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Broken()


def test_forward_not_defined():
    with pytest.raises(NotImplementedError, match="Module does not define forward"):
        nn.Module()(1)


# ---------------------------------------------------------------- state_dict


def test_state_dict_order_values_are_copies():
    net = Net()
    state = net.state_dict()
    assert isinstance(state, OrderedDict)
    assert list(state) == NET_KEYS  # per module: parameters, then persistent buffers, then children
    assert all(isinstance(v, np.ndarray) for v in state.values())
    state["head.weight"][...] = 42.0
    assert not np.any(net.head.weight.data == 42.0)
    assert net.state_dict(keep_vars=True)["head.weight"] is net.head.weight


def test_load_state_dict_round_trip_in_place_keeping_dtype():
    mg.manual_seed(0)
    a, b = Net(), Net()
    weight = b.head.weight
    array = weight.data
    state = {k: (mg.tensor(v.astype(np.float64)) if i % 2 else v.astype(np.float64))
             for i, (k, v) in enumerate(a.state_dict().items())}
    result = b.load_state_dict(state)  # ndarrays and Tensors, float64 values
    assert result == ([], []) and result.missing_keys == [] and result.unexpected_keys == []
    assert b.head.weight is weight and b.head.weight.data is array  # the same objects: optimizers still see them
    assert b.head.weight.dtype == np.float32
    for (k, va), vb in zip(a.state_dict().items(), b.state_dict().values()):
        np.testing.assert_array_equal(va, vb, err_msg=k)
    idx = np.array([[1, 2, 3]])
    np.testing.assert_array_equal(a(idx).data, b(idx).data)


def test_load_state_dict_strict_lists_missing_and_unexpected_keys():
    m = nn.Linear(3, 2)
    state = m.state_dict()
    del state["bias"]
    state["extra.weight"] = np.zeros(1)
    before = m.weight.data.copy()
    message = (
        "Error(s) in loading state_dict for Linear:\n"
        "\tMissing key(s) in state_dict: \"bias\". \n"
        "\tUnexpected key(s) in state_dict: \"extra.weight\". "
    )
    with pytest.raises(nn.StateDictError) as info:
        m.load_state_dict({k: v + 1 for k, v in state.items()})
    assert str(info.value) == message
    assert isinstance(info.value, KeyError) and isinstance(info.value, mg.MinigradError)
    assert isinstance(info.value, RuntimeError)  # PyTorch's class for this mistake
    np.testing.assert_array_equal(m.weight.data, before)  # nothing copied on error

    result = m.load_state_dict({k: v + 1 for k, v in state.items()}, strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["extra.weight"]
    np.testing.assert_array_equal(m.weight.data, before + 1)


def test_load_state_dict_shape_mismatch_names_key_and_shapes():
    m = nn.Linear(3, 2)
    bad = {"weight": np.zeros((3, 2)), "bias": np.zeros(2)}
    expected = (r"size mismatch for weight: copying a param with shape \(3, 2\) from checkpoint, "
                r"the shape in current model is \(2, 3\)")
    for strict in (True, False):
        with pytest.raises(mg.ShapeError, match=expected):
            m.load_state_dict(bad, strict=strict)
        with pytest.raises(RuntimeError, match=expected):  # as PyTorch raises it
            m.load_state_dict(bad, strict=strict)
    with pytest.raises(TypeError, match="not a numeric array"):
        m.load_state_dict({"weight": np.array([["a"] * 3] * 2), "bias": np.zeros(2)})
    with pytest.raises(TypeError, match="mapping"):
        m.load_state_dict([("weight", np.zeros((2, 3)))])


def test_non_persistent_buffers_are_not_in_state_dict():
    blk = Block()
    assert "cache" not in blk.state_dict() and "steps" in blk.state_dict()
    blk.steps = np.array(5)  # assignment to a registered buffer keeps it a buffer
    assert isinstance(blk.steps, mg.Tensor) and blk.state_dict()["steps"] == 5
    other = Block()
    other.load_state_dict(blk.state_dict())
    assert other.steps.item() == 5


# ---------------------------------------------------------------- modes, grads, dtypes


def test_train_eval_propagate():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.layers.train()
    assert net.layers[1].norm.training and not net.training
    with pytest.raises(ValueError, match="must be a bool"):  # PyTorch raises ValueError here too
        net.train("no")


def test_zero_grad_and_requires_grad():
    net = Net()
    net(np.array([[1, 2]])).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.any() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.embed.requires_grad_(False)
    assert net.num_parameters(trainable_only=True) == net.num_parameters() - 30


def test_apply_visits_children_first():
    seen = []
    net = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU()))
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen == ["Linear", "ReLU", "Sequential", "Sequential"]


def test_to_double_and_float_convert_in_place():
    net = Net()
    net(np.array([[1, 2]])).sum().backward()
    params = list(net.parameters())
    assert net.double() is net
    assert all(a is b for a, b in zip(net.parameters(), params))  # the same Parameter objects
    assert all(p.dtype == np.float64 and p.grad.dtype == np.float64 for p in net.parameters())
    assert net.layers[0].steps.dtype == np.int64  # integer buffers are left alone
    assert net(np.array([[1, 2]])).dtype == np.float64
    net.float()
    assert all(p.dtype == np.float32 for p in net.parameters())
    assert net.to("cpu") is net
    with pytest.raises(TypeError, match="floating"):
        net.to(np.int32)


def test_deepcopy_is_independent():
    net = Net()
    clone = copy.deepcopy(net)
    clone.head.weight.data[...] = 0
    assert np.any(net.head.weight.data != 0)
    assert isinstance(clone.head.weight, nn.Parameter) and clone.head.weight.requires_grad
    assert list(clone.state_dict()) == list(net.state_dict())


# ---------------------------------------------------------------- Parameter and printing


def test_parameter():
    p = nn.Parameter(np.array([1.0, 2.0], dtype=np.float32))
    assert isinstance(p, mg.Tensor) and p.requires_grad and p.is_leaf
    assert repr(p) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    y = p * 2
    assert type(y) is mg.Tensor
    assert not nn.Parameter(mg.ones(2), requires_grad=False).requires_grad
    data = np.zeros(3, dtype=np.float32)
    assert nn.Parameter(data).data is data  # shares, as PyTorch


def test_nested_repr():
    net = nn.Sequential(
        nn.Linear(3, 2),
        nn.ModuleDict({"act": nn.GELU(), "drop": nn.Dropout(0.1)}),
        nn.GRU(2, 4, num_layers=2),
        nn.LayerNorm(4),
    )
    assert repr(net) == (
        "Sequential(\n"
        "  (0): Linear(in_features=3, out_features=2, bias=True)\n"
        "  (1): ModuleDict(\n"
        "    (act): GELU(approximate='none')\n"
        "    (drop): Dropout(p=0.1)\n"
        "  )\n"
        "  (2): GRU(2, 4, num_layers=2)\n"
        "  (3): LayerNorm((4,), eps=1e-05, elementwise_affine=True)\n"
        ")"
    )
    assert repr(nn.Embedding(5, 2, padding_idx=-1)) == "Embedding(5, 2, padding_idx=4)"
    assert repr(nn.LSTM(2, 3, batch_first=False, bidirectional=True)) == "LSTM(2, 3, batch_first=False, bidirectional=True)"
    assert repr(nn.RNNCell(2, 3, bias=False, nonlinearity="relu")) == "RNNCell(2, 3, bias=False, nonlinearity=relu)"
    assert repr(nn.ReLU()) == "ReLU()"


# ---------------------------------------------------------------- utils and aliases


def test_functional_alias_and_utils():
    import minigrad.functional
    import minigrad.nn.functional as F

    assert F.linear is minigrad.functional.linear and F.cross_entropy is minigrad.functional.cross_entropy
    from minigrad.optim.clip import clip_grad_norm_

    assert nn.utils.clip_grad_norm_ is clip_grad_norm_
    lin = nn.Linear(2, 1)
    lin(mg.ones(1, 2)).sum().backward()
    norm = nn.utils.clip_grad_norm_(lin.parameters(), 1e-3)
    assert norm > 1e-3


def test_functional_call_swaps_and_restores():
    lin = nn.Linear(2, 1, bias=False)
    w = mg.tensor([[2.0, 3.0]], requires_grad=True)
    out = nn.utils.functional_call(lin, {"weight": w * 1.0}, (mg.ones(1, 2),))
    assert out.item() == 5.0
    out.backward()
    np.testing.assert_array_equal(w.grad, [[1.0, 1.0]])  # gradient flows to the swapped-in tensor
    assert isinstance(lin.weight, nn.Parameter)
    with pytest.raises(KeyError, match="no parameter or buffer 'nope'"):
        nn.utils.functional_call(lin, {"nope": w}, (mg.ones(1, 2),))
    assert isinstance(lin.weight, nn.Parameter)


def test_an_optimizer_sees_loaded_weights():
    from minigrad import optim

    model = nn.Sequential(nn.Linear(2, 2), nn.Tanh(), nn.Linear(2, 1))
    opt = optim.SGD(model.parameters(), lr=1.0)
    loaded = {k: np.full_like(v, 0.5) for k, v in model.state_dict().items()}
    model.load_state_dict(loaded)
    for p in model.parameters():
        p.grad = np.ones_like(p.data)
    opt.step()
    for k, v in model.state_dict().items():
        np.testing.assert_allclose(v, -0.5, err_msg=k)  # 0.5 loaded, minus lr * grad


def test_buffers_never_require_grad():
    m = nn.Module()
    m.register_buffer("stat", mg.ones(2, requires_grad=True))
    assert not m.stat.requires_grad
    with pytest.raises(KeyError, match="already a parameter"):
        m.w = nn.Parameter(np.zeros(1, dtype=np.float32))
        m.register_buffer("w", np.zeros(1))
