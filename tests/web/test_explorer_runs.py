"""Runs from the explorer's page, driven over HTTP: forged control values."""

from __future__ import annotations

from typing import Any

import pytest

from her2sim.web.app import create_app
from tests.web.conftest import Page, serving


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with serving(create_app(tmp_path_factory.mktemp("page"))) as base:
        yield Page(base)


@pytest.mark.parametrize("dose", [400, "a lot", None, [0]], ids=["400", "text", "none", "list"])
def test_a_forged_dose_slider_value_is_a_clear_error(page: Page, dose: object) -> None:
    status, outputs = page.run(clicks=1, dose=dose)
    assert status == 200 and outputs["status"]["children"].startswith("error: the dose slider"), outputs


def test_a_run_from_the_page_answers(page: Page) -> None:
    status, outputs = page.run(clicks=2, dose=0.3)
    assert status == 200 and outputs["status"]["children"].startswith("done"), outputs
    assert outputs["headline"]["children"].startswith("ERBB2:amp | trastuzumab@")  # about twice the standard dose
