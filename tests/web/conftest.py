"""Helpers for the explorer's tests: a real server on a free loopback port, and a page driver.

:class:`Page` drives the explorer's callbacks over HTTP the way the browser's renderer does:
a tab's Run (one page load, then a POST that starts the background job and polls until it
answers), so many "users" can be simulated without a browser, and any other callback
(:meth:`Page.call`) with the values a user or a forger would send.
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
    """One page load of the explorer at ``base``: clicks a tab's Run with chosen controls, over HTTP."""

    def __init__(self, base: str) -> None:
        with urllib.request.urlopen(base + "/", timeout=30) as response:
            html = response.read().decode()
        config = re.search(r'<script id="_dash-config" type="application/json">(.*?)</script>', html, re.S)
        assert config is not None, "no Dash config in the page"
        self.url = f"{base}/_dash-update-component?endId={urllib.parse.quote(json.loads(config.group(1))['end_id'])}"
        with urllib.request.urlopen(base + "/_dash-dependencies", timeout=30) as response:
            self.callbacks = json.load(response)
        self.output = self._output("status")
        self.trial_output = self._output("trial-status")

    def _output(self, status: str) -> str:
        """The output spec of the Run callback that writes the status line ``status``."""
        return next(c["output"] for c in self.callbacks
                    if f"{status}.children" in c["output"].strip(".").split("...") and c["state"])  # fmt: skip

    def run(
        self,
        clicks: int,
        dose: object = 0,
        samples: object = 100,
        therapies: object = ("trastuzumab",),
        doses: object = "",
    ) -> Any:
        """Click the Scenario tab's Run for the ``clicks``-th time; the HTTP status and the outputs by id."""
        controls = {"alterations": ["ERBB2:amp"], "therapies": list(therapies), "dose": dose, "doses": doses,
                    "samples": samples}  # fmt: skip
        return self.click(self.output, "run", clicks, controls)

    def run_trial(self, clicks: int, trial: object = "NeoSphere", patients: object = 10, timeout: float = 600) -> Any:
        """Click the Trial tab's Run for the ``clicks``-th time; the HTTP status and the outputs by id."""
        return self.click(self.trial_output, "trial-run", clicks, {"trial": trial, "trial-patients": patients}, timeout)

    def click(self, output: str, button: str, clicks: int, controls: dict[str, Any], timeout: float = 120) -> Any:
        """Click ``button`` of the callback writing ``output``, with the controls' values (its states):
        the POST that starts the background job, then polls until it answers."""
        return self.finish(*self.start(output, button, clicks, controls), timeout=timeout)

    def start(self, output: str, button: str, clicks: int, controls: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        """The POST that starts the job of a click (see :meth:`click`): the request body, and the
        HTTP status and answer (the job's handles). ``controls`` are the callback's states in its
        order, by id (their ``value``) or by ``id.prop``."""
        specs = [dict(zip(("id", "property"), s.split("."), strict=True)) for s in output.strip(".").split("...")]
        body = {
            "output": output,
            "outputs": specs,
            "inputs": [{"id": button, "property": "n_clicks", "value": clicks}],
            "state": [
                dict(zip(("id", "property"), (*k.split(".", 1), "value")[:2], strict=True), value=v)
                for k, v in controls.items()
            ],
            "changedPropIds": [f"{button}.n_clicks"],
        }
        return body, post(self.url, body)

    def call(self, output: str, values: dict[str, Any]) -> tuple[int, Any]:
        """Call the callback (not a background one) whose outputs include ``output`` (``id.prop``)
        and whose inputs are all in ``values`` (by ``id.prop``; None for its other inputs and
        states), as the renderer does: the HTTP status and its outputs by id (None when it
        changed nothing)."""

        def names(items: list[dict[str, Any]]) -> set[str]:
            return {f"{item['id']}.{item['property']}" for item in items}

        spec = next(c for c in self.callbacks
                    if output in {o.partition("@")[0] for o in c["output"].strip(".").split("...")}
                    and names(c["inputs"]) <= set(values))  # fmt: skip
        outputs = [dict(zip(("id", "property"), s.split(".", 1), strict=True))
                   for s in spec["output"].strip(".").split("...")]  # fmt: skip

        def given(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [{**item, "value": values.get(f"{item['id']}.{item['property']}")} for item in items]

        inputs = given(spec["inputs"])
        body = {
            "output": spec["output"],
            "outputs": outputs if spec["output"].startswith("..") else outputs[0],
            "inputs": inputs,
            "state": given(spec["state"]),
            "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"],
        }
        status, answer = post(self.url, body)
        return status, (answer or {}).get("response")

    def finish(self, body: dict[str, Any], started: tuple[int, Any], timeout: float = 120) -> Any:
        """Poll a started job (:meth:`start`) until it answers: the HTTP status and the outputs by id."""
        status, job = started
        deadline = time.monotonic() + timeout
        while status == 200 and time.monotonic() < deadline:
            handles = urllib.parse.urlencode({"cacheKey": job["cacheKey"], "job": job["job"]})
            status, answer = post(f"{self.url}&{handles}", body)
            if status != 200 or "response" in answer:
                return status, (answer or {}).get("response")
            time.sleep(0.05)
        return status, job
