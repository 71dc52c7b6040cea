"""Shared test fixtures: the published models in ``../shared/models`` and a slow-test switch."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
MODELS = SHARED / "models"
DATA = Path(__file__).resolve().parent / "data"
#: Published models vendored with the tests (sources and terms in its README.md), so tests that
#: need them run on a clean clone; the rest of the corpus is read from ../shared/models if present.
PUBLISHED = DATA / "published"


def shared_models(pattern: str) -> list[Path]:
    """Published model files matching ``pattern``: the vendored copy when there is one, else
    ../shared/models (empty when neither has it)."""
    found = {p.name: p for folder in (MODELS, PUBLISHED) if folder.is_dir() for p in folder.glob(pattern)}
    return [found[name] for name in sorted(found)]


def model_params(pattern: str) -> list:
    """pytest parameters over shared models, or one skipped parameter when ../shared is absent."""
    files = shared_models(pattern)
    if not files:
        return [pytest.param(None, marks=pytest.mark.skip(reason="../shared/models is not present"))]
    return [pytest.param(f, id=f.name) for f in files]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runslow", action="store_true", default=False, help="run tests marked slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
