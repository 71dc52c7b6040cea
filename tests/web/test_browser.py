"""The explorer in a real headless Chromium, driven as a user drives it (Playwright).

Needs Debian's ``chromium`` (``.ci/run`` installs it) and the ``playwright`` package; the
test says so and skips where either is missing.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine (.ci/run installs Debian's)")


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
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1500})
        page.goto(server, wait_until="networkidle")
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
        page.screenshot(path=str(tmp_path / "explorer.png"))
        assert (tmp_path / "explorer.png").stat().st_size > 10_000
        browser.close()


def test_a_bad_request_shows_a_clear_message(server: str) -> None:
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        page.goto(server, wait_until="networkidle")
        page.wait_for_selector("#alterations")
        choose(page, "#alterations", "ERBB2:low")  # ERBB2:amp is already chosen: contradictory
        page.click("#run")
        page.wait_for_function("document.querySelector('#status').innerText.startsWith('error')", timeout=120_000)
        assert "contradictory alterations" in page.inner_text("#status")
        browser.close()


def test_run_a_trial_from_the_trial_tab(server: str, tmp_path: Path) -> None:
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1500})
        page.goto(server, wait_until="networkidle")
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
        assert page.locator("#trial-response .main-svg").count() > 0 and "pCR at surgery" in page.inner_text(
            "#trial-km"
        )
        assert not page.is_visible("#trial-drivers-box")  # no progression before surgery
        assert not page.is_disabled("#trial-run") and page.is_disabled("#trial-cancel")
        page.screenshot(path=str(tmp_path / "trial.png"), full_page=True)
        assert (tmp_path / "trial.png").stat().st_size > 10_000
        page.get_by_text("Scenario", exact=True).click()  # the other tab is still there
        page.wait_for_selector("#alterations")
        browser.close()
