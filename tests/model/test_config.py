"""Run settings: validation, and which settings were chosen (``explicit``) as opposed to left unset."""

from __future__ import annotations

import pickle
from dataclasses import fields

import pytest

from her2sim.errors import ConfigError
from her2sim.model.config import MABOSS_DEFAULTS, SETTINGS, SimulationConfig

NOTHING = frozenset[str]()


def test_settings_name_every_field_but_the_record_of_them() -> None:
    assert {f.name for f in fields(SimulationConfig)} == SETTINGS | {"explicit"}


def test_a_configuration_built_in_code_states_every_setting() -> None:
    assert SimulationConfig().explicit == SETTINGS
    assert MABOSS_DEFAULTS.explicit == SETTINGS


def test_with_makes_the_changed_settings_explicit() -> None:
    config = SimulationConfig(explicit=NOTHING).with_(threads=1, seed=0)
    assert config.explicit == {"threads", "seed"}
    assert config.with_(max_time=5.0).explicit == {"threads", "seed", "max_time"}


def test_over_keeps_what_is_stated_even_at_a_default_value() -> None:
    stated = SimulationConfig(explicit=NOTHING).with_(threads=1, max_time=1000.0)
    laid = stated.over(SimulationConfig(max_time=7, time_tick=0.5, sample_count=20, threads=None))
    assert (laid.threads, laid.max_time, laid.time_tick, laid.sample_count) == (1, 1000.0, 0.5, 20)
    assert laid.explicit == SETTINGS  # the defaults it was laid over state the rest
    unset = SimulationConfig(explicit=NOTHING)
    assert unset.over(MABOSS_DEFAULTS) == MABOSS_DEFAULTS


def test_over_is_validated_as_a_whole() -> None:
    stated = SimulationConfig(explicit=NOTHING).with_(time_tick=50.0)
    with pytest.raises(ConfigError, match="time_tick"):
        stated.over(SimulationConfig(max_time=10))


def test_explicit_is_provenance_not_a_setting() -> None:
    """Equal settings are equal configurations (and hash alike) whatever states them."""
    unset = SimulationConfig(explicit=NOTHING)
    assert unset == SimulationConfig()
    assert hash(unset) == hash(SimulationConfig())
    assert "explicit" not in repr(unset)
    again = pickle.loads(pickle.dumps(unset.with_(seed=3)))
    assert again.explicit == {"seed"}


def test_explicit_names_only_settings() -> None:
    with pytest.raises(ConfigError, match="maxtime"):
        SimulationConfig(explicit=frozenset({"maxtime"}))
