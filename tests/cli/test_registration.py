"""The command modules add their commands to an app when asked, not when imported."""

from __future__ import annotations

import typer
from typer.main import get_command

from her2sim.cli import app, calibration, experiments, her2, maboss, report, trials, tumour


def _names(group: typer.Typer) -> list[str]:
    return list(get_command(group).commands)  # type: ignore[attr-defined]


def test_importing_a_command_module_registers_nothing() -> None:
    fresh = typer.Typer()
    fresh.callback()(lambda: None)  # a group, however few commands it has
    assert _names(fresh) == []
    experiments.register(fresh)
    assert _names(fresh) == ["dose-response", "screen", "landscape", "predict", "cohort", "sensitivity"]


def test_the_app_has_every_module_s_commands_in_help_order() -> None:
    names = _names(app)
    assert names[:5] == ["info", "convert", "simulate", "attractors", "figure"]
    expected = {"calibrate", "run", "validate", "dose-response", "maboss", "report", "serve", "trial", "tumour"}
    assert expected <= set(names) and len(names) == len(set(names))
    assert all(callable(module.register) for module in (calibration, her2, maboss, report, trials, tumour))
