"""The explorer's service and JSON API: checks, caching, 4xx answers and a bounded load test."""

from __future__ import annotations

import json
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from her2sim.errors import ConfigError, UnknownNameError
from her2sim.web.app import create_app
from her2sim.web.service import explore, parse_request


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
    ],
)
def test_bad_requests_are_refused_before_any_work(
    params: dict[str, str], error: type[Exception], fragment: str
) -> None:
    with pytest.raises(error, match=fragment):
        parse_request(params)


def test_answers_are_cached_by_request(tmp_path: Path) -> None:
    request = parse_request({"alterations": "ERBB2:amp", "therapies": "lapatinib", "samples": "200"})
    first = explore(request, tmp_path)
    assert first["summary"][0]["readout"] == "proliferation" and first["dose_response"]["therapy"] == "lapatinib"
    json.dumps(first)  # plain JSON data
    calls: list[int] = []
    again = explore(request, tmp_path, lambda i, _: calls.append(i))
    assert again == first and calls == []  # served from the cache, nothing simulated


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> object:
    return create_app(tmp_path_factory.mktemp("web"))


def test_api_answers_json_or_a_clear_400(app: object) -> None:
    client = app.server.test_client()  # type: ignore[attr-defined]
    ok = client.get("/api/scenario?alterations=ERBB2:amp,PIK3CA:H1047R&therapies=trastuzumab&samples=200")
    assert ok.status_code == 200 and ok.get_json()["context"] == "ERBB2:amp; PIK3CA:H1047R"
    bad = client.get("/api/scenario?alterations=PIK3CA:H1047X")
    assert bad.status_code == 400 and "unknown alteration 'PIK3CA:H1047X'" in bad.get_json()["error"]
    posted = client.post("/api/scenario", json={"therapies": ["T-DXd"], "samples": 200})
    assert posted.status_code == 200 and posted.get_json()["therapy"] == "trastuzumab deruxtecan"
    assert client.get("/").status_code == 200


@pytest.fixture(scope="module")
def live(app: object) -> Iterator[str]:
    from werkzeug.serving import make_server

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = make_server("127.0.0.1", port, app.server, threaded=True)  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()


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
