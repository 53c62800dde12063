"""Lockstep: do minigrad and PyTorch compute the same training step all along a real run?

Usage (from the repository root, PyTorch installed):

    python benchmarks/lockstep.py                          # rnn-attn on copy, 300 steps, seed 0
    python benchmarks/lockstep.py --model transformer --task reverse --steps 500 --every 50

Trains minigrad's default configuration (``models.training.TrainConfig``: Adam lr 1e-3, clip
1.0, batch 64, ``task.sample_batches(64, seed)``). Before every step the current minigrad
weights are loaded into the PyTorch reference model (``torch_reference``), so both libraries
compute that step from exactly the same weights and batch: the loss, the gradient norm, every
parameter's gradient and every parameter's Adam update (each optimizer keeps its own moment
estimates, fed by its own library's gradients). Every ``--every`` steps it prints the loss
and the gradient norm of both, and the relative differences

    rel(a, b) = ||a - b|| / ||b||     (b: PyTorch's)

of the gradients and of the updates: over all parameters together, and the largest for one
parameter (naming it). Parameters whose gradient is zero in exact arithmetic (an attention
key bias) carry only rounding noise in both libraries: they are left out of both columns and
listed at the end. Float32 rounding alone gives
gradients within about 1e-6 and updates within about 1e-4 (Adam divides by sqrt(v), which
magnifies the rounding of small moments); a wrong gradient rule shows up as a difference
near 1. This is what separates "the same algorithm, diverging only by rounding" from
"a different algorithm" when two free-running trainings reach a target at different steps.
"""

from __future__ import annotations

import _common  # noqa: F401  (first: pins the thread pools before NumPy/PyTorch load)

import argparse  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402

from _common import PAD, import_torch  # noqa: E402


# A parameter's gradient below this fraction of the whole gradient's norm counts as rounding noise.
NOISE_FLOOR = 1e-6


def relative(ours: np.ndarray, theirs: np.ndarray) -> float:
    """||ours - theirs|| / ||theirs|| (0 when both are zero)."""
    scale = float(np.linalg.norm(theirs))
    diff = float(np.linalg.norm(ours.astype(np.float64) - theirs.astype(np.float64)))
    return diff / scale if scale else diff


def run(model_name: str, task_name: str, steps: int, every: int, seed: int) -> list[dict]:
    """Train ``steps`` steps in lockstep; return one record per printed step."""
    torch = import_torch()
    if torch is None:
        raise SystemExit("lockstep.py: PyTorch is not installed (pip install torch); it is the reference")
    import minigrad
    import torch_reference
    from minigrad import functional as F
    from minigrad import optim
    from minigrad.models import training

    config = training.TrainConfig(task=task_name, model=model_name, seed=seed).validate()
    task = training.build_task(config)
    vocab = len(task.tgt_vocab)
    minigrad.manual_seed(seed)
    ours = training.build_model(config, task)
    ours.train()
    theirs = torch_reference.build(model_name, len(task.src_vocab), vocab)
    theirs.train()
    named = list(ours.named_parameters())
    params = [p for _, p in named]
    theirs_by_name = dict(theirs.named_parameters())
    optimizer = training.build_optimizer(config, ours)
    torch_optimizer = torch.optim.Adam(theirs.parameters(), lr=config.lr)
    stream = task.sample_batches(config.batch_size, seed)
    records = []
    for step in range(1, steps + 1):
        torch_reference.load_minigrad_state(theirs, ours.state_dict())  # in place: the optimizer keeps its state
        batch = next(stream)
        weights = {name: p.data.copy() for name, p in named}

        loss = F.cross_entropy(ours(batch.src, batch.tgt_in, src_lengths=batch.src_lengths), batch.tgt_out,
                               ignore_index=PAD)
        optimizer.zero_grad()
        loss.backward()
        grads = {name: p.grad.copy() for name, p in named}
        norm = optim.clip_grad_norm_(params, config.clip)
        optimizer.step()

        logits = theirs(batch.src, batch.tgt_in, src_lengths=batch.src_lengths)
        torch_loss = torch.nn.functional.cross_entropy(logits.reshape(-1, vocab),
                                                       torch.from_numpy(batch.tgt_out).reshape(-1), ignore_index=PAD)
        torch_optimizer.zero_grad()
        torch_loss.backward()
        torch_grads = {name: theirs_by_name[name].grad.numpy().copy() for name, _ in named}
        torch_norm = float(torch.nn.utils.clip_grad_norm_(theirs.parameters(), config.clip))
        torch_optimizer.step()

        if step % every and step != 1:
            continue
        updates = {name: p.data - weights[name] for name, p in named}
        torch_updates = {name: theirs_by_name[name].detach().numpy() - weights[name] for name, _ in named}
        # A parameter whose gradient is zero in exact arithmetic (an attention key bias: softmax ignores a
        # constant added to every score) gets rounding noise in both libraries; compare the others one by one.
        total = float(np.sqrt(sum(float(np.sum(torch_grads[name].astype(np.float64) ** 2)) for name in torch_grads)))
        noise = {name for name in torch_grads if np.linalg.norm(torch_grads[name]) <= NOISE_FLOOR * total}
        live = [name for name, _ in named if name not in noise]
        grad_rel = {name: relative(grads[name], torch_grads[name]) for name in live}
        update_rel = {name: relative(updates[name], torch_updates[name]) for name in live}
        worst_grad = max(grad_rel, key=grad_rel.get)
        worst_update = max(update_rel, key=update_rel.get)
        records.append({
            "step": step, "loss": float(loss.data), "torch_loss": float(torch_loss.detach()), "norm": norm,
            "torch_norm": torch_norm, "grad_rel": grad_rel[worst_grad], "grad_param": worst_grad,
            "update_rel": update_rel[worst_update], "update_param": worst_update,
            "all_grad_rel": relative(_flat(grads, live), _flat(torch_grads, live)),
            "all_update_rel": relative(_flat(updates, live), _flat(torch_updates, live)), "noise": sorted(noise),
        })
        r = records[-1]
        print(f"| {step} | {r['loss']:.6f} | {r['torch_loss']:.6f} | {norm:.4f} | {torch_norm:.4f} | "
              f"{r['all_grad_rel']:.1e} | {r['grad_rel']:.1e} ({worst_grad}) | {r['all_update_rel']:.1e} | "
              f"{r['update_rel']:.1e} ({worst_update}) |", flush=True)
    return records


def _flat(arrays: dict[str, np.ndarray], names: list[str]) -> np.ndarray:
    return np.concatenate([arrays[name].astype(np.float64).ravel() for name in names])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="rnn-attn", help="rnn-attn, rnn, rnn-luong or transformer")
    parser.add_argument("--task", default="copy", help="a task name (copy, reverse, ...)")
    parser.add_argument("--steps", type=int, default=300, help="training steps (default 300)")
    parser.add_argument("--every", type=int, default=25, help="print every N steps (default 25)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print(f"{args.model} on {args.task}, seed {args.seed}: minigrad's weights loaded into PyTorch before every step")
    print("| step | minigrad loss | PyTorch loss | minigrad grad norm | PyTorch grad norm | gradient difference, "
          "all | largest, one parameter | update difference, all | largest, one parameter |")
    print("|---|---|---|---|---|---|---|---|---|")
    records = run(args.model, args.task, args.steps, args.every, args.seed)
    print(f"\nover the printed steps: gradients within {max(r['all_grad_rel'] for r in records):.1e} "
          f"(every parameter within {max(r['grad_rel'] for r in records):.1e}), updates within "
          f"{max(r['all_update_rel'] for r in records):.1e} (every parameter within "
          f"{max(r['update_rel'] for r in records):.1e}); relative differences")
    noise = sorted({name for r in records for name in r["noise"]})
    if noise:
        print(f"gradients that are zero in exact arithmetic, left out of the comparison (rounding noise "
              f"in both libraries, which Adam turns into steps of about lr): {', '.join(noise)}")


if __name__ == "__main__":
    sys.exit(main())
