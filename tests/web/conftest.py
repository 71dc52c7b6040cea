"""Helpers for the explorer's tests: a real server on a free loopback port, and a page driver.

:class:`Page` drives the explorer's Run callback over HTTP the way the browser's renderer
does (one page load, then a POST that starts the background job and polls until it answers),
so many "users" can be simulated without a browser.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve the Dash ``app`` (threaded, as ``her2sim serve`` does) on a free port; yield its base URL."""
    from werkzeug.serving import make_server

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = make_server("127.0.0.1", port, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()


def post(url: str, body: object) -> tuple[int, Any]:
    """POST ``body`` as JSON; the status and the decoded JSON answer (None when it is not JSON)."""
    data = json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            status, text = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read()
    try:
        return status, json.loads(text)
    except ValueError:
        return status, None


class Page:
    """One page load of the explorer at ``base``: clicks Run with chosen controls, over HTTP."""

    def __init__(self, base: str) -> None:
        with urllib.request.urlopen(base + "/", timeout=30) as response:
            html = response.read().decode()
        config = re.search(r'<script id="_dash-config" type="application/json">(.*?)</script>', html, re.S)
        assert config is not None, "no Dash config in the page"
        self.url = f"{base}/_dash-update-component?endId={urllib.parse.quote(json.loads(config.group(1))['end_id'])}"
        with urllib.request.urlopen(base + "/_dash-dependencies", timeout=30) as response:
            callbacks = json.load(response)
        self.output = next(c["output"] for c in callbacks if "status.children" in c["output"] and c["state"])

    def run(self, clicks: int, dose: object = 0, samples: object = 100, therapies: object = ("trastuzumab",)) -> Any:
        """Click Run for the ``clicks``-th time; the HTTP status and the outputs by component id."""
        specs = [dict(zip(("id", "property"), s.split("."), strict=True)) for s in self.output.strip(".").split("...")]
        controls = {"alterations": ["ERBB2:amp"], "therapies": list(therapies), "dose": dose, "samples": samples}
        body = {
            "output": self.output,
            "outputs": specs,
            "inputs": [{"id": "run", "property": "n_clicks", "value": clicks}],
            "state": [{"id": k, "property": "value", "value": v} for k, v in controls.items()],
            "changedPropIds": ["run.n_clicks"],
        }
        status, job = post(self.url, body)
        deadline = time.monotonic() + 120
        while status == 200 and time.monotonic() < deadline:
            handles = urllib.parse.urlencode({"cacheKey": job["cacheKey"], "job": job["job"]})
            status, answer = post(f"{self.url}&{handles}", body)
            if status != 200 or "response" in answer:
                return status, (answer or {}).get("response")
            time.sleep(0.05)
        return status, job
