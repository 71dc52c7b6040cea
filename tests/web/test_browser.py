"""The explorer in a real headless Chromium, driven as a user drives it (Playwright).

Needs Debian's ``chromium`` (``.ci/run`` installs it) and the ``playwright`` package; the
test says so and skips where either is missing. Screenshots (desktop and 420 px wide) go to
the test's temporary directory, and to ``$HER2SIM_SCREENSHOTS`` when it names a directory,
for a person to look at.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright import sync_api as playwright

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine (.ci/run installs Debian's)")


def shot(page: object, folder: Path, name: str) -> None:
    """A full-page screenshot ``name``.png in ``folder`` (and in ``$HER2SIM_SCREENSHOTS``), not blank."""
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    assert path.stat().st_size > 10_000
    keep = os.environ.get("HER2SIM_SCREENSHOTS")
    if keep and Path(keep).is_dir():
        shutil.copy(path, Path(keep) / path.name)


def zoom(page: object, graph: str = "network") -> float:
    """The zoom of a network view, read from its Cytoscape instance."""
    return float(page.evaluate(f"document.getElementById('{graph}')._cyreg.cy.zoom()"))  # type: ignore[attr-defined]


def choose(page: object, dropdown: str, option: str) -> None:
    """Open a Dash dropdown, search for ``option`` and click it, as a user does."""
    page.click(f"{dropdown} .dash-dropdown-value")  # type: ignore[attr-defined]
    page.keyboard.type(option)  # type: ignore[attr-defined]
    page.get_by_role("option", name=option, exact=True).click()  # type: ignore[attr-defined]
    page.keyboard.press("Escape")  # type: ignore[attr-defined]
    page.wait_for_function(  # type: ignore[attr-defined]
        f"document.querySelector('{dropdown}').innerText.includes('{option}')"
    )


def pick(page: object, dropdown: str, option: str) -> None:
    """Open a single-choice Dash dropdown and click ``option`` in its list, as a user does."""
    page.click(f"{dropdown} .dash-dropdown-value")  # type: ignore[attr-defined]
    page.get_by_role("option", name=option, exact=True).click()  # type: ignore[attr-defined]
    page.wait_for_function(  # type: ignore[attr-defined]
        f"document.querySelector('{dropdown}').innerText.includes('{option}')"
    )


@contextlib.contextmanager
def opened(server: str, width: int = 1280, height: int = 720) -> Iterator[Any]:
    """A headless Chromium page of ``width`` x ``height`` pixels on the explorer, closed after."""
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto(server, wait_until="networkidle")
        try:
            yield page
        finally:
            browser.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cache = tmp_path_factory.mktemp("serve")
    env = {**os.environ, "HER2SIM_CACHE": str(tmp_path_factory.mktemp("tables"))}  # the trial tab's response tables
    proc = subprocess.Popen([sys.executable, "-m", "her2sim.cli", "serve", "--port", str(port), "--cache", str(cache)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail(f"the explorer did not start: {proc.stdout.read().decode() if proc.stdout else ''}")
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def test_choose_an_alteration_run_and_read_the_results(server: str, tmp_path: Path) -> None:
    with opened(server, 1400, 1500) as page:
        page.wait_for_selector("#alterations")
        choose(page, "#alterations", "PIK3CA:H1047R")
        page.fill("#samples", "300")
        page.click("#run")
        page.wait_for_function("document.querySelector('#status').innerText.startsWith('done')", timeout=120_000)
        assert page.inner_text("#headline") == "ERBB2:amp; PIK3CA:H1047R | trastuzumab"
        assert "PI3K" in page.inner_text("#pathway") and "AKT" in page.inner_text("#pathway")
        table = page.inner_text("#summary")
        assert "proliferation" in table and "pERK" in table
        assert page.locator("#network canvas").count() > 0
        assert not page.is_disabled("#run") and page.is_disabled("#cancel")
        assert "(± SE)" in table and " ± 0.0" in table
        # the network and its caption are redrawn by a callback of their own, after the run's answer
        page.wait_for_function("document.querySelector('#network-caption').innerText.startsWith('Node colour')")
        assert page.inner_text("#network-caption").startswith("Node colour: probability on at steady state, treated")
        page.get_by_label("untreated").check()
        page.wait_for_function("document.querySelector('#network-caption').innerText.includes('untreated')")
        assert "trastuzumab in ERBB2:amp; PIK3CA:H1047R" in page.inner_text("#dose-curves")
        shot(page, tmp_path, "scenario-desktop")


def test_the_page_opens_on_a_legible_network_and_the_wheel_scrolls_the_page(server: str, tmp_path: Path) -> None:
    with opened(server, 1400, 900) as page:
        page.wait_for_function("document.getElementById('network')?._cyreg")  # the page may not be built yet
        assert page.inner_text("#network-caption").startswith("Not simulated yet")
        assert "activates" in page.locator(".legend").first.inner_text()
        for graph in ("#course", "#dose-curves", "#tumour"):  # words, not empty axes
            assert page.locator(f"{graph} .xtick").count() == 0 and "appear" in page.inner_text(graph)
        fitted = zoom(page)
        assert fitted > 0.6  # labels of 13 graph units show at 8 px or more
        page.locator("#network").hover()
        page.mouse.wheel(0, 500)
        page.wait_for_function("window.scrollY > 0")
        assert zoom(page) == fitted  # the wheel scrolled the page, the network did not zoom
        box = page.locator("#network").bounding_box()
        assert box is not None
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.keyboard.down("Control")
        page.mouse.wheel(0, -200)
        page.keyboard.up("Control")
        page.wait_for_function(f"document.getElementById('network')._cyreg.cy.zoom() > {fitted * 1.2}")
        page.click("#network-fit")
        page.wait_for_function(f"Math.abs(document.getElementById('network')._cyreg.cy.zoom() / {fitted} - 1) < 0.01")
        page.click("#network-zoom-in")
        page.wait_for_function(f"document.getElementById('network')._cyreg.cy.zoom() > {fitted * 1.25}")
        shot(page, tmp_path, "opening-desktop")


def test_out_of_range_input_and_cancel_are_stated(server: str) -> None:
    with opened(server) as page:
        page.fill("#samples", "50000")
        page.click("#run")
        page.wait_for_function("document.querySelector('#status').innerText.startsWith('error')")
        assert page.inner_text("#status") == "error: samples must be an integer from 100 to 4000, got '50000'"
        page.fill("#samples", "4000")
        choose(page, "#therapies", "lapatinib")
        page.click("#run")
        busy = "['error', 'done', 'cancelled'].every(w => !document.querySelector('#status').innerText.startsWith(w))"
        page.wait_for_function(busy)  # a step of the run ('simulating ...', 'dose-response ...') is shown
        page.click("#cancel")
        page.wait_for_function("document.querySelector('#status').innerText === 'cancelled'")
        page.wait_for_function("!document.querySelector('#run').disabled")


def test_a_bad_request_shows_a_clear_message(server: str) -> None:
    with opened(server) as page:
        page.wait_for_selector("#alterations")
        choose(page, "#alterations", "ERBB2:low")  # ERBB2:amp is already chosen: contradictory
        page.click("#run")
        page.wait_for_function("document.querySelector('#status').innerText.startsWith('error')", timeout=120_000)
        assert "contradictory alterations" in page.inner_text("#status")


def test_run_a_trial_from_the_trial_tab(server: str, tmp_path: Path) -> None:
    with opened(server, 1400, 1500) as page:
        page.get_by_text("Trial", exact=True).click()
        page.wait_for_selector("#trial")
        pick(page, "#trial", "NeoALTTO (neoadjuvant)")  # its first run builds response tables: time to cancel
        page.fill("#trial-patients", "10")
        page.click("#trial-run")
        page.wait_for_function("document.querySelector('#trial-status').innerText.startsWith('simulating')")
        page.click("#trial-cancel")
        page.wait_for_function("document.querySelector('#trial-status').innerText === 'cancelled'")
        page.wait_for_function("!document.querySelector('#trial-run').disabled")  # the job is gone
        assert page.is_disabled("#trial-cancel")
        pick(page, "#trial", "NeoSphere (neoadjuvant)")
        page.click("#trial-run")
        page.wait_for_function("document.querySelector('#trial-status').innerText.startsWith('done')", timeout=600_000)
        assert page.inner_text("#trial-headline").startswith("NeoSphere (neoadjuvant)")
        summary = page.inner_text("#trial-summary")
        assert "pCR_pct" in summary and "THP" in summary
        comparison = page.inner_text("#trial-comparison")
        assert "T01" in comparison and "published" in comparison
        assert page.locator("#trial-response .main-svg").count() > 0
        words = page.evaluate("document.querySelector('#trial-km .js-plotly-plot').layout.annotations[0].text")
        assert "pCR at surgery" in words.replace("<br>", " ")  # a placeholder's text wraps for narrow screens
        assert not page.is_visible("#trial-drivers-box")  # no progression before surgery
        assert not page.is_disabled("#trial-run") and page.is_disabled("#trial-cancel")
        page.screenshot(path=str(tmp_path / "trial.png"), full_page=True)
        assert (tmp_path / "trial.png").stat().st_size > 10_000
        page.get_by_text("Scenario", exact=True).click()  # the other tab is still there
        page.wait_for_selector("#alterations")


TOY = "A, A\nB, A & !C\nC, B\n"


def upload(page: object, name: str, text: str) -> None:
    """Choose a file in the upload box, as a user does."""
    files = [{"name": name, "mimeType": "text/plain", "buffer": text.encode()}]
    page.set_input_files("#own-upload input[type=file]", files=files)  # type: ignore[attr-defined]


def status_of(page: object, box: str, start: str) -> str:
    """The text of the status line ``box`` once it starts with ``start``."""
    page.wait_for_function(  # type: ignore[attr-defined]
        f"document.querySelector('{box}').innerText.startsWith({start!r})", timeout=180_000
    )
    return str(page.inner_text(box))  # type: ignore[attr-defined]


def test_upload_your_model_simulate_a_mutation_and_see_it(server: str, tmp_path: Path) -> None:
    with opened(server, 1400, 1000) as page:
        page.get_by_text("Your model", exact=True).click()
        page.wait_for_function("document.getElementById('own-network')._cyreg")
        assert page.inner_text("#own-upload-status").startswith("read erbb_core.bnd + erbb_core.cfg: 9 nodes")
        shot(page, tmp_path, "own-example-desktop")
        upload(page, "bad.bnet", "A, A\nB, A &\n")
        message = status_of(page, "#own-upload-status", "error")
        assert message.startswith("error: bad.bnet:2:") and "\n" not in message
        upload(page, "big.bnet", "#" * (2 * 1024 * 1024 + 1))
        assert status_of(page, "#own-upload-status", "error: big").startswith(
            "error: big.bnet is 2.0 MB, more than the 2 MB the explorer reads"
        )
        upload(page, "toy.bnet", TOY)
        assert (
            status_of(page, "#own-upload-status", "read toy")
            == "read toy.bnet: 3 nodes, 1 input, 4 regulations, 0 parameters"
        )
        page.wait_for_function("document.getElementById('own-network')._cyreg.cy.nodes().length === 3")
        choose(page, "#own-off", "C")
        page.fill("#own-samples", "300")
        page.click("#own-run")
        assert status_of(page, "#own-status", "done") == "done (300 trajectories to time 50)"
        page.wait_for_function("document.querySelector('#own-headline').innerText === 'toy: C OFF'")
        assert "C OFF" in page.inner_text("#own-caption")
        assert page.locator("#own-states .slice").count() >= 1
        # the trajectories follow the answer through a second callback (the nodes to plot)
        axis = "time (model rate units)"
        page.wait_for_function(f"document.querySelector('#own-trajectories').innerText.includes('{axis}')")
        labels = page.evaluate("document.getElementById('own-network')._cyreg.cy.nodes().map(n => n.data('label'))")
        assert len(labels) == 3 and "C\nOFF (fixed)" in labels
        shot(page, tmp_path, "own-run-desktop")


def test_usable_at_420_pixels_wide(server: str, tmp_path: Path) -> None:
    with opened(server, 420, 900) as page:
        page.wait_for_function("document.getElementById('network')?._cyreg")  # the page may not be built yet
        page.fill("#samples", "200")
        page.click("#run")
        status_of(page, "#status", "done")
        page.wait_for_function("document.querySelectorAll('#dose-curves .main-svg').length > 0")
        assert page.evaluate("document.documentElement.scrollWidth") <= 420  # nothing wider than the screen
        box = page.locator("#run").bounding_box()
        assert box is not None and box["x"] + box["width"] <= 420
        shot(page, tmp_path, "scenario-420")
        page.get_by_text("Your model", exact=True).click()
        page.wait_for_function("document.getElementById('own-network')._cyreg")
        page.fill("#own-samples", "200")
        page.click("#own-run")
        status_of(page, "#own-status", "done")
        page.wait_for_function("document.querySelectorAll('#own-states .slice').length > 0")
        assert page.evaluate("document.documentElement.scrollWidth") <= 420
        shot(page, tmp_path, "own-420")
        page.get_by_text("Trial", exact=True).click()
        page.wait_for_selector("#trial")
        assert page.evaluate("document.documentElement.scrollWidth") <= 420
        shot(page, tmp_path, "trial-420")
