"""models.training as a library: config checks, interrupts through a callback, exact resume."""

from __future__ import annotations

import numpy as np
import pytest

from minigrad.errors import CheckpointError
from minigrad.models import training
from minigrad.models.checkpoint import load_checkpoint
from minigrad.models.training import Callback, TrainConfig, TrainingInterrupted, evaluate, predict, resume_config, train

TASK = {"vocab_size": 5, "min_len": 1, "max_len": 4, "train_size": 300, "valid_size": 24, "test_size": 24}


def tiny(**overrides) -> TrainConfig:
    fields = dict(task="copy", task_options=dict(TASK), model="rnn-attn", model_options={"embed_dim": 8, "hidden_dim": 16},
                  batch_size=16, lr=0.01, steps=16, eval_interval=5, teacher_forcing=0.75)
    fields.update(overrides)
    return TrainConfig(**fields)


class InterruptAt(Callback):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_end(self, trainer, loss: float, tokens: int) -> None:
        if trainer.step == self.step:
            raise KeyboardInterrupt


@pytest.mark.parametrize("field, value, fragment", [
    ("lr", 0.0, "lr"), ("optimizer", "adagrad", "optimizer"), ("schedule", "linear", "schedule"),
    ("batch_size", 0, "batch_size"), ("label_smoothing", 1.0, "label_smoothing"), ("stop_at", 1.5, "stop_at"),
])
def test_config_validation_names_the_field(field, value, fragment):
    with pytest.raises(ValueError, match=fragment):
        tiny(**{field: value}).validate()


def test_config_round_trips_and_rejects_unknown_keys():
    config = tiny(schedule="warmup_cosine", warmup=3)
    assert TrainConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="unknown config key 'hidden'"):
        TrainConfig.from_dict({**config.to_dict(), "hidden": 3})


def test_resume_config_allows_only_run_length_changes():
    saved = tiny()
    assert resume_config(saved, {"steps": 40}).steps == 40
    with pytest.raises(ValueError, match="lr"):
        resume_config(saved, {"lr": 0.5})
    with pytest.raises(ValueError, match="hidden_dim"):
        resume_config(saved, {"model_options": {"hidden_dim": 8}})


def test_interrupt_through_a_callback_then_resume_is_bitwise_exact(tmp_path):
    full = train(tiny(), save_dir=str(tmp_path / "full"), evaluate_at_end=False)
    with pytest.raises(TrainingInterrupted) as stop:
        train(tiny(), save_dir=str(tmp_path / "part"), callbacks=[InterruptAt(7)], evaluate_at_end=False)
    assert stop.value.step == 7 and stop.value.checkpoint == str(tmp_path / "part")
    resumed = train(tiny(), resume_from=str(tmp_path / "part"), save_dir=str(tmp_path / "part"), evaluate_at_end=False)
    assert resumed.steps == full.steps == 16
    a, b = full.model.state_dict(), resumed.model.state_dict()
    for key in a:
        assert np.array_equal(a[key], b[key]), key
    saved_model = load_checkpoint(tmp_path / "part")[0]
    for key, value in saved_model.state_dict().items():
        assert np.array_equal(value, a[key]), key


def test_interrupt_without_save_dir(tmp_path):
    with pytest.raises(TrainingInterrupted) as stop:
        train(tiny(), callbacks=[InterruptAt(3)], evaluate_at_end=False)
    assert stop.value.step == 3 and stop.value.checkpoint is None


def test_stop_at(tmp_path):
    results = train(tiny(steps=200, stop_at=0.01, eval_interval=5), evaluate_at_end=False)
    assert results.stopped_early and results.steps < 200


def test_evaluate_and_predict(tmp_path):
    results = train(tiny(steps=4), save_dir=str(tmp_path / "run"))
    model, task, config, state = load_checkpoint(tmp_path / "run")
    assert config == results.config and state.step == 4
    metrics = evaluate(model, task, "test", batch_size=7)
    assert metrics["examples"] == 24 and 0 <= metrics["sequence_accuracy"] <= metrics["token_accuracy"] + 1e-9 <= 1 + 1e-9
    assert metrics["loss"] == pytest.approx(results.metrics["test"]["loss"], rel=1e-5)
    text, tokens, attention = predict(model, task, "3 1 4")
    assert isinstance(text, str) and len(tokens) >= 1
    assert attention.shape == (len(tokens), 3)
    assert np.allclose(attention.sum(axis=1), 1.0, atol=1e-4)


def test_load_checkpoint_with_weights_of_another_model(tmp_path):
    train(tiny(steps=2), save_dir=str(tmp_path / "a"), evaluate_at_end=False)
    train(tiny(steps=2, model_options={"embed_dim": 8, "hidden_dim": 12}), save_dir=str(tmp_path / "b"), evaluate_at_end=False)
    import shutil

    from minigrad.models import checkpoint

    # b's weights under a's manifest-consistent files: rewrite a with b's weights properly
    model_state, config, task_state, state = checkpoint.read_checkpoint(tmp_path / "b")
    _, config_a, _, _ = checkpoint.read_checkpoint(tmp_path / "a")
    checkpoint.save_checkpoint(tmp_path / "mixed", model_state=model_state, optimizer_state=None, config=config_a,
                               task_state=task_state, state=state)
    with pytest.raises(CheckpointError, match=r"hidden_dim is 16, but model.safetensors holds encoder.weight_hh_l0 of shape \(36, 12\)"):
        load_checkpoint(tmp_path / "mixed")  # checked before the model is built
    shutil.rmtree(tmp_path / "mixed")


def test_attention_matrix_shapes():
    weights = np.random.default_rng(0).random((2, 5, 3))
    assert training.attention_matrix(np.ones((4, 3))).shape == (4, 3)
    assert training.attention_matrix(weights[None]).shape == (5, 3)             # (1, H, T, S): heads averaged
    assert training.attention_matrix(weights[None, None]).shape == (5, 3)       # (L=1, 1, H, T, S)
    assert training.attention_matrix([np.ones((1, 3))] * 4).shape == (4, 3)     # one row per step


def test_sigint_during_an_update_is_deferred_to_the_step_boundary(tmp_path, monkeypatch):
    import os
    import signal

    from minigrad import optim

    full = train(tiny(), evaluate_at_end=False)
    original = optim.Adam.step
    calls = {"n": 0}

    def step_with_a_signal(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 5:
            os.kill(os.getpid(), signal.SIGINT)  # arrives in the middle of the update
        return original(self, *args, **kwargs)

    monkeypatch.setattr(optim.Adam, "step", step_with_a_signal)
    with pytest.raises(TrainingInterrupted) as stop:
        train(tiny(), save_dir=str(tmp_path / "part"), evaluate_at_end=False)
    assert stop.value.step == 5  # the update that was running completed
    monkeypatch.setattr(optim.Adam, "step", original)
    resumed = train(tiny(), resume_from=str(tmp_path / "part"), evaluate_at_end=False)
    for key, value in full.model.state_dict().items():
        assert np.array_equal(value, resumed.model.state_dict()[key]), key
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_resuming_with_a_longer_run_retargets_the_cosine_schedule(tmp_path):
    import math

    train(tiny(steps=8, schedule="cosine"), save_dir=str(tmp_path / "run"), evaluate_at_end=False)
    trainer = training.Trainer(tiny(steps=24, schedule="cosine"), resume_from=str(tmp_path / "run"))
    assert trainer.step == 8 and trainer.scheduler.T_max == 24
    expected = 0.01 * (1 + math.cos(math.pi * 8 / 24)) / 2
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(expected)


def test_a_fresh_run_saved_over_another_checkpoint_does_not_inherit_its_best(tmp_path):
    from minigrad.models import checkpoint
    from minigrad.models.training import TrainConfig, Trainer

    path = tmp_path / "ck"
    old = Trainer(TrainConfig(model="rnn", steps=2, seed=1, model_options={"hidden_dim": 8, "embed_dim": 4}),
                  save_dir=str(path))
    old.save()
    old.save(best=True)
    assert checkpoint.is_checkpoint(path / "best")
    fresh = Trainer(TrainConfig(model="rnn", steps=2, seed=2, model_options={"hidden_dim": 8, "embed_dim": 4}),
                    save_dir=str(path))
    fresh.save()
    assert not (path / "best").exists()  # the old run's best model is not this run's
    fresh.save(best=True)
    fresh.save()
    assert checkpoint.is_checkpoint(path / "best")  # its own best is kept from then on
