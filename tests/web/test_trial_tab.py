"""The explorer's Trial tab: request checks, answers (cached), the page's trial runs and ``/api/trial``.

Runs simulate NeoSphere with 10 patients per arm (neoadjuvant, the fastest shipped design);
its response tables go to a temporary ``HER2SIM_CACHE``, set before the app starts. The
metastatic parts of an answer (Kaplan-Meier, waterfall, progression drivers, published rows)
are checked on a synthetic trial result rather than a simulation of minutes.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from her2sim.errors import ConfigError, UnknownNameError
from her2sim.web import service
from her2sim.web.app import _trial_figures, create_app
from her2sim.web.service import LIMITS, TrialRequest, parse_trial_body, parse_trial_request, trial_answer
from tests.conftest import REPO
from tests.web.conftest import Page, post, serving

SHIPPED = "CLEOPATRA, DAISY, DESTINY-Breast03"


@pytest.mark.parametrize(
    ("params", "error", "fragment"),
    [
        ({"trial": "NeoSphre"}, UnknownNameError, "did you mean 'NeoSphere'"),
        ({"trial": "ACME-1"}, ConfigError, f"unknown trial 'ACME-1' (the shipped trials: {SHIPPED}"),
        ({}, ConfigError, "trial: name one of the shipped trials"),
        ({"trial": " "}, ConfigError, "trial: name one of the shipped trials"),
        ({"trial": ["NeoSphere"]}, ConfigError, "trial must be the name of a shipped trial"),
        ({"trial": 5}, ConfigError, "trial must be the name of a shipped trial"),
        ({"trial": "N" * 100_000}, ConfigError, "at most 64 characters"),
        ({"trial": "NeoSphere", "patients": 9}, ConfigError, "patients must be an integer from 10 to 500"),
        ({"trial": "NeoSphere", "patients": 501}, ConfigError, "got 501"),
        ({"trial": "NeoSphere", "patients": "-3"}, ConfigError, "patients"),
        ({"trial": "NeoSphere", "patients": "ten"}, ConfigError, "got 'ten'"),
        ({"trial": "NeoSphere", "patients": 10.5}, ConfigError, "got 10.5"),
        ({"trial": "NeoSphere", "patients": 20.0}, ConfigError, "patients"),  # a whole float is no integer here
        ({"trial": "NeoSphere", "patients": "1e2"}, ConfigError, "patients"),
        ({"trial": "NeoSphere", "patients": True}, ConfigError, "patients"),
        ({"trial": "NeoSphere", "patients": None}, ConfigError, "got None"),  # an emptied number field
        ({"trial": "NeoSphere", "patients": [10]}, ConfigError, "got an array"),
        ({"trial": "NeoSphere", "patients": "²"}, ConfigError, "patients"),
        ({"trial": "NeoSphere", "patients": "9" * 5000}, ConfigError, "..."),
        ({"trial": "NeoSphere", "seed": -1}, ConfigError, "seed must be an integer from 0 to 1000000"),
        ({"trial": "NeoSphere", "arms": 2}, ConfigError, "unknown parameter 'arms' (trial, patients, seed)"),
    ],
)
def test_bad_trial_requests_are_refused_with_one_line(
    params: dict[str, Any], error: type[Exception], fragment: str
) -> None:
    with pytest.raises(error) as info:
        parse_trial_request(params)
    message = str(info.value)
    assert fragment in message and "\n" not in message and len(message) < 200, message[:300]


def test_trial_requests_read_names_aliases_and_digits() -> None:
    assert parse_trial_request({"trial": "neosphere"}) == TrialRequest("NeoSphere", 100, 0)
    assert parse_trial_request({"trial": "DB-03", "patients": "20", "seed": "7"}) == TrialRequest(
        "DESTINY-Breast03", 20, 7
    )
    assert parse_trial_request({"trial": "EMILIA", "patients": LIMITS["max_patients"]}).patients == 500
    assert parse_trial_body(b'{"trial": "NeoSphere", "patients": 10}') == {"trial": "NeoSphere", "patients": 10}
    with pytest.raises(ConfigError, match=re.escape('such as {"trial": "NeoSphere"')):
        parse_trial_body(b"[]")


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh response-table cache for this module's simulations (and the apps' jobs)."""
    path = tmp_path_factory.mktemp("tables")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HER2SIM_CACHE", str(path))
        yield path


@pytest.fixture(scope="module")
def neosphere(tables: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """NeoSphere with 10 patients per arm, answered once into a cache directory."""
    cache = tmp_path_factory.mktemp("answers")
    return cache, trial_answer(TrialRequest("NeoSphere", 10), cache)


def test_a_neoadjuvant_trial_answers_pcr_and_its_published_rows(neosphere: tuple[Path, dict[str, Any]]) -> None:
    cache, answer = neosphere
    json.dumps(answer, allow_nan=False)  # plain, strict JSON
    assert answer["trial"] == "NeoSphere" and answer["setting"] == "neoadjuvant" and answer["patients"] == 10
    assert answer["arms"] == ["TH", "THP", "HP", "TP"]
    assert [(r["arm"], r["subgroup"], r["endpoint"], r["n"]) for r in answer["summary"]] == [
        (arm, "all", "pCR_pct", 10) for arm in answer["arms"]
    ]
    assert [r["id"] for r in answer["comparison"]] == ["T01", "T02", "T03", "T04"]
    for row in answer["comparison"]:
        assert {"published", "simulated", "within"} <= set(row) and isinstance(row["within"], bool)
    pcr = {r["arm"]: r["value"] for r in answer["summary"]}
    assert answer["pcr_pct"] == pytest.approx(pcr)
    assert answer["km"] is None and answer["waterfall"] is None and answer["drivers"] == []
    km, response = _trial_figures(answer)
    assert not km.data and [t.name for t in response.data] == ["simulated", "published"]
    steps: list[int] = []
    again = trial_answer(TrialRequest("NeoSphere", 10), cache, lambda i, _: steps.append(i))
    assert again == answer and steps == []  # from the cache, nothing simulated


def _synthetic_emilia(*_: Any, **__: Any) -> Any:
    """A made-up EMILIA result (40 patients per arm) in run_trial's shape, for the metastatic parts."""
    from her2sim.trials.analysis import summary
    from her2sim.trials.simulate import TrialResult

    rng = np.random.default_rng(3)
    arms = np.repeat(["T-DM1", "lapatinib+capecitabine"], 40)
    months = rng.exponential(np.where(arms == "T-DM1", 10.0, 6.0))
    progressed = months < 30
    change = rng.uniform(-100, 60, len(arms))
    change[::13] = np.nan  # no measurable disease
    table = pd.DataFrame({
        "trial": "EMILIA", "arm": arms, "pfs_months": np.minimum(months, 30), "progressed": progressed,
        "response": np.where(change < -30, "PR", np.where(change > 20, "PD", "SD")), "best_change_pct": change,
        "mechanism": np.where(progressed, rng.choice(["main clone regrowth", "subclone PIK3CA:H1047R"], len(arms)), ""),
    })  # fmt: skip
    return TrialResult(table, summary(table, control="lapatinib+capecitabine"), ("a note",))


def test_a_metastatic_answer_has_curves_waterfalls_drivers_and_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("her2sim.trials.simulate.run_trial", _synthetic_emilia)
    answer = trial_answer(parse_trial_request({"trial": "emilia", "patients": 40}), tmp_path)
    json.dumps(answer, allow_nan=False)
    patients = _synthetic_emilia().patients
    assert answer["arms"] == ["T-DM1", "lapatinib+capecitabine"] and answer["pcr_pct"] is None
    assert {r["endpoint"] for r in answer["summary"]} == {"ORR_pct", "median_PFS_months", "PFS_12mo_pct",
                                                          "PFS_24mo_pct", "PFS_HR"}  # fmt: skip
    assert [r["id"] for r in answer["comparison"]] == ["T13", "T14", "T15", "T16"]
    for arm in answer["arms"]:
        curve, part = answer["km"][arm], patients[patients["arm"] == arm]
        assert curve["months"][0] == 0 and curve["survival_pct"][0] == 100
        assert all(a >= b for a, b in zip(curve["survival_pct"], curve["survival_pct"][1:], strict=False))
        assert curve["survival_pct"][-1] == pytest.approx(100 * (1 - part["progressed"].mean()))  # censored at 30
        bars = answer["waterfall"][arm]["best_change_pct"]
        assert bars == sorted(part["best_change_pct"].dropna(), reverse=True)
        assert len(answer["waterfall"][arm]["response"]) == len(bars)
    counted = patients[patients["progressed"]].groupby(["arm", "mechanism"]).size()
    assert {(r["arm"], r["mechanism"]): r["patients"] for r in answer["drivers"]} == counted.to_dict()
    assert answer["notes"] == ["a note"]
    km, response = _trial_figures(answer)
    assert [t.name for t in km.data] == answer["arms"] and len(response.data) == 2


@pytest.fixture(scope="module")
def page_tables(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("page-tables")


@pytest.fixture(scope="module")
def page(tables: Path, page_tables: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    """The explorer, started while ``HER2SIM_CACHE`` is ``page_tables`` (set back at once): its
    jobs fork from a fork server that may have started earlier, with another environment."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HER2SIM_CACHE", str(page_tables))
        app = create_app(tmp_path_factory.mktemp("page"))
    with serving(app) as base:
        yield Page(base)


def test_a_trial_run_from_the_page_answers(page: Page, page_tables: Path) -> None:
    status, outputs = page.run_trial(clicks=1, trial="NeoSphere", patients=10)
    assert status == 200 and outputs["trial-status"]["children"] == "done (10 patients per arm, seed 0)", outputs
    assert outputs["trial-headline"]["children"][0] == "NeoSphere (neoadjuvant)"
    assert [r["arm"] for r in outputs["trial-summary"]["data"]] == ["TH", "THP", "HP", "TP"]
    assert [r["id"] for r in outputs["trial-comparison"]["data"]] == ["T01", "T02", "T03", "T04"]
    assert [c["id"] for c in outputs["trial-comparison"]["columns"]] == [
        "id", "arm", "subgroup", "endpoint", "published", "simulated", "within",
    ]  # fmt: skip
    assert {r["within"] for r in outputs["trial-comparison"]["data"]} <= {"yes", "no"}
    assert outputs["trial-tables"]["style"] == {} and outputs["trial-drivers-box"]["style"] == {"display": "none"}
    assert not outputs["trial-km"]["figure"]["data"]  # no Kaplan-Meier curves for a neoadjuvant trial
    assert outputs["trial-response"]["figure"]["data"][0]["x"] == ["TH", "THP", "HP", "TP"]
    assert "status" not in outputs  # the Scenario tab's status line is left alone
    assert list(page_tables.rglob("*.npz")), "the job built its response tables elsewhere than the server's cache"


@pytest.mark.parametrize(
    ("trial", "patients", "fragment"),
    [("CLEOPATRE", 10, "error: unknown trial 'CLEOPATRE' (did you mean 'CLEOPATRA'?)"),
     (None, 10, "error: trial: name one of the shipped trials"),
     ("NeoSphere", 5000, "error: patients must be an integer from 10 to 500 (per arm), got 5000"),
     ("NeoSphere", "ten", "error: patients must be"),
     ("NeoSphere", None, "error: patients must be"),
     ("NeoSphere", [1], "error: patients must be")],
)  # fmt: skip
def test_forged_trial_controls_are_a_one_line_error(page: Page, trial: object, patients: object, fragment: str) -> None:
    status, outputs = page.run_trial(clicks=2, trial=trial, patients=patients)
    message = outputs["trial-status"]["children"]
    assert status == 200 and message.startswith(fragment) and "\n" not in message, outputs


def test_a_trial_run_beyond_the_job_limit_is_busy_in_the_trial_tab(tables: Path, tmp_path: Path) -> None:
    with serving(create_app(tmp_path, max_jobs=1)) as base:
        page = Page(base)
        controls = {"alterations": ["ERBB2:amp"], "therapies": ["lapatinib"], "dose": 0, "doses": "",
                    "samples": LIMITS["max_samples"]}  # fmt: skip
        long = page.start(page.output, "run", 1, controls)
        status, outputs = page.run_trial(clicks=1)  # the scenario's job holds the only slot
        assert status == 200 and outputs["trial-status"]["children"].startswith("busy: 1 runs going"), outputs
        assert set(outputs) == {"trial-status"}  # nothing else of the page changes
        status, outputs = page.finish(*long)
        assert status == 200 and outputs["status"]["children"].startswith("done"), outputs
        status, outputs = page.run_trial(clicks=2)  # the slot is free again
        assert status == 200 and outputs["trial-status"]["children"].startswith("done"), outputs


@pytest.fixture(scope="module")
def client(tables: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return create_app(tmp_path_factory.mktemp("api")).server.test_client()


def test_the_trial_api_answers_rows_as_json(client: Any) -> None:
    ok = client.get("/api/trial?trial=NeoSphere&patients=10")
    assert ok.status_code == 200, ok.get_data(as_text=True)[:300]
    answer = ok.get_json()
    assert answer["trial"] == "NeoSphere" and len(answer["summary"]) == 4 and len(answer["comparison"]) == 4
    assert json.loads(ok.get_data(as_text=True)) == answer  # strict JSON: no NaN
    posted = client.post("/api/trial", json={"trial": "neosphere", "patients": 10})
    assert posted.status_code == 200 and posted.get_json() == answer


@pytest.mark.parametrize(
    ("query", "body", "status", "fragment"),
    [("trial=ACME-1", None, 400, "unknown trial 'ACME-1' (the shipped trials: CLEOPATRA"),
     ("trial=NeoSphre", None, 400, "did you mean 'NeoSphere'"),
     ("trial=NeoSphere&patients=5", None, 400, "patients must be an integer from 10 to 500"),
     ("trial=NeoSphere&patients=1.5", None, 400, "patients"),
     ("", None, 400, "trial: name one of the shipped trials"),
     ("trial=NeoSphere&colour=red", None, 400, "unknown parameter 'colour'"),
     (None, b"[]", 400, 'such as {"trial": "NeoSphere", "patients": 100}, got an array'),
     (None, b'{"trial": "NeoSphere", "patients": "x"}', 400, "patients"),
     (None, b"[" * 100_000, 413, "KiB")],
)  # fmt: skip
def test_the_trial_api_refuses_bad_requests_with_one_line(
    client: Any, query: str | None, body: bytes | None, status: int, fragment: str
) -> None:
    if body is None:
        answer = client.get(f"/api/trial?{query}")
    else:
        answer = client.post("/api/trial", data=body, content_type="application/json")
    assert answer.status_code == status, answer.get_data(as_text=True)[:300]
    message = answer.get_json()["error"]
    assert fragment in message and "\n" not in message and len(message) < 200, message


def test_the_trial_api_is_busy_when_its_slots_are(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started = threading.Event()

    def slow(request: TrialRequest, step: Any) -> dict[str, Any]:
        started.set()
        time.sleep(1.0)
        return {"trial": request.trial, "patients": request.patients}

    monkeypatch.setattr(service, "_compute_trial", slow)
    with serving(create_app(tmp_path, max_jobs=1, max_waiting=0)) as base, ThreadPoolExecutor(1) as pool:
        first = pool.submit(post, f"{base}/api/trial", {"trial": "NeoSphere", "patients": 10})
        assert started.wait(30)
        status, answer = post(f"{base}/api/trial", {"trial": "NeoSphere", "patients": 11})  # another answer
        assert status == 503 and answer["error"].startswith("busy: 1 runs going"), answer
        assert first.result() == (200, {"trial": "NeoSphere", "patients": 10})


def test_the_web_page_documents_the_trial_tab_and_its_limits() -> None:
    page = (REPO / "docs" / "reference" / "web.md").read_text()
    assert "## The Trial tab" in page and "## `/api/trial`" in page
    assert f"| `patients` | {LIMITS['min_patients']} to {LIMITS['max_patients']} |" in page
    assert f"| `seed` | 0 to {LIMITS['max_seed']} |" in page
