"""The explorer's "Your model" tab over HTTP, as the browser's renderer drives it: uploads read
or refused with one line, a run with a mutation, Cancel, and the views of the answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from her2sim.web.app import create_app
from her2sim.web.own import MAX_UPLOAD
from tests.web.conftest import Page, serving
from tests.web.test_own_service import TOY, data_url


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with serving(create_app(tmp_path_factory.mktemp("own"))) as base:
        yield Page(base)


def uploaded(page: Page, *files: tuple[str, str]) -> dict[str, Any]:
    """The outputs of an upload of ``files`` (as the browser's size check passes them on)."""
    checked = {"names": [name for name, _ in files], "contents": [data_url(text) for _, text in files]}
    status, outputs = page.call("own-model.data", {"own-upload-checked.data": checked})
    assert status == 200, outputs
    return outputs


def test_the_tab_opens_on_the_example_model(tmp_path: Path) -> None:
    layout = create_app(tmp_path).layout
    stored = layout["own-model"].data
    assert [name for name, _ in stored["files"]] == ["erbb_core.bnd", "erbb_core.cfg"]
    assert layout["own-upload-status"].children.startswith("read erbb_core.bnd + erbb_core.cfg: 9 nodes, 2 inputs")
    assert len([e for e in layout["own-network"].elements if "label" in e["data"]]) == 9
    assert layout["own-max-time"].value == "20" and layout["own-on"].options[0] == "NRG1"


def test_a_good_upload_replaces_the_model_and_clears_the_last_answer(page: Page) -> None:
    outputs = uploaded(page, ("toy.bnet", TOY))
    assert outputs["own-upload-status"]["children"] == "read toy.bnet: 3 nodes, 1 input, 4 regulations, 0 parameters"
    assert outputs["own-on"] == {"options": ["A", "B", "C"], "value": []} and outputs["own-answer"]["data"] is None
    assert outputs["own-model"]["data"]["graph"]["edges"] == [["A", "A", 1], ["A", "B", 1], ["C", "B", -1],
                                                              ["B", "C", 1]]  # fmt: skip
    assert outputs["own-max-time"]["value"] == "50" and outputs["own-parameters"]["data"] == []


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([("bad.bnet", "A, A\nB, A &\n")], "error: bad.bnet:2:"),
        ([("erbb.cfg", "max_time = 5;")], "error: erbb.cfg is a MaBoSS configuration: choose it together"),
        ([("big.bnet", "#" * (MAX_UPLOAD + 10))], "error: big.bnet is 2.0 MB, more than the 2 MB the explorer reads"),
    ],
    ids=["syntax", "cfg alone", "too large"],
)  # fmt: skip
def test_a_bad_upload_says_why_in_one_line_and_keeps_the_model(page: Page, files: list[Any], message: str) -> None:
    outputs = uploaded(page, *files)
    status = outputs["own-upload-status"]["children"]
    assert status.startswith(message) and "\n" not in status and len(status) < 300, status
    assert set(outputs) == {"own-upload-status"}  # the model, its controls and its answer stay


def run(page: Page, clicks: int, stored: Any, **values: Any) -> dict[str, Any]:
    """Click the tab's Run with the model ``stored`` and the controls' ``values``."""
    controls = {"own-model.data": stored, "own-on": values.get("on", []), "own-off": values.get("off", []),
                "own-parameters.data": values.get("parameters", []), "own-max-time": values.get("max_time", "10"),
                "own-samples": values.get("samples", "300")}  # fmt: skip
    status, outputs = page.click(page._output("own-status"), "own-run", clicks, controls)
    assert status == 200, outputs
    return outputs


def test_a_run_with_a_mutation_and_its_views(page: Page) -> None:
    stored = uploaded(page, ("toy.bnet", TOY))["own-model"]["data"]
    outputs = run(page, 1, stored, on=["A"], off=["C"])
    assert outputs["own-status"]["children"] == "done (300 trajectories to time 10)"
    answer = outputs["own-answer"]["data"]
    assert answer["final"]["C"] == 0 and answer["final"]["A"] == 1 and answer["final"]["B"] > 0.95
    _, views = page.call("own-network.elements", {"own-answer.data": answer, "own-model.data": stored})
    assert views["own-headline"]["children"] == "toy: A ON, C OFF"
    assert views["own-caption"]["children"].startswith("Node colour: probability on in the last time window")
    labels = {e["data"]["id"]: e["data"]["label"] for e in views["own-network"]["elements"] if "label" in e["data"]}
    assert labels == {"A": "A\nON (fixed)", "B": "B\n1.00", "C": "C\nOFF (fixed)"}
    edges = [e for e in views["own-network"]["elements"] if "source" in e["data"]]
    assert {e["classes"] for e in edges} == {"activates", "inhibits"} and len(edges) == 3  # A's self-loop left out
    pie = views["own-states"]["figure"]
    assert pie["data"][0]["type"] == "pie" and pie["data"][0]["labels"] == ["A -- B"]
    _, chosen = page.call("own-plot-nodes.options", {"own-answer.data": answer})
    assert set(chosen["own-plot-nodes"]["value"]) == {"A", "B", "C"}
    _, plot = page.call("own-trajectories.figure", {"own-plot-nodes.value": ["B"], "own-answer.data": answer})
    layout = plot["own-trajectories"]["figure"]["layout"]
    assert layout["xaxis"]["title"]["text"] == "time (model rate units)" and layout["yaxis"]["title"]["text"]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"on": ["Z"]}, "error: fixed ON: unknown node 'Z'"),
        ({"samples": "50000"}, "error: trajectories must be an integer from 100 to 10000, got '50000'"),
        ({"max_time": "soon"}, "error: max time must be a number from 0.1 to 10000 (model rate units), got 'soon'"),
    ],
)
def test_a_bad_run_says_what_was_typed(page: Page, values: dict[str, Any], message: str) -> None:
    stored = uploaded(page, ("toy.bnet", TOY))["own-model"]["data"]
    outputs = run(page, 2, stored, **values)
    assert outputs["own-status"]["children"] == message and set(outputs) == {"own-status"}


def test_a_run_without_a_model_asks_for_one(page: Page) -> None:
    outputs = run(page, 3, {"files": "forged"})
    assert outputs["own-status"]["children"].startswith("error: upload a model first")


def test_cancel_leaves_a_cancelled_status(page: Page) -> None:
    status, outputs = page.call("own-status.children", {"own-cancel.n_clicks": 1})
    assert status == 200 and outputs["own-status"]["children"] == "cancelled"


def test_a_run_beyond_the_job_limit_is_busy_in_this_tab(tmp_path: Path) -> None:
    with serving(create_app(tmp_path, max_jobs=1)) as base:
        page = Page(base)
        controls = {"alterations": ["ERBB2:amp"], "therapies": ["lapatinib"], "dose": 0, "doses": "",
                    "samples": 4000}  # fmt: skip
        long = page.start(page.output, "run", 1, controls)  # the scenario's job holds the only slot
        stored = uploaded(page, ("toy.bnet", TOY))["own-model"]["data"]
        outputs = run(page, 1, stored)
        assert outputs["own-status"]["children"].startswith("busy: 1 runs going") and set(outputs) == {"own-status"}
        status, outputs = page.finish(*long)
        assert status == 200 and outputs["status"]["children"].startswith("done"), outputs
