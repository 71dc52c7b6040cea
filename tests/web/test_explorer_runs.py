"""Runs from the explorer's page, driven over HTTP: forged control values and many users at once."""

from __future__ import annotations

import contextlib
import re
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


def test_out_of_range_trajectories_say_what_was_typed(page: Page) -> None:
    _, outputs = page.run(clicks=3, samples="50000")
    assert outputs["status"]["children"] == "error: samples must be an integer from 100 to 4000, got '50000'"
    _, outputs = page.run(clicks=4, doses=["lapatinib@1uM"])  # a forged doses field
    assert outputs["status"]["children"].startswith("error: doses must be text such as lapatinib@250nM")


def test_a_combination_shows_standard_errors_and_a_dose_response_per_drug_in_its_unit(page: Page) -> None:
    status, outputs = page.run(clicks=5, doses="lapatinib@1uM", samples="200")
    assert outputs["status"]["children"].startswith("done"), outputs["status"]
    assert outputs["headline"]["children"] == "ERBB2:amp | trastuzumab + lapatinib"
    assert [c["name"] for c in outputs["summary"]["columns"]] == ["readout", "untreated (± SE)", "treated (± SE)",
                                                                   "effect (± SE)"]  # fmt: skip
    assert re.fullmatch(r"0\.\d{3} ± 0\.0\d\d", outputs["summary"]["data"][0]["effect"])
    figures = [graph["props"]["figure"]["layout"] for graph in outputs["dose-curves"]["children"]]
    titles = [f["title"]["text"] for f in figures]
    assert titles[0].startswith("trastuzumab in ERBB2:amp over lapatinib 1 uM<br>") and "IC50" in titles[0]
    assert titles[1].startswith("lapatinib in ERBB2:amp over trastuzumab 1x<br>")
    assert [f["xaxis"]["title"]["text"] for f in figures] == ["dose (multiples of 10 ug/mL, log scale)",
                                                                "dose (uM, log scale)"]  # fmt: skip
    assert all(f["yaxis"]["range"] == [-0.05, 1.05] and f["yaxis"]["title"]["text"] for f in figures)
    for figure in (outputs["course"]["figure"], outputs["tumour"]["figure"]):
        assert figure["layout"]["xaxis"]["title"]["text"] and figure["layout"]["yaxis"]["title"]["text"]
    kept = outputs["scenario-answer"]["data"]
    for condition in ("treated", "untreated"):
        status, network = page.call("network.elements", {"scenario-answer.data": kept, "condition.value": condition})
        caption = network["network-caption"]["children"]
        assert status == 200 and caption.startswith(f"Node colour: probability on at steady state, {condition}")
        akt = next(e for e in network["network"]["elements"] if e["data"].get("id") == "AKT")
        assert akt["data"]["label"] == f"AKT\n{kept['nodes']['AKT'][condition]:.2f}"


def test_before_a_run_the_network_says_it_is_not_simulated(page: Page) -> None:
    _, network = page.call("network.elements", {"scenario-answer.data": None, "condition.value": "treated"})
    assert network["network-caption"]["children"].startswith("Not simulated yet")
    assert all("unknown" in e["classes"] for e in network["network"]["elements"] if "label" in e["data"])


def test_cancel_leaves_a_cancelled_status(page: Page) -> None:
    status, outputs = page.call("status.children", {"cancel.n_clicks": 1})
    assert status == 200 and outputs["status"]["children"] == "cancelled" and outputs["progress"]["value"] == "0"


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
