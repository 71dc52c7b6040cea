"""The explorer's service and JSON API: checks, caching, 4xx answers and a bounded load test."""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from her2sim.cli import app as cli
from her2sim.errors import ConfigError, UnknownNameError
from her2sim.web import service
from her2sim.web.app import create_app
from her2sim.web.service import LIMITS, explore, parse_request
from tests.conftest import REPO
from tests.web.conftest import serving


@pytest.mark.parametrize(
    ("params", "error", "fragment"),
    [
        ({"alterations": "ERBB2:ampp"}, UnknownNameError, "ERBB2:amp"),
        ({"therapies": "tucatinb"}, UnknownNameError, "tucatinib"),
        ({"dose": "1000"}, ConfigError, "dose"),
        ({"dose": "lots"}, ConfigError, "dose"),
        ({"samples": "50"}, ConfigError, "samples"),
        ({"samples": "-3"}, ConfigError, "samples"),
        ({"colour": "red"}, ConfigError, "unknown parameter"),
        ({"alterations": "ERBB2:amp,ERBB2:low"}, ConfigError, "contradictory"),
        ({"therapies": ",".join(["trastuzumab"] * 9)}, ConfigError, "at most 8"),
        ({"samples": "²"}, ConfigError, "samples"),  # "²".isdigit() is True, int("²") fails
        ({"samples": "9" * 5000}, ConfigError, "samples"),  # past Python's digit limit for int()
        ({"samples": True}, ConfigError, "samples"),
        ({"dose": True}, ConfigError, "dose"),
        ({"dose": 10**400}, ConfigError, "dose"),  # no float holds it
        ({"alterations": 5}, ConfigError, "alterations must be"),
        ({"therapies": [["trastuzumab"]]}, ConfigError, "therapies must be"),
        ({"therapies": {"trastuzumab": "1uM"}}, ConfigError, "therapies must be"),
    ],
)
def test_bad_requests_are_refused_before_any_work(
    params: dict[str, str], error: type[Exception], fragment: str
) -> None:
    with pytest.raises(error, match=fragment):
        parse_request(params)


@pytest.mark.parametrize(
    "params",
    [
        {"alterations": "x" * 100_000},
        {"therapies": ["lapatinib@" + "9" * 100_000 + "parsecs"]},
        {"x" * 100_000: "1"},
        {"samples": "x" * 100_000},
        {"dose": "9" * 100_000},
        {"dose": 10**4000},
    ],
    ids=["alteration", "therapy dose", "parameter name", "samples", "dose", "huge number"],
)
def test_messages_echo_at_most_a_short_cut_of_the_input(params: dict[str, Any]) -> None:
    with pytest.raises(ConfigError) as info:
        parse_request(params)
    assert len(str(info.value)) < 200 and "..." in str(info.value), str(info.value)[:300]


def test_answers_are_cached_by_request(tmp_path: Path) -> None:
    request = parse_request({"alterations": "ERBB2:amp", "therapies": "lapatinib", "samples": "200"})
    first = explore(request, tmp_path)
    assert first["summary"][0]["readout"] == "proliferation" and first["dose_response"][0]["therapy"] == "lapatinib"
    json.dumps(first)  # plain JSON data
    calls: list[int] = []
    again = explore(request, tmp_path, lambda i, _: calls.append(i))
    assert again == first and calls == []  # served from the cache, nothing simulated


def test_a_combination_has_a_dose_response_per_drug_in_the_unit_it_was_given(tmp_path: Path) -> None:
    request = parse_request({"therapies": ["lapatinib@1uM", "trastuzumab"], "samples": 200})
    assert request.units == ("uM", "x")
    answer = explore(request, tmp_path)
    lapatinib, trastuzumab = answer["dose_response"]
    assert (lapatinib["therapy"], lapatinib["background"]) == ("lapatinib", "trastuzumab 1x")
    assert (trastuzumab["therapy"], trastuzumab["background"]) == ("trastuzumab", "lapatinib 1 uM")
    assert lapatinib["context"] == "ERBB2:amp" and lapatinib["unit_label"] == "uM"
    assert lapatinib["dose"] == pytest.approx([d / 1000 for d in lapatinib["dose_nM"]])
    assert trastuzumab["unit_label"] == "multiples of 10 ug/mL" and trastuzumab["dose"][-1] == pytest.approx(10.0)
    for curve in (lapatinib, trastuzumab):
        assert len(curve["effect_se"]) == len(curve["effect"]) and all(0 < se < 0.1 for se in curve["effect_se"])
        assert curve["ic50"].startswith("IC50 ")
        tested = [d for d in curve["dose_nM"] if d > 0]
        assert curve["ic50_nM"] is None or min(tested) <= curve["ic50_nM"] <= max(tested)
    rows = {row["readout"]: row for row in answer["summary"]}
    assert 0 < rows["proliferation"]["effect_se"] < 0.1 and rows["proliferation"]["treated_se"] > 0


@pytest.mark.parametrize(
    ("ic50", "text"),
    [(30.0, "IC50 0.03 uM"), (1e-4, "IC50 < lowest dose (0.001 uM)"), (1e6, "IC50 > top dose (10 uM)"),
     (float("nan"), "IC50 > top dose (10 uM)")],
    ids=["inside", "below", "above", "no fit"],
)  # fmt: skip
def test_an_ic50_is_given_only_inside_the_tested_doses(ic50: float, text: str) -> None:
    from her2sim.her2.therapies import therapy_library

    answer = service._ic50(ic50, [0.0, 1.0, 100.0, 10_000.0], therapy_library().get("lapatinib"), "uM")
    assert answer["ic50"] == text and (answer["ic50_nM"] is None) == (text != "IC50 0.03 uM")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return create_app(tmp_path_factory.mktemp("web"), max_jobs=2, max_waiting=18)  # room for 20 at once


def test_api_answers_json_or_a_clear_400(app: Any) -> None:
    client = app.server.test_client()
    ok = client.get("/api/scenario?alterations=ERBB2:amp,PIK3CA:H1047R&therapies=trastuzumab&samples=200")
    assert ok.status_code == 200 and ok.get_json()["context"] == "ERBB2:amp; PIK3CA:H1047R"
    bad = client.get("/api/scenario?alterations=PIK3CA:H1047X")
    assert bad.status_code == 400 and "unknown alteration 'PIK3CA:H1047X'" in bad.get_json()["error"]
    posted = client.post("/api/scenario", json={"therapies": ["T-DXd"], "samples": 200})
    assert posted.status_code == 200 and posted.get_json()["therapy"] == "trastuzumab deruxtecan"
    assert client.get("/").status_code == 200


def _one_line_error(answer: Any, status: int, fragment: str) -> str:
    """The answer is ``status`` with JSON ``{"error": one short line holding fragment}``."""
    assert answer.status_code == status, answer.get_data(as_text=True)[:300]
    message = answer.get_json()["error"]
    assert fragment in message and "\n" not in message and len(message) < 200, message[:300]
    return message


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        (b'{"samples": 200', 400, "not JSON"),
        (b"samples=200", 400, "not JSON"),
        (b"", 400, "not JSON"),
        (b"\xff\xfe{}", 400, "UTF-8"),
        (b"5", 400, "JSON object"),
        (b"[[1]]", 400, "JSON object"),
        (b"[]", 400, "JSON object"),
        (b"null", 400, "JSON object"),
        (b"[" * 30_000 + b"]" * 30_000, 400, "nests"),  # under the size cap
        (b"[" * 100_000 + b"]" * 100_000, 413, "KiB"),  # over it
        (b'{"dose": ' + b"1" * 5000 + b"}", 400, "digits"),  # past Python's digit limit for int()
        (b'{"samples": "\xc2\xb2"}', 400, "samples"),
        (b'{"dose": 1' + b"0" * 400 + b"}", 400, "dose"),  # an integer no float holds
        (json.dumps({"alterations": "x" * 60_000}).encode(), 400, "..."),
    ],
    ids=lambda v: repr(v)[:30] if isinstance(v, bytes) else None,
)
def test_bad_bodies_are_refused_with_one_line(app: Any, body: bytes, status: int, fragment: str) -> None:
    answer = app.server.test_client().post("/api/scenario", data=body, content_type="application/json")
    _one_line_error(answer, status, fragment)


@pytest.mark.parametrize(
    ("query", "fragment"),
    [("samples=%C2%B2", "samples"), ("dose=1e400", "dose"), ("x" * 5000 + "=1", "unknown parameter")],
    ids=["superscript two", "dose past float", "long parameter name"],
)
def test_type_confusion_in_the_query_is_a_400(app: Any, query: str, fragment: str) -> None:
    _one_line_error(app.server.test_client().get(f"/api/scenario?{query}"), 400, fragment)


def _cli_regimen(therapy: str) -> str:
    """The regimen ``her2sim run -t THERAPY`` reports (the command line is the reference)."""
    result = CliRunner().invoke(cli, ["run", "-t", therapy, "-n", "100"])
    assert result.exit_code == 0, result.output
    return re.search(r"therapy (.+)$", result.output.splitlines()[0]).group(1).strip()


@pytest.mark.parametrize("therapy", ["lapatinib@250nM", "trastuzumab@2x", "T-DM1@10ug/mL", "neratinib@0.1uM"])
def test_the_api_reads_doses_as_the_command_line_does(app: Any, therapy: str) -> None:
    answer = app.server.test_client().get(f"/api/scenario?therapies={urllib.parse.quote(therapy)}&samples=100")
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["therapy"] == _cli_regimen(therapy)


@pytest.mark.parametrize("therapy", ["lapatinib@5parsecs", "lapatinib@-1nM", "lapatinib@twox", "lapatinib@250"])
def test_the_api_refuses_doses_as_the_command_line_does(app: Any, therapy: str) -> None:
    result = CliRunner().invoke(cli, ["run", "-t", therapy, "-n", "100"])
    assert isinstance(result.exception, ConfigError)
    answer = app.server.test_client().post("/api/scenario", json={"therapies": [therapy]})
    assert _one_line_error(answer, 400, "dose") == str(result.exception)


def test_the_dose_multiple_applies_to_therapies_without_their_own_dose(app: Any) -> None:
    from her2sim.her2.therapies import therapy_library

    answer = app.server.test_client().post(
        "/api/scenario", json={"therapies": ["trastuzumab", "lapatinib@250nM"], "dose": 2, "samples": 100}
    )
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["therapy"] == therapy_library().regimen(["trastuzumab@2x", "lapatinib@250nM"]).label


def test_the_api_page_states_the_limits_in_force() -> None:
    page = (REPO / "docs" / "reference" / "web.md").read_text()
    for row in (
        f"| `samples` | {LIMITS['min_samples']} to {LIMITS['max_samples']} |",
        f"| `dose` | {LIMITS['min_dose']:g} to {LIMITS['max_dose']:g} |",
        f"| alterations, therapies | at most {LIMITS['max_items']} of each per request |",
        f"| one name (with its `@DOSE`) | {LIMITS['max_name']} characters |",
        f"| `POST` body | {LIMITS['max_body'] // 1024} KiB |",
    ):
        assert row in page


@pytest.fixture(scope="module")
def live(app: Any) -> Iterator[str]:
    with serving(app) as url:
        yield url


def test_twenty_concurrent_requests_are_answered(live: str) -> None:
    urls = [f"{live}/api/scenario?alterations=ERBB2:amp&therapies={t}&samples=150"
            for t in ("trastuzumab", "lapatinib", "neratinib", "T-DM1") * 5]  # fmt: skip

    def fetch(url: str) -> int:
        with urllib.request.urlopen(url, timeout=120) as response:
            json.load(response)
            return response.status

    with ThreadPoolExecutor(max_workers=20) as pool:
        codes = list(pool.map(fetch, urls))
    assert codes == [200] * 20
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(f"{live}/api/scenario?samples=999999", timeout=30)
    assert info.value.code == 400


def test_fifty_concurrent_clients_get_an_answer_or_busy_and_computations_stay_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    running, peak, lock = [0], [0], threading.Lock()
    compute = service._compute

    def counted(*args: Any) -> Any:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        try:
            time.sleep(0.05)  # long enough for the requests to overlap
            return compute(*args)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(service, "_compute", counted)

    def fetch(url: str) -> tuple[int, str, str | None]:
        try:
            with urllib.request.urlopen(url, timeout=120) as response:
                return response.status, json.load(response)["context"], None
        except urllib.error.HTTPError as error:
            return error.code, json.load(error)["error"], error.headers.get("Retry-After")

    with serving(create_app(tmp_path, max_jobs=2, max_waiting=4)) as base:
        urls = [f"{base}/api/scenario?therapies=lapatinib&samples={LIMITS['min_samples'] + i}" for i in range(50)]
        with ThreadPoolExecutor(max_workers=50) as pool:
            answers = list(pool.map(fetch, urls))
    ok = [a for a in answers if a[0] == 200]
    busy = [a for a in answers if a[0] == 503]
    assert len(ok) + len(busy) == 50 and ok, answers
    assert all(m.startswith("busy: ") and "try again" in m and after for _, m, after in busy), busy[:3]
    assert peak[0] <= 2
