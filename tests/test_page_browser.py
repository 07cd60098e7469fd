"""The leaderboard page in headless Chromium, opened from file:// with no network: the script runs,
hostile names stay text, clicking a header sorts numerically and toggles, and it renders to a PNG.

Chromium is driven through the DevTools protocol over --remote-debugging-pipe (JSON messages ending
in NUL on file descriptors 3 and 4), so nothing beyond the standard library is needed. Skipped when
no Chromium is installed (Debian: apt-get install chromium)."""
from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from benchmark.report.page import write_page
from test_page import EVIL_GROUP, EVIL_RECIPE, RECIPES, write_sample_results

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
pytestmark = [pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (Debian: apt-get install chromium)"),
              pytest.mark.usefixtures("records_as_written")]

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-extensions", "--disable-default-apps",
         "--no-first-run", "--no-default-browser-check", "--mute-audio", "--hide-scrollbars",
         "--remote-debugging-pipe"]


class DevToolsPipe:
    """A minimal DevTools protocol client over Chromium's debugging pipe."""

    def __init__(self, user_data_dir: Path, timeout: float = 20.0):
        self.timeout, self.next_id, self.buffer, self.events = timeout, 0, b"", []
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()
        # Park the child's ends above 10 so placing them on fds 3 and 4 cannot clobber one another.
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (to_chrome_r, from_chrome_w)]
        for fd in (to_chrome_r, from_chrome_w):
            os.close(fd)

        def place_pipes():
            os.dup2(high[0], 3)
            os.dup2(high[1], 4)

        self.process = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={user_data_dir}", "about:blank"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        preexec_fn=place_pipes, close_fds=False)
        for fd in high:
            os.close(fd)
        self.session = None

    def send(self, method: str, params: dict | None = None, session: bool = True) -> dict:
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self.to_chrome, json.dumps(message).encode() + b"\0")
        reply = self._read_until(lambda m: m.get("id") == self.next_id)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply["result"]

    def wait_event(self, method: str) -> dict:
        for i, event in enumerate(self.events):
            if event.get("method") == method:
                return self.events.pop(i)
        return self._read_until(lambda m: m.get("method") == method)

    def _read_until(self, wanted) -> dict:
        deadline = time.monotonic() + self.timeout
        while True:
            while b"\0" in self.buffer:
                raw, self.buffer = self.buffer.split(b"\0", 1)
                message = json.loads(raw)
                if wanted(message):
                    return message
                self.events.append(message)
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.from_chrome], [], [], left)[0]:
                raise TimeoutError("chromium did not answer")
            chunk = os.read(self.from_chrome, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the debugging pipe")
            self.buffer += chunk

    def evaluate(self, expression: str):
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def close(self):
        try:
            self.send("Browser.close", session=False)
            self.process.wait(timeout=10)
        except Exception:
            self.process.kill()
            self.process.wait()
        finally:
            os.close(self.to_chrome)
            os.close(self.from_chrome)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser")
    page = write_page(write_sample_results(root), root / "leaderboard")
    chrome = DevToolsPipe(root / "profile")
    try:
        target = chrome.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        chrome.session = chrome.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        chrome.send("Page.enable")
        chrome.send("Runtime.enable")
        chrome.send("Log.enable")
        chrome.send("Network.enable")
        chrome.send("Emulation.setDeviceMetricsOverride",
                    {"width": 1400, "height": 1000, "deviceScaleFactor": 1, "mobile": False})
        chrome.send("Page.navigate", {"url": page.resolve().as_uri()})
        chrome.wait_event("Page.loadEventFired")
        yield chrome, root
    finally:
        chrome.close()


def _column_values(chrome, table_id: str, col: int) -> list[str]:
    return chrome.evaluate(f"Array.from(document.querySelectorAll('#{table_id} tbody tr'))"
                           f".map(r => r.cells[{col}].textContent)")


def _click_header(chrome, table_id: str, label: str) -> None:
    """A real mouse click on the header's centre, as a user would do it."""
    box = chrome.evaluate(f"""(() => {{
        const th = Array.from(document.querySelectorAll('#{table_id} thead th'))
            .find(h => h.textContent === {json.dumps(label)});
        th.scrollIntoView({{block: 'center'}});
        const r = th.getBoundingClientRect();
        return [r.left + r.width / 2, r.top + r.height / 2, th.cellIndex];
    }})()""")
    for kind in ("mousePressed", "mouseReleased"):
        chrome.send("Input.dispatchMouseEvent", {"type": kind, "x": box[0], "y": box[1], "button": "left",
                                                 "clickCount": 1})


def test_script_ran_without_errors_or_injection(browser):
    chrome, _ = browser
    assert chrome.evaluate("document.documentElement.getAttribute('data-ready')") == "1"
    errors = [e for e in chrome.events if e.get("method") == "Runtime.exceptionThrown"
              or (e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")]
    assert not errors, errors
    requested = [e["params"]["request"]["url"] for e in chrome.events if e.get("method") == "Network.requestWillBeSent"]
    assert requested and all(url.startswith("file://") for url in requested), requested  # the page itself only
    # Hostile names show as text and add no elements.
    assert chrome.evaluate("document.querySelectorAll('script').length") == 2
    assert chrome.evaluate("document.querySelectorAll('img, b').length") == 0
    recipes = _column_values(chrome, "cls-0", 0)
    assert EVIL_RECIPE in recipes and set(recipes) == set(RECIPES)
    assert EVIL_GROUP in _column_values(chrome, "cls-0", chrome.evaluate(
        "document.querySelectorAll('#cls-0 thead th').length") - 1)
    assert chrome.evaluate("document.querySelectorAll('svg.scatter').length") == 2
    assert chrome.evaluate("document.querySelectorAll('svg.heatmap').length") == 2


def test_clicking_a_header_sorts_numerically_and_toggles(browser):
    chrome, _ = browser
    col = chrome.evaluate("Array.from(document.querySelectorAll('#cls-0 thead th'))"
                          ".findIndex(h => h.textContent === 'size MB')")
    _click_header(chrome, "cls-0", "size MB")
    sizes = [float(v) for v in _column_values(chrome, "cls-0", col)]
    assert sizes == sorted(sizes) and sizes[0] == 25.0
    assert chrome.evaluate("document.getElementById('cls-0').dataset.sortDir") == "asc"
    _click_header(chrome, "cls-0", "size MB")
    assert [float(v) for v in _column_values(chrome, "cls-0", col)] == sorted(sizes, reverse=True)
    assert chrome.evaluate("document.getElementById('cls-0').dataset.sortDir") == "desc"
    # Text columns sort too; the generative table is sortable in the same way.
    _click_header(chrome, "gen-0", "recipe")
    assert _column_values(chrome, "gen-0", 0) == sorted([EVIL_RECIPE, "dense"])


def test_page_renders_to_png(browser):
    chrome, root = browser
    chrome.evaluate("window.scrollTo(0, 0)")
    metrics = chrome.send("Page.getLayoutMetrics")["cssContentSize"]
    shot = chrome.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": {
        "x": 0, "y": 0, "width": 1400, "height": min(metrics["height"], 3000), "scale": 1}})
    png = base64.b64decode(shot["data"])
    (root / "leaderboard.png").write_bytes(png)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    if os.environ.get("CSBENCH_PAGE_SCREENSHOT"):  # keep a copy to look at
        Path(os.environ["CSBENCH_PAGE_SCREENSHOT"]).write_bytes(png)
