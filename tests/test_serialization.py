"""minigrad.save / load (safetensors), JSON side files, nested trees, atomic writes, errors."""

from __future__ import annotations

import os

import numpy as np
import pytest
import safetensors.numpy

import minigrad as mg
from minigrad import serialization
from minigrad.errors import CheckpointError
from minigrad.optim import Adam
from minigrad.optim.lr_scheduler import WarmupCosine
from minigrad.serialization import (
    atomic_write_bytes, load, load_json, load_metadata, load_tree, save, save_json, save_tree,
)


def sample_state() -> dict:
    rng = np.random.default_rng(0)
    return {
        "layers.0.weight": rng.normal(size=(3, 4)).astype(np.float32),
        "layers.0.bias": rng.normal(size=(4,)),  # float64
        "embedding.idx": np.arange(6, dtype=np.int64).reshape(2, 3),
        "mask": np.array([[True, False], [False, True]]),
        "scalar": np.array(2.5, dtype=np.float32),  # 0-d
        "empty": np.zeros((0, 5), dtype=np.float32),
        "small_ints": np.array([1, -2], dtype=np.int32),
    }


def assert_same(loaded: dict, expected: dict) -> None:
    assert list(loaded) == list(expected) or sorted(loaded) == sorted(expected)
    for key, value in expected.items():
        assert loaded[key].dtype == value.dtype, key
        assert loaded[key].shape == value.shape, key
        np.testing.assert_array_equal(loaded[key], value)


# --------------------------------------------------------------------------- round trips


def test_round_trip_all_dtypes(tmp_path):
    state = sample_state()
    path = tmp_path / "model.safetensors"
    save(state, path)
    loaded = load(path)
    assert sorted(loaded) == sorted(state)
    assert_same(loaded, state)
    for value in loaded.values():
        assert value.flags.writeable
    loaded["layers.0.weight"][0, 0] = 123.0  # a private copy: the next load is unaffected
    assert load(path)["layers.0.weight"][0, 0] != 123.0


def test_readable_without_minigrad(tmp_path):
    state = sample_state()
    path = tmp_path / "model.safetensors"
    save(state, str(path))
    assert_same(safetensors.numpy.load_file(str(path)), state)


def test_tensors_and_non_contiguous_arrays(tmp_path):
    base = np.arange(12, dtype=np.float64).reshape(3, 4)
    state = {"t": mg.tensor(base, requires_grad=True), "view": base.T, "strided": base[:, ::2]}
    path = tmp_path / "x.safetensors"
    save(state, path)
    loaded = load(path)
    np.testing.assert_array_equal(loaded["t"], base)
    np.testing.assert_array_equal(loaded["view"], base.T)
    np.testing.assert_array_equal(loaded["strided"], base[:, ::2])


def test_big_endian_arrays_are_stored_as_values(tmp_path):
    value = np.arange(4, dtype=">f4")
    save({"be": value}, tmp_path / "be.safetensors")
    np.testing.assert_array_equal(load(tmp_path / "be.safetensors")["be"], [0, 1, 2, 3])


def test_metadata_round_trip(tmp_path):
    path = tmp_path / "m.safetensors"
    save({"w": np.ones(2)}, path, metadata={"config": '{"d_model": 64}', "step": "100"})
    assert load_metadata(path) == {"config": '{"d_model": 64}', "step": "100"}
    save({"w": np.ones(2)}, path)
    assert load_metadata(path) == {}


def test_empty_state(tmp_path):
    save({}, tmp_path / "e.safetensors")
    assert load(tmp_path / "e.safetensors") == {}


# --------------------------------------------------------------------------- save errors


@pytest.mark.parametrize(
    "state, metadata, error, message",
    [
        ({1: np.ones(2)}, None, TypeError, "keys must be strings, got 1"),
        ({"w": [1.0, 2.0]}, None, TypeError, "value of 'w' must be a Tensor or numpy.ndarray, got list"),
        ({"w": np.array(["a"])}, None, TypeError, "value of 'w' has dtype <U1"),
        ({"w": np.ones(2, dtype=object)}, None, TypeError, "value of 'w' has dtype object"),
        ({"__metadata__": np.ones(2)}, None, ValueError, "reserved"),
        ([np.ones(2)], None, TypeError, "state must be a dict"),
        ({"w": np.ones(2)}, {"step": 3}, TypeError, "metadata must map str to str"),
    ],
)
def test_save_rejects_bad_input(tmp_path, state, metadata, error, message):
    path = tmp_path / "bad.safetensors"
    with pytest.raises(error, match=message):
        save(state, path, metadata=metadata)
    assert not path.exists()


def test_save_requires_the_suffix(tmp_path):
    with pytest.raises(ValueError, match=r"model\.pt.* must be a file ending in \.safetensors"):
        save({"w": np.ones(2)}, tmp_path / "model.pt")


def test_save_into_a_missing_directory_is_a_checkpoint_error(tmp_path):
    path = tmp_path / "nope" / "m.safetensors"
    with pytest.raises(CheckpointError, match="could not write .*m.safetensors"):
        save({"w": np.ones(2)}, path)


# --------------------------------------------------------------------------- atomicity


class Boom(Exception):
    pass


def _raise(*args, **kwargs):
    raise Boom("simulated crash")


class HalfWriter:
    """A file object whose write() writes half the bytes, then fails (a crash mid-write)."""

    def __init__(self, f):
        self.f = f

    def write(self, data):
        self.f.write(data[: len(data) // 2])
        self.f.flush()
        raise Boom("disk full halfway")

    def __getattr__(self, name):
        return getattr(self.f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()


@pytest.mark.parametrize("where", ["write", "fsync", "replace", "serialize"])
def test_failed_save_leaves_old_file_and_no_temp(tmp_path, monkeypatch, where):
    path = tmp_path / "model.safetensors"
    old = {"w": np.arange(3.0)}
    save(old, path)
    old_bytes = path.read_bytes()
    if where == "write":
        real_fdopen = os.fdopen
        monkeypatch.setattr(serialization.os, "fdopen", lambda *a, **k: HalfWriter(real_fdopen(*a, **k)))
    elif where == "fsync":
        monkeypatch.setattr(serialization.os, "fsync", _raise)
    elif where == "replace":
        monkeypatch.setattr(serialization.os, "replace", _raise)
    else:
        monkeypatch.setattr(serialization.safetensors.numpy, "save", _raise)
    with pytest.raises(Boom):
        save({"w": np.ones(1000)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == old_bytes
    assert os.listdir(tmp_path) == ["model.safetensors"]
    np.testing.assert_array_equal(load(path)["w"], old["w"])


def test_os_errors_during_save_become_checkpoint_errors(tmp_path, monkeypatch):
    path = tmp_path / "model.safetensors"

    def fail(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(serialization.os, "fsync", fail)
    with pytest.raises(CheckpointError, match="could not write .*model.safetensors: No space left"):
        save({"w": np.ones(2)}, path)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == []


def test_atomic_write_bytes_replaces_and_keeps_permissions_sane(tmp_path):
    path = tmp_path / "blob.bin"
    atomic_write_bytes(path, b"first")
    atomic_write_bytes(path, b"second")
    assert path.read_bytes() == b"second"
    assert os.listdir(tmp_path) == ["blob.bin"]
    assert path.stat().st_mode & 0o600 == 0o600


# --------------------------------------------------------------------------- load errors


def write_bytes(path, data: bytes):
    path.write_bytes(data)
    return path


@pytest.fixture
def good_bytes(tmp_path) -> bytes:
    save(sample_state(), tmp_path / "good.safetensors")
    return (tmp_path / "good.safetensors").read_bytes()


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda good: good[:-10], "truncated: the header describes"),
        (lambda good: good[:5], "truncated or not a safetensors file"),
        (lambda good: good[:40], "truncated or not a safetensors file"),
        (lambda good: b"", "truncated or not a safetensors file"),
        (lambda good: b"\x00" * 64, "corrupt"),
        (lambda good: b"\x05\x00\x00\x00\x00\x00\x00\x00{bad}", "corrupt or not a safetensors file"),
        (lambda good: b"\x02\x00\x00\x00\x00\x00\x00\x00[]", "header is not a JSON object"),
        (lambda good: b'{"json": "instead"}' * 3, "truncated or not a safetensors file"),
        (lambda good: b"\x8c\x00\x00\x00\x00\x00\x00\x00" + b'{"w":{"dtype":"XX","shape":[1],"data_offsets":[0,4]}}'
         .ljust(140) + b"\x00" * 4, "corrupt or unsupported"),
    ],
)
def test_load_bad_files_raise_checkpoint_error_naming_the_file(tmp_path, good_bytes, make, message):
    path = write_bytes(tmp_path / "broken.safetensors", make(good_bytes))
    with pytest.raises(CheckpointError, match=message) as info:
        load(path)
    assert "broken.safetensors" in str(info.value)


# (loader, file name, what stands at the path: None nothing, "dir" a directory, bytes a file, message)
MISSING_OR_WRONG_FILES = [
    (load, "missing.safetensors", None, r"missing\.safetensors: no such file"),
    (load, "weights.pt", b"whatever", r"weights\.pt.* must be a file ending in \.safetensors"),
    (load, "dir.safetensors", "dir", "is a directory"),
    (load_metadata, "missing.safetensors", None, "no such file"),
    (load_json, "cfg.json", None, r"cfg\.json: no such file"),
    (load_json, "bad.json", b'{"a": 1,', r"bad\.json is not valid JSON"),
]


@pytest.mark.parametrize("loader, name, content, message", MISSING_OR_WRONG_FILES,
                         ids=[f"{case[0].__name__}-{case[1]}" for case in MISSING_OR_WRONG_FILES])
def test_loading_a_missing_or_wrong_file_is_a_checkpoint_error(tmp_path, loader, name, content, message):
    path = tmp_path / name
    if content == "dir":
        path.mkdir()
    elif content is not None:
        write_bytes(path, content)
    with pytest.raises(CheckpointError, match=message):
        loader(path)


def test_a_checkpoint_error_is_an_os_error():
    assert isinstance(CheckpointError("x"), OSError)


# --------------------------------------------------------------------------- JSON


def test_json_round_trip_and_numpy_values(tmp_path):
    path = tmp_path / "config.json"
    obj = {"model": "transformer", "d_model": np.int64(64), "lr": np.float32(0.5), "hist": np.arange(3),
           "nested": [1, {"a": None}]}
    save_json(obj, path)
    assert load_json(path) == {"model": "transformer", "d_model": 64, "lr": 0.5, "hist": [0, 1, 2],
                               "nested": [1, {"a": None}]}
    assert path.read_text().endswith("\n")


def test_save_json_of_a_value_it_cannot_write_writes_nothing(tmp_path):
    with pytest.raises(TypeError, match="save_json: cannot write"):
        save_json({"f": object()}, tmp_path / "x.json")
    assert not (tmp_path / "x.json").exists()


def test_save_json_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "c.json"
    save_json({"v": 1}, path)
    monkeypatch.setattr(serialization.os, "replace", _raise)
    with pytest.raises(Boom):
        save_json({"v": 2}, path)
    monkeypatch.undo()
    assert load_json(path) == {"v": 1} and os.listdir(tmp_path) == ["c.json"]


# --------------------------------------------------------------------------- trees (optimizer state)


def test_tree_round_trip(tmp_path):
    tree = {"state": {0: {"step": 3, "exp_avg": np.ones(2)}, 2: {}},
            "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0, 1, 2], "nesterov": False}],
            "name": "x", "nan": float("nan"), "none": None, "t": mg.tensor([1.0, 2.0])}
    path = tmp_path / "tree.safetensors"
    save_tree(tree, path, metadata={"kind": "optimizer"})
    back = load_tree(path)
    assert back["state"][0]["step"] == 3 and list(back["state"]) == [0, 2]
    np.testing.assert_array_equal(back["state"][0]["exp_avg"], np.ones(2))
    assert back["param_groups"][0]["betas"] == (0.9, 0.999)
    assert back["param_groups"][0]["params"] == [0, 1, 2] and back["param_groups"][0]["nesterov"] is False
    assert np.isnan(back["nan"]) and back["none"] is None and back["name"] == "x"
    np.testing.assert_array_equal(back["t"], np.array([1.0, 2.0], dtype=np.float32))
    assert load_metadata(path)["kind"] == "optimizer"
    assert "state.0.exp_avg" in safetensors.numpy.load_file(str(path))  # plain safetensors underneath


def test_tree_errors(tmp_path):
    with pytest.raises(TypeError, match=r"cannot store a set at a\.b"):
        save_tree({"a": {"b": {1, 2}}}, tmp_path / "t.safetensors")
    save({"w": np.ones(1)}, tmp_path / "plain.safetensors")
    with pytest.raises(CheckpointError, match="not written by save_tree"):
        load_tree(tmp_path / "plain.safetensors")


def test_optimizer_and_scheduler_state_through_a_file_resume_exactly(tmp_path):
    rng = np.random.default_rng(0)
    params = [mg.tensor(rng.normal(size=s), requires_grad=True) for s in [(4, 3), (3,)]]
    opt = Adam(params, lr=0.05, weight_decay=0.01)
    sched = WarmupCosine(opt, warmup_steps=2, total_steps=10, min_lr=1e-3)

    def train(ps, optimizer, scheduler, steps):
        for _ in range(steps):
            for p in ps:
                p.grad = np.sin(3 * p.data) + p.data
            optimizer.step()
            scheduler.step()

    train(params, opt, sched, 3)
    save_tree({"optimizer": opt.state_dict(), "scheduler": sched.state_dict()}, tmp_path / "optim.safetensors")
    save({f"p{i}": p for i, p in enumerate(params)}, tmp_path / "model.safetensors")

    weights = load(tmp_path / "model.safetensors")
    fresh = [mg.tensor(weights[f"p{i}"], requires_grad=True) for i in range(len(params))]
    resumed = Adam(fresh)
    resumed_sched = WarmupCosine(resumed, warmup_steps=2, total_steps=10, min_lr=1e-3)
    tree = load_tree(tmp_path / "optim.safetensors")
    resumed.load_state_dict(tree["optimizer"])
    resumed_sched.load_state_dict(tree["scheduler"])
    train(params, opt, sched, 5)
    train(fresh, resumed, resumed_sched, 5)
    assert resumed_sched.get_last_lr() == sched.get_last_lr()
    for a, b in zip(params, fresh):
        np.testing.assert_array_equal(a.data, b.data)


def test_empty_tree(tmp_path):
    save_tree({}, tmp_path / "empty.safetensors", metadata={"format": "1"})
    assert load_tree(tmp_path / "empty.safetensors") == {}


def test_load_returns_the_keys_in_the_saved_order(tmp_path):
    state = {"z.weight": np.ones(2, np.float32), "a.bias": np.zeros(3), "m": np.arange(4)}
    path = tmp_path / "s.safetensors"
    mg.save(state, path, metadata={"note": "x"})
    assert list(mg.load(path)) == ["z.weight", "a.bias", "m"]
    assert mg.serialization.load_metadata(path) == {"note": "x"}  # the order entry is minigrad's own
    import safetensors.numpy

    assert set(safetensors.numpy.load_file(str(path))) == set(state)
    safetensors.numpy.save_file({"b": np.ones(1), "a": np.ones(1)}, str(path))  # another tool: sorted
    assert list(mg.load(path)) == ["a", "b"]


def test_saving_an_optimizer_state_dict_points_to_save_tree(tmp_path):
    opt = mg.optim.SGD([mg.tensor([1.0], requires_grad=True)], lr=0.1)
    with pytest.raises(TypeError, match="save_tree"):
        mg.save(opt.state_dict(), tmp_path / "o.safetensors")
    mg.serialization.save_tree(opt.state_dict(), tmp_path / "o.safetensors")
    assert mg.serialization.load_tree(tmp_path / "o.safetensors")["param_groups"][0]["lr"] == 0.1
