"""RunSettings: one validated value for how the HER2 model is simulated."""

from __future__ import annotations

import numpy as np
import pytest

from her2sim.errors import ConfigError
from her2sim.her2.model import load_config
from her2sim.her2.settings import DEFAULT_SETTINGS, RunSettings


def test_unset_fields_keep_the_model_cfg() -> None:
    assert DEFAULT_SETTINGS.config() == load_config()
    config = RunSettings(samples=250, max_time=30, seed=4, threads=1).config()
    assert (config.sample_count, config.max_time, config.seed, config.threads) == (250, 30, 4, 1)
    assert config.time_tick == load_config().time_tick


def test_settings_are_frozen_and_copied_with_changes() -> None:
    settings = RunSettings(samples=300, target_se=0.01)
    with pytest.raises(AttributeError):
        settings.samples = 5  # type: ignore[misc]
    assert settings.with_(threads=1) == RunSettings(samples=300, target_se=0.01, threads=1)
    assert RunSettings(samples=np.int64(7)).samples == 7  # NumPy integers are whole numbers


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"samples": 0}, r"samples must be a whole number from 1 .*got 0; give a positive number of trajectories"),
        ({"samples": True}, r"samples must be a whole number"),
        ({"samples": 2.5}, r"samples must be a whole number"),
        ({"max_time": -1.0}, r"max_time must be a positive number, got -1.0; give the simulated time"),
        ({"max_time": float("inf")}, r"max_time must be a positive number"),
        ({"seed": -1}, r"seed must be a whole number in \[0, 2\*\*63\), got -1"),
        ({"threads": 0}, r"threads must be a whole number from 1 to 4096, got 0; leave it out"),
        ({"target_se": 1.0}, r"target standard error must be in \(0, 1\), got 1.0; give a probability"),
        ({"target_se": 0}, r"target standard error must be in \(0, 1\)"),
    ],
)
def test_impossible_settings_fail_in_one_line_with_a_fix(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        RunSettings(**changes)  # type: ignore[arg-type]
    assert "\n" not in str(caught.value)
    with pytest.raises(ConfigError, match=message):
        DEFAULT_SETTINGS.with_(**changes)  # type: ignore[arg-type]
