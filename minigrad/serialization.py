"""Checkpoint files: safetensors for arrays, JSON for everything else, written atomically.

- ``save(state, path)`` / ``load(path)``: a dict of name -> array in one ``.safetensors``
  file, readable by ``safetensors.numpy.load_file`` without minigrad. Nothing is pickled.
- ``save_tree(tree, path)`` / ``load_tree(path)``: a nested structure of dicts, lists,
  tuples, arrays and JSON scalars (an optimizer's ``state_dict()``, say) in one
  ``.safetensors`` file: the arrays as tensors, the rest as JSON in the header metadata.
- ``save_json(obj, path)`` / ``load_json(path)``: JSON side files of a checkpoint directory.

Every write goes through ``atomic_write_bytes``: the bytes go to a temporary file in the
target's directory, which is flushed, fsynced and then renamed onto the target
(``os.replace`` is atomic), and the directory is fsynced. A crash or an exception at any
point leaves either the old file or the new one, never a mix, and no temporary file behind.

Reading problems (missing, truncated, corrupt, wrong format) raise ``CheckpointError``
naming the file and what is wrong.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from typing import Any, Union

import numpy as np
import safetensors.numpy

from .errors import CheckpointError
from .tensor import Tensor

PathT = Union[str, "os.PathLike[str]"]

SUFFIX = ".safetensors"
TREE_METADATA_KEY = "minigrad.tree"

# dtypes safetensors stores and safetensors.numpy can read back.
_SUPPORTED_DTYPES = frozenset(
    np.dtype(t)
    for t in (np.float16, np.float32, np.float64, np.int8, np.int16, np.int32, np.int64,
              np.uint8, np.uint16, np.uint32, np.uint64, np.bool_, np.complex64)
)


# Header metadata entry in which ``save`` records the state's key order (hidden from load_metadata).
ORDER_KEY = "minigrad.key_order"


# --------------------------------------------------------------------------- atomic writes


def atomic_write_bytes(path: PathT, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: temp file, flush, fsync, ``os.replace``, fsync the directory.

    The temporary file lives in the same directory (a rename is only atomic within one file
    system) and is removed if anything fails. An ``OSError`` is re-raised as
    ``CheckpointError`` naming ``path`` (it is still an ``OSError``).
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
    try:
        try:
            # os.open with mode 0o666 lets the umask decide the permissions, like open() does.
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise
    except OSError as e:
        raise CheckpointError(f"could not write {path}: {e.strerror or e}") from e
    fsync_directory(directory)


def fsync_directory(directory: str) -> None:
    """Make the rename durable. Not every platform or file system can fsync a directory."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _read_bytes(path: PathT, what: str) -> bytes:
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError as e:
        raise CheckpointError(f"{what}: {path}: no such file") from e
    except IsADirectoryError as e:
        raise CheckpointError(f"{what}: {path} is a directory, expected a {what} file") from e
    except OSError as e:
        raise CheckpointError(f"{what}: could not read {path}: {e.strerror or e}") from e


# --------------------------------------------------------------------------- safetensors files


def _check_suffix(path: PathT, error: type[Exception], owner: str) -> str:
    path = os.fspath(path)
    if not isinstance(path, str) or not path.endswith(SUFFIX):
        raise error(f"{owner}: {path!r} must be a file ending in {SUFFIX}")
    return path


def _check_metadata(metadata: Mapping[str, str] | None, owner: str) -> dict[str, str] | None:
    if metadata is None:
        return None
    if not isinstance(metadata, Mapping):
        raise TypeError(f"{owner}: metadata must be a dict of str -> str, got {type(metadata).__name__}")
    for key, value in metadata.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(
                f"{owner}: metadata must map str to str (JSON-encode other values), "
                f"got {key!r}: {type(value).__name__}"
            )
    return dict(metadata)


def _as_saveable(key: Any, value: Any, owner: str) -> np.ndarray:
    if not isinstance(key, str):
        raise TypeError(f"{owner}: keys must be strings, got {key!r} ({type(key).__name__})")
    if key == "__metadata__":
        raise ValueError(f"{owner}: the key '__metadata__' is reserved by the safetensors format")
    if isinstance(value, Tensor):
        value = value.data
    if not isinstance(value, np.ndarray):
        hint = ("; nested state such as an optimizer's state_dict() goes through minigrad.serialization.save_tree"
                if isinstance(value, (dict, list, tuple)) else "")
        raise TypeError(f"{owner}: value of {key!r} must be a Tensor or numpy.ndarray, got {type(value).__name__}{hint}")
    if value.dtype.newbyteorder("=") not in _SUPPORTED_DTYPES:
        raise TypeError(f"{owner}: value of {key!r} has dtype {value.dtype}, which safetensors cannot store")
    # safetensors reads the raw buffer: it must be C-contiguous (and little-endian, which
    # safetensors.numpy takes care of). Not np.ascontiguousarray: it turns 0-d into 1-d.
    return value if value.flags.c_contiguous else value.copy(order="C")


def save(state: Mapping[str, Any], path: PathT, metadata: Mapping[str, str] | None = None) -> None:
    """Write a dict of name -> Tensor or ndarray to a ``.safetensors`` file, atomically.

    The file's tensor names are exactly ``state``'s keys; it is readable by
    ``safetensors.numpy.load_file`` without minigrad. ``metadata`` (str -> str; JSON-encode
    anything else) is stored in the file's header. A path not ending in ``.safetensors`` is a
    ValueError; a non-string key or a value that is not an array is a TypeError naming the key.
    If the save fails, an existing file at ``path`` is left as it was.
    """
    path = _check_suffix(path, ValueError, "save")
    if not isinstance(state, Mapping):
        raise TypeError(f"save: state must be a dict of name -> Tensor or ndarray, got {type(state).__name__}")
    metadata = _check_metadata(metadata, "save")
    if metadata is not None and ORDER_KEY in metadata:
        raise ValueError(f"save: the metadata key {ORDER_KEY!r} is reserved by minigrad")
    arrays = {key: _as_saveable(key, value, "save") for key, value in state.items()}
    # safetensors stores tensors sorted by dtype and name; keep the dict's order for load()
    metadata = {**(metadata or {}), ORDER_KEY: json.dumps(list(arrays))}
    data = safetensors.numpy.save(arrays, metadata=metadata)
    atomic_write_bytes(path, data)


def _parse(path: PathT, owner: str) -> tuple[str, bytes, dict[str, Any]]:
    """Read a safetensors file and return (path, bytes, header), checking its framing."""
    path = _check_suffix(path, CheckpointError, owner)
    data = _read_bytes(path, "safetensors")
    if len(data) < 8:
        raise CheckpointError(
            f"{owner}: {path} is truncated or not a safetensors file ({len(data)} bytes, "
            "shorter than the 8-byte header length)"
        )
    header_len = int.from_bytes(data[:8], "little")
    if 8 + header_len > len(data):
        raise CheckpointError(
            f"{owner}: {path} is truncated or not a safetensors file (the header length field says "
            f"{header_len} bytes, the file has {len(data)})"
        )
    try:
        header = json.loads(data[8:8 + header_len].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"{owner}: {path} is corrupt or not a safetensors file (bad header: {e})") from e
    if not isinstance(header, dict):
        raise CheckpointError(f"{owner}: {path} is corrupt (the header is not a JSON object)")
    try:
        needed = max((int(v["data_offsets"][1]) for k, v in header.items() if k != "__metadata__"), default=0)
    except (TypeError, KeyError, IndexError, ValueError) as e:
        raise CheckpointError(f"{owner}: {path} is corrupt (malformed tensor entry in the header)") from e
    available = len(data) - 8 - header_len
    if needed > available:
        raise CheckpointError(
            f"{owner}: {path} is truncated: the header describes {needed} bytes of tensor data, "
            f"the file holds {available}"
        )
    return path, data, header


def load(path: PathT) -> dict[str, np.ndarray]:
    """Read a ``.safetensors`` file into a dict of name -> ndarray (writeable, owned by the caller).

    Keys come in the order the state had when ``save`` wrote it (a file from another tool:
    sorted). Raises ``CheckpointError`` naming the file when it is missing, truncated, corrupt
    or not a ``.safetensors`` file.
    """
    path, data, header = _parse(path, "load")
    try:
        arrays = safetensors.numpy.load(data)
    except Exception as e:  # the parser of an untrusted file: any failure means a bad file
        raise CheckpointError(f"load: {path} is corrupt or unsupported: {e}") from e
    order = _saved_order(header)
    keys = order if order is not None and sorted(order) == sorted(arrays) else sorted(arrays)
    return {k: (v if v.flags.writeable and v.flags.c_contiguous else np.array(v))
            for k, v in ((k, arrays[k]) for k in keys)}


def _saved_order(header: dict[str, Any]) -> list[str] | None:
    """The key order ``save`` recorded in the header, or None (a file written by another tool)."""
    metadata = header.get("__metadata__")
    try:
        order = json.loads(metadata[ORDER_KEY]) if isinstance(metadata, dict) and ORDER_KEY in metadata else None
    except (TypeError, json.JSONDecodeError):
        return None
    return order if isinstance(order, list) and all(isinstance(k, str) for k in order) else None


def load_metadata(path: PathT) -> dict[str, str]:
    """The str -> str metadata stored in a ``.safetensors`` file's header ({} if none)."""
    path, _, header = _parse(path, "load_metadata")
    metadata = header.get("__metadata__") or {}
    if not isinstance(metadata, dict):
        raise CheckpointError(f"load_metadata: {path} is corrupt (__metadata__ is not a JSON object)")
    return {k: v for k, v in metadata.items() if k != ORDER_KEY}


# --------------------------------------------------------------------------- JSON side files


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def save_json(obj: Any, path: PathT) -> None:
    """Write ``obj`` as indented JSON to ``path``, atomically (NumPy scalars and arrays allowed)."""
    try:
        text = json.dumps(obj, indent=2, default=_json_default)
    except (TypeError, ValueError) as e:
        raise TypeError(f"save_json: cannot write {os.fspath(path)}: {e}") from e
    atomic_write_bytes(path, (text + "\n").encode("utf-8"))


def load_json(path: PathT) -> Any:
    """Read a JSON file; ``CheckpointError`` naming the file if it is missing or not valid JSON."""
    path = os.fspath(path)
    data = _read_bytes(path, "JSON")
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"load_json: {path} is not valid JSON ({e})") from e


# --------------------------------------------------------------------------- nested trees


def _flatten_tree(node: Any, path: str, arrays: dict[str, np.ndarray]) -> Any:
    """JSON skeleton of ``node``; arrays are moved into ``arrays`` under dotted names."""
    if isinstance(node, Tensor):
        node = node.data
    if isinstance(node, np.ndarray):
        name, n = path or "array", 1
        while name in arrays:
            n += 1
            name = f"{path}~{n}"
        arrays[name] = node
        return {"__array__": name}
    if isinstance(node, np.generic):
        node = node.item()
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, Mapping):
        items = []
        for key, value in node.items():
            if isinstance(key, bool) or not isinstance(key, (str, int)):
                raise TypeError(f"save_tree: dict keys must be str or int, got {key!r} at {path or '<root>'}")
            items.append([key, _flatten_tree(value, f"{path}.{key}" if path else str(key), arrays)])
        return {"__dict__": items}
    if isinstance(node, (list, tuple)):
        values = [_flatten_tree(v, f"{path}.{i}" if path else str(i), arrays) for i, v in enumerate(node)]
        return values if isinstance(node, list) else {"__tuple__": values}
    raise TypeError(f"save_tree: cannot store a {type(node).__name__} at {path or '<root>'}")


def _unflatten_tree(node: Any, arrays: dict[str, np.ndarray], path: str) -> Any:
    if isinstance(node, list):
        return [_unflatten_tree(v, arrays, path) for v in node]
    if isinstance(node, dict):
        if "__array__" in node:
            if node["__array__"] not in arrays:
                raise CheckpointError(f"load_tree: {path} is missing the array {node['__array__']!r}")
            return arrays[node["__array__"]]
        if "__tuple__" in node:
            return tuple(_unflatten_tree(v, arrays, path) for v in node["__tuple__"])
        if "__dict__" in node:
            return {key: _unflatten_tree(value, arrays, path) for key, value in node["__dict__"]}
        raise CheckpointError(f"load_tree: {path} has a malformed structure entry {sorted(node)}")
    return node


def save_tree(tree: Any, path: PathT, metadata: Mapping[str, str] | None = None) -> None:
    """Save a nested structure of dicts, lists, tuples, arrays/Tensors and JSON scalars, atomically.

    Arrays become the file's tensors (named by their dotted position, e.g.
    ``state.0.exp_avg``), the structure becomes JSON in the header metadata under
    ``"minigrad.tree"``; dict keys may be str or int, and tuples stay tuples. Made for
    ``optimizer.state_dict()`` and ``scheduler.state_dict()``. Nothing is pickled.
    """
    path = _check_suffix(path, ValueError, "save_tree")
    metadata = _check_metadata(metadata, "save_tree") or {}
    if TREE_METADATA_KEY in metadata:
        raise ValueError(f"save_tree: the metadata key {TREE_METADATA_KEY!r} is reserved")
    arrays: dict[str, np.ndarray] = {}
    skeleton = _flatten_tree(tree, "", arrays)
    text = json.dumps(skeleton)  # NaN/Infinity are written as Python's JSON reads them back
    save(arrays, path, metadata={**metadata, TREE_METADATA_KEY: text})


def load_tree(path: PathT) -> Any:
    """Read a file written by ``save_tree`` back into the same nested structure."""
    path = os.fspath(path)
    metadata = load_metadata(path)
    if TREE_METADATA_KEY not in metadata:
        raise CheckpointError(f"load_tree: {path} was not written by save_tree (no {TREE_METADATA_KEY!r} metadata)")
    try:
        skeleton = json.loads(metadata[TREE_METADATA_KEY])
    except json.JSONDecodeError as e:
        raise CheckpointError(f"load_tree: {path} has a corrupt structure entry ({e})") from e
    arrays = load(path)
    try:
        return _unflatten_tree(skeleton, arrays, path)
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"load_tree: {path} has a malformed structure entry ({e})") from e
