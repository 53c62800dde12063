"""Higher-order and forward-mode autodiff: minigrad against PyTorch CPU, one thread each.

Usage (from the repository root):

    python benchmarks/higher_order.py                  # both rows
    python benchmarks/higher_order.py --rounds 5
    python benchmarks/higher_order.py --write-results  # also update benchmarks/RESULTS.md

Rows:
- ``hvp transformer``: the Hessian-vector product of the default transformer's training loss
  (the ``train_step.py`` default batch, cross-entropy with PAD ignored) with respect to all
  parameters, for a fixed random v. minigrad: ``minigrad.func.hvp`` over ``functional_call``
  (forward mode over the reverse pass). PyTorch: double backward, ``torch.autograd.grad(loss,
  params, create_graph=True)`` then the gradient of ``g . v`` (attention on PyTorch's math
  backend: its CPU flash kernel has no double backward). Same weights (minigrad's, loaded
  into ``torch_reference``), same batch; the two results are checked equal first.
- ``jvp mlp``: ``jvp`` of a 3-layer tanh MLP (256 -> 512 -> 512 -> 10, batch 64) along a random
  tangent of its input: ``minigrad.func.jvp`` against ``torch.func.jvp``.

Protocol: warm-up, then ``--rounds`` rounds each timing ``--repeats`` calls of minigrad and then
of PyTorch (the order alternating by round) in one process; the table gives the median CPU
milliseconds per call (``time.process_time``) and the ratio minigrad/PyTorch of the medians.
"""

from __future__ import annotations

import _common  # noqa: F401  (first: pins the thread pools before NumPy/PyTorch load)

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import minigrad as mg  # noqa: E402
from minigrad import func  # noqa: E402
from minigrad import functional as F  # noqa: E402


def _cpu_ms(fn, repeats: int) -> float:
    start = time.process_time()
    for _ in range(repeats):
        fn()
    return (time.process_time() - start) * 1e3 / repeats


def hvp_transformer(torch):
    """(minigrad call, torch call, max relative difference of the two products)."""
    import torch_reference
    from minigrad import models

    batch, length, _ = _common.SIZES["default"]
    data = _common.copy_batch(batch, length)
    hyper = _common.hyper_for("transformer", "default")
    mg.manual_seed(0)
    model = models.build("transformer", _common.COPY_VOCAB, _common.COPY_VOCAB, **hyper)
    model.train()
    names = [n for n, _ in model.named_parameters()]
    params = tuple(p.detach() for _, p in model.named_parameters())
    rng = np.random.default_rng(0)
    vs = tuple(mg.tensor(rng.standard_normal(p.shape).astype(p.dtype)) for p in params)

    def loss(*ps):
        logits = func.functional_call(model, dict(zip(names, ps)), (data["src"], data["tgt_in"]),
                                      {"src_lengths": data["src_lengths"]})
        return F.cross_entropy(logits, data["tgt_out"], ignore_index=_common.PAD)

    def ours():
        return func.hvp(loss, params, vs)[1]

    reference = torch_reference.build("transformer", _common.COPY_VOCAB, _common.COPY_VOCAB, **hyper)
    torch_reference.load_minigrad_state(reference, model.state_dict())
    reference.train()
    tparams = list(reference.parameters())
    tvs = [torch.from_numpy(v.data) for v in vs]
    tb = {k: torch.from_numpy(v) for k, v in data.items()}

    from torch.nn.attention import SDPBackend, sdpa_kernel

    def theirs():
        with sdpa_kernel(SDPBackend.MATH):  # the CPU flash kernel has no double backward
            return double_backward()

    def double_backward():
        logits = reference(tb["src"], tb["tgt_in"], src_lengths=tb["src_lengths"])
        tl = torch.nn.functional.cross_entropy(logits.reshape(-1, _common.COPY_VOCAB), tb["tgt_out"].reshape(-1),
                                               ignore_index=_common.PAD)
        grads = torch.autograd.grad(tl, tparams, create_graph=True)
        return torch.autograd.grad(sum((g * v).sum() for g, v in zip(grads, tvs)), tparams)

    a, b = ours(), theirs()
    by_name = dict(zip([n for n, _ in reference.named_parameters()], b))
    # relative to the largest entry of the whole product: the attention key biases have an exact
    # gradient (and Hessian row) of 0 and carry only rounding noise in both libraries
    scale = max(float(np.abs(t.numpy()).max()) for t in b)
    diff = max(float(np.abs(x.data - by_name[n].numpy()).max()) for n, x in zip(names, a)) / scale
    return ours, theirs, diff


def jvp_mlp(torch):
    rng = np.random.default_rng(1)
    sizes = [256, 512, 512, 10]
    weights = [(rng.standard_normal((o, i)) / np.sqrt(i)).astype(np.float32) for i, o in zip(sizes, sizes[1:])]
    biases = [np.zeros(o, np.float32) for o in sizes[1:]]
    x = rng.standard_normal((64, sizes[0])).astype(np.float32)
    u = rng.standard_normal(x.shape).astype(np.float32)
    mw = [mg.tensor(w) for w in weights]
    mb = [mg.tensor(b) for b in biases]

    def mlp(h):
        for i, (w, b) in enumerate(zip(mw, mb)):
            h = F.linear(h, w, b)
            h = mg.tanh(h) if i < len(mw) - 1 else h
        return h

    tw = [torch.from_numpy(w) for w in weights]
    tb = [torch.from_numpy(b) for b in biases]

    def tmlp(h):
        for i, (w, b) in enumerate(zip(tw, tb)):
            h = torch.nn.functional.linear(h, w, b)
            h = torch.tanh(h) if i < len(tw) - 1 else h
        return h

    def ours():
        return func.jvp(mlp, (mg.tensor(x),), (mg.tensor(u),))[1]

    def theirs():
        return torch.func.jvp(tmlp, (torch.from_numpy(x),), (torch.from_numpy(u),))[1]

    diff = float(np.abs(ours().data - theirs().numpy()).max() / np.abs(theirs().numpy()).max())
    return ours, theirs, diff


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args()
    torch = _common.import_torch()
    if torch is None:
        raise SystemExit("PyTorch is not installed: pip install torch==2.13.0 (the peer of this benchmark)")
    lines = ["| row | minigrad ms | PyTorch ms | ratio | max rel. difference |", "| --- | ---: | ---: | ---: | ---: |"]
    for name, make in (("hvp transformer (default, all parameters)", hvp_transformer),
                       ("jvp mlp (3 layers, 256-512-512-10, batch 64)", jvp_mlp)):
        ours, theirs, diff = make(torch)
        for fn in (ours, theirs):
            fn()
        times = {"minigrad": [], "torch": []}
        for r in range(args.rounds):
            order = (("minigrad", ours), ("torch", theirs)) if r % 2 == 0 else (("torch", theirs), ("minigrad", ours))
            for label, fn in order:
                times[label].append(_cpu_ms(fn, args.repeats))
        m, t = statistics.median(times["minigrad"]), statistics.median(times["torch"])
        lines.append(f"| {name} | {m:.2f} | {t:.2f} | {m / t:.2f} | {diff:.1e} |")
        print(lines[-1], flush=True)
    body = "\n".join([*_common.machine_lines(), "", *lines])
    print()
    print(body)
    if args.write_results:
        _common.replace_block("higher-order", "Higher-order and forward-mode autodiff (`benchmarks/higher_order.py`)",
                              body)


if __name__ == "__main__":
    main()
