"""Feed-forward layers, activations, losses and nn.init: shapes, behaviour, errors, init."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F
from minigrad import nn


def test_linear_shapes_bias_and_errors():
    lin = nn.Linear(3, 2)
    assert lin.weight.shape == (2, 3) and lin.bias.shape == (2,)
    x = mg.randn(4, 5, 3)
    out = lin(x)
    assert out.shape == (4, 5, 2) and out.dtype == np.float32
    np.testing.assert_allclose(out.data, x.data @ lin.weight.data.T + lin.bias.data, rtol=1e-6)
    assert nn.Linear(3, 2, bias=False).bias is None
    with pytest.raises(mg.ShapeError, match=r"Linear: expected input of shape \(\.\.\., 3\), got \(4, 2\)"):
        lin(mg.randn(4, 2))
    with pytest.raises(ValueError, match="in_features must be a positive int"):
        nn.Linear(0, 2)


def test_embedding_lookup_padding_and_errors():
    mg.manual_seed(0)
    emb = nn.Embedding(6, 4, padding_idx=-1)
    assert emb.padding_idx == 5 and np.all(emb.weight.data[5] == 0)
    idx = mg.tensor([[0, 5, 2], [2, 2, 1]])
    out = emb(idx)
    assert out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out.data, emb.weight.data[idx.data])
    out.sum().backward()
    np.testing.assert_array_equal(emb.weight.grad[:, 0], [1, 1, 3, 0, 0, 0])  # repeated 2 accumulates, padding 0
    with pytest.raises(IndexError, match="Embedding: index 6 is out of range for num_embeddings=6"):
        emb(np.array([1, 6]))
    with pytest.raises(TypeError, match="integers"):
        emb(mg.tensor([1.0]))
    with pytest.raises(ValueError, match="padding_idx 6 is out of range"):
        nn.Embedding(6, 2, padding_idx=6)


def test_embedding_from_pretrained():
    table = np.arange(6, dtype=np.float64).reshape(3, 2)
    emb = nn.Embedding.from_pretrained(table)
    assert emb.weight.dtype == np.float64 and not emb.weight.requires_grad
    np.testing.assert_array_equal(emb([2]).data, [[4.0, 5.0]])
    assert nn.Embedding.from_pretrained(mg.tensor(table), freeze=False).weight.requires_grad


def test_layer_norm():
    x = mg.randn(3, 2, 5) * 4 + 1
    ln = nn.LayerNorm(5)
    y = ln(x).data
    np.testing.assert_allclose(y.mean(-1), 0, atol=1e-5)
    np.testing.assert_allclose(y.var(-1), 1, atol=1e-3)
    ln2 = nn.LayerNorm((2, 5), elementwise_affine=False)
    assert ln2.weight is None and list(ln2.state_dict()) == []
    assert ln2(x).shape == x.shape
    assert list(nn.LayerNorm(5, bias=False).state_dict()) == ["weight"]
    with pytest.raises(mg.ShapeError, match=r"LayerNorm: expected input of shape \(\.\.\., 2, 5\), got \(3, 5\)"):
        ln2(mg.randn(3, 5))


def test_dropout_train_eval_and_seed():
    drop = nn.Dropout(0.25)
    x = mg.ones(200, 100)
    mg.manual_seed(5)
    y = drop(x).data
    assert abs((y == 0).mean() - 0.25) < 0.02
    np.testing.assert_allclose(y[y != 0], 1 / 0.75, rtol=1e-6)
    mg.manual_seed(5)
    np.testing.assert_array_equal(drop(x).data, y)  # seeded: repeatable
    drop.eval()
    assert drop(x) is x or np.array_equal(drop(x).data, x.data)
    assert nn.Dropout(0.0)(x).data.min() == 1
    with pytest.raises(ValueError, match=r"p must be a probability in \[0, 1\]"):
        nn.Dropout(1.5)


def test_activations_and_losses_match_functional():
    x = mg.randn(3, 4)
    for module, fn in [
        (nn.ReLU(), F.relu), (nn.Tanh(), F.tanh), (nn.Sigmoid(), F.sigmoid), (nn.GELU(), F.gelu),
        (nn.GELU("tanh"), lambda t: F.gelu(t, approximate="tanh")), (nn.Softmax(), F.softmax),
        (nn.LogSoftmax(axis=0), lambda t: F.log_softmax(t, axis=0)), (nn.Identity(), lambda t: t),
    ]:
        np.testing.assert_array_equal(module(x).data, fn(x).data)
    target = np.array([0, 3, 1])
    np.testing.assert_array_equal(nn.CrossEntropyLoss(label_smoothing=0.1)(x, target).data,
                                  F.cross_entropy(x, target, label_smoothing=0.1).data)
    np.testing.assert_array_equal(nn.NLLLoss(ignore_index=3)(F.log_softmax(x), target).data,
                                  F.nll_loss(F.log_softmax(x), target, ignore_index=3).data)
    np.testing.assert_array_equal(nn.MSELoss(reduction="sum")(x, x * 2).data, F.mse_loss(x, x * 2, reduction="sum").data)
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU("fast")


def test_softmax_family_modules_are_separate_classes_as_in_pytorch():
    # a loop such as [m for m in model.modules() if isinstance(m, nn.Softmax)] finds only softmaxes
    assert not isinstance(nn.LogSoftmax(), nn.Softmax)
    assert not isinstance(nn.Softmin(), nn.Softmax)
    for cls in (nn.Softmax, nn.LogSoftmax, nn.Softmin):
        assert cls().axis == -1 and repr(cls(axis=0)) == f"{cls.__name__}(axis=0)"


# ---------------------------------------------------------------- initialisation


def test_manual_seed_makes_init_repeatable():
    mg.manual_seed(7)
    a = nn.GRU(3, 4, num_layers=2).state_dict()
    mg.manual_seed(7)
    b = nn.GRU(3, 4, num_layers=2).state_dict()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    c = nn.GRU(3, 4, num_layers=2).state_dict()
    assert not np.array_equal(a["weight_ih_l0"], c["weight_ih_l0"])


def test_default_init_distributions():
    mg.manual_seed(0)
    lin = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    for p in (lin.weight, lin.bias):
        assert np.abs(p.data).max() <= bound and np.abs(p.data).max() > 0.95 * bound
    assert abs(lin.weight.data.std() - bound / math.sqrt(3)) < 0.01 * bound
    emb = nn.Embedding(500, 200)
    assert abs(emb.weight.data.mean()) < 0.01 and abs(emb.weight.data.std() - 1) < 0.01
    lstm = nn.LSTM(10, 64, bidirectional=True)
    bound = 1 / math.sqrt(64)
    for _, p in lstm.named_parameters():
        assert np.abs(p.data).max() <= bound and abs(p.data.std() - bound / math.sqrt(3)) < 0.15 * bound
    ln = nn.LayerNorm(4)
    assert np.all(ln.weight.data == 1) and np.all(ln.bias.data == 0)


def test_init_functions_work_in_place():
    p = nn.Parameter(np.zeros((30, 20), dtype=np.float32))
    array = p.data
    for fn in (nn.init.uniform_, nn.init.normal_, nn.init.xavier_uniform_, nn.init.xavier_normal_,
               nn.init.kaiming_uniform_, nn.init.kaiming_normal_, nn.init.ones_, nn.init.zeros_):
        assert fn(p) is p and p.data is array and p.dtype == np.float32
    nn.init.constant_(p, 0.5)
    assert np.all(array == 0.5)
    nn.init.xavier_uniform_(p, gain=2.0)
    assert np.abs(array).max() <= 2.0 * math.sqrt(6 / 50)
    nn.init.kaiming_uniform_(p, a=math.sqrt(5))
    assert np.abs(array).max() <= 1 / math.sqrt(20)
    nn.init.uniform_(p, -3, -2)
    assert array.min() >= -3 and array.max() <= -2
    mg.manual_seed(1)
    nn.init.normal_(p)
    first = array.copy()
    mg.manual_seed(1)
    nn.init.normal_(p)
    np.testing.assert_array_equal(array, first)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        nn.init.xavier_uniform_(nn.Parameter(np.zeros(3, dtype=np.float32)))
    with pytest.raises(TypeError, match="floating-point"):
        nn.init.normal_(mg.tensor([1, 2]))
    assert nn.init.calculate_gain("relu") == math.sqrt(2) and nn.init.calculate_gain("tanh") == 5 / 3
