"""The training loop, split by job (the public names are re-exported by ``minigrad.models.training``).

- ``config``: ``TrainConfig``, its checks, and the one rule of what a resumed run may change.
- ``build``: the task, model, optimizer and schedule a config describes.
- ``objectives``: one class per workload (seq2seq, per-position, language model) owning its
  loss, evaluation, score and splits; ``objective_for(task, model)`` picks it.
- ``decoding``: ``decode``, ``predict``, ``attention_matrix``.
- ``evaluate``: ``evaluate(model, task, split, ...)``.
- ``loop``: ``Trainer``, ``train``, ``Callback``, ``Results``.
- ``resume``: the checkpoint and resume policy (which directory a run may save to, how far a
  resumed run must go).

Imports run one way: ``config`` <- ``build`` <- ``models.checkpoint`` <- ``loop``, ``resume``; this
``__init__`` imports none of them, so any of them can be imported first.
"""
