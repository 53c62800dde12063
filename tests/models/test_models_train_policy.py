"""The library's resume and save-directory rules (models.train.config, models.train.resume), without the CLI."""

from __future__ import annotations

import pytest

from minigrad.models import training
from minigrad.models.train import resume as policy

TINY = training.TrainConfig(task="copy", task_options={"vocab_size": 5, "min_len": 1, "max_len": 3, "train_size": 40,
                                                       "valid_size": 8, "test_size": 8},
                            model_options={"embed_dim": 4, "hidden_dim": 8}, batch_size=8, steps=2, eval_interval=0)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    directory = str(tmp_path_factory.mktemp("policy") / "ck")
    training.train(TINY, save_dir=directory, evaluate_at_end=False)
    return directory


@pytest.mark.parametrize("fields, task_options, model_options, conflict", [
    ({"steps": 50, "eval_size": 3}, {}, {}, None),                                  # resumable fields
    ({"lr": 0.5}, {}, {}, ("config", "lr", 0.001, 0.5)),
    ({}, {"max_len": 4}, {}, ("task", "max_len", 3, 4)),
    ({}, {}, {"dropout": 0.1}, ("model", "dropout", None, 0.1)),                     # unset in the checkpoint
    ({}, {}, {"hidden_dim": 8}, None),                                              # the same value again
])
def test_resume_conflict_names_the_first_changed_option(fields, task_options, model_options, conflict):
    found = training.resume_conflict(TINY, fields, task_options, model_options)
    assert (None if found is None else (found.target, found.key, found.saved, found.given)) == conflict


def test_resume_conflict_complete_counts_an_option_left_out():
    found = training.resume_conflict(TINY, {}, dict(TINY.task_options), {"embed_dim": 4}, complete=True)
    assert (found.key, found.saved, found.given) == ("hidden_dim", 8, None)
    with pytest.raises(ValueError, match=r"trained with hidden_dim=8; a resumed run cannot change it \(got its default\)"):
        training.check_resumable(training.TrainConfig.from_dict({**TINY.to_dict(), "model_options": {"embed_dim": 4}}),
                                 TINY, "ck")


def test_a_fresh_run_may_not_take_another_runs_checkpoint(saved, tmp_path):
    with pytest.raises(policy.CheckpointOccupied) as caught:
        policy.check_save_target(saved, None, overwrite=False)
    assert caught.value.description == "step 2, rnn-attn on copy"
    policy.check_save_target(saved, saved, overwrite=False)  # resuming it
    policy.check_save_target(saved, None, overwrite=True)    # replacing it
    policy.check_save_target(str(tmp_path / "new"), None, overwrite=False)


def test_replacing_a_checkpoint_refuses_a_best_holding_the_users_files(saved, tmp_path):
    import shutil

    copy = tmp_path / "ck"
    shutil.copytree(saved, copy)  # its best/ is the final validation's
    (copy / "best" / "notes.txt").write_text("mine")
    with pytest.raises(policy.BestNotReplaceable, match="notes.txt"):
        policy.check_save_target(str(copy), None, overwrite=True)


@pytest.mark.parametrize("total, explicit, refused", [(3, True, False), (2, False, False), (2, True, True),
                                                      (1, False, True)])
def test_a_resumed_run_must_train_beyond_the_saved_step(total, explicit, refused):
    if refused:
        with pytest.raises(policy.RunTooShort) as caught:
            policy.check_run_length(2, total, None, explicit)
        assert (caught.value.step, caught.value.total_steps) == (2, total)
    else:
        policy.check_run_length(2, total, None, explicit)
