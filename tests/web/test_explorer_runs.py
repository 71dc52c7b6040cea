"""Runs from the explorer's page, driven over HTTP: forged control values and many users at once."""

from __future__ import annotations

import contextlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psutil  # dash[diskcache] needs it: Dash's DiskcacheManager watches its job processes with it
import pytest
from typer.testing import CliRunner

from her2sim.cli import app as cli
from her2sim.errors import ConfigError
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


def _descendants() -> tuple[int, int]:
    """How many live processes descend from this one (the explorer's jobs, their fork server and
    multiprocess's resource tracker) and their summed resident memory in bytes."""
    count = rss = 0
    for process in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):  # a job may end while we look
            if process.status() != psutil.STATUS_ZOMBIE:
                rss += process.memory_info().rss
                count += 1
    return count, rss


def test_fifty_users_running_at_once_get_results_or_busy_and_processes_stay_bounded(tmp_path: Path) -> None:
    before, peak, done = _descendants(), [0, 0], threading.Event()

    def watch() -> None:
        while not done.is_set():
            peak[:] = map(max, peak, _descendants())
            time.sleep(0.01)

    watcher = threading.Thread(target=watch)
    with serving(create_app(tmp_path, max_jobs=2)) as base:
        page = Page(base)
        watcher.start()
        try:
            with ThreadPoolExecutor(max_workers=50) as pool:
                answers = list(pool.map(lambda i: page.run(clicks=i + 1), range(50)))
        finally:
            done.set()
            watcher.join()
    assert {status for status, _ in answers} == {200}, answers[:3]
    messages = [outputs["status"]["children"] for _, outputs in answers]
    assert all(m.startswith(("done", "busy: ")) for m in messages), messages
    assert any(m.startswith("done") for m in messages) and any(m.startswith("busy: ") for m in messages)
    assert peak[0] <= before[0] + 2 + 2  # two jobs, the fork server and the resource tracker
    assert peak[1] - before[1] < 2e9  # the same four processes, not fifty


def test_serve_refuses_an_impossible_job_limit() -> None:
    result = CliRunner().invoke(cli, ["serve", "--max-jobs", "0"])
    assert isinstance(result.exception, ConfigError) and "--max-jobs" in str(result.exception)
