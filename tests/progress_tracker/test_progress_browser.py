"""The static browser client in headless Chromium against a loopback server speaking the protocol.

Chromium is driven over the DevTools protocol (a few lines on top of `websockets`), with no
browser download: the Debian `chromium` package. The test needs `/usr/bin/chromium`.
"""

from __future__ import annotations

import functools
import http.server
import itertools
import json
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from progress_local_server import ProgressServer
from websockets.sync.client import connect

CLIENT_DIR = Path(__file__).resolve().parents[2] / "lambdas" / "progress_tracker" / "client"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]



class Page:
    """A minimal DevTools client: evaluate JavaScript in the page and wait for conditions."""

    def __init__(self, websocket_url: str) -> None:
        self.socket = connect(websocket_url, max_size=None)
        self.ids = itertools.count(1)

    def evaluate(self, expression: str) -> Any:
        request_id = next(self.ids)
        self.socket.send(json.dumps({"id": request_id, "method": "Runtime.evaluate",
                                     "params": {"expression": expression, "returnByValue": True}}))
        while True:
            reply = json.loads(self.socket.recv(timeout=10))
            if reply.get("id") == request_id:
                result = reply["result"]
                if "exceptionDetails" in result:
                    raise AssertionError(f"{expression}: {result['exceptionDetails']}")
                return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 20.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.05)
        snapshot = self.evaluate("JSON.stringify({p: window.progressClient && progressClient.percent, "
                                 "c: window.progressClient && progressClient.connects, s: document.body.innerText})")
        raise AssertionError(f"timed out waiting for {expression}; page state: {snapshot}")

    def close(self) -> None:
        self.socket.close()


@pytest.fixture
def static_site() -> Iterator[str]:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(CLIENT_DIR))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail("the browser client test needs Debian's chromium: apt-get install -y chromium")
    profile = tempfile.mkdtemp(prefix="chromium-")
    process = subprocess.Popen([CHROMIUM, *FLAGS, "--remote-debugging-address=127.0.0.1",
                                "--remote-debugging-port=0", f"--user-data-dir={profile}", "about:blank"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = Path(profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("chromium did not start its DevTools endpoint")
            time.sleep(0.05)
        port = int(port_file.read_text().splitlines()[0])

        def open_page(url: str) -> Page:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/json/new?{url}", method="PUT")
            with urllib.request.urlopen(request, timeout=10) as response:
                target = json.loads(response.read())
            return Page(target["webSocketDebuggerUrl"])

        yield open_page
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(profile, ignore_errors=True)


def test_progress_bar_reaches_100_and_survives_a_dropped_connection(static_site: str, browser: Any) -> None:
    with ProgressServer(step_seconds=0.4, drop_after_percent=30) as server:
        page = browser(f"{static_site}/index.html?url={server.url}")
        try:
            page.wait_for("document.readyState === 'complete' && !!window.progressClient")
            page.evaluate("document.getElementById('start').click()")
            page.wait_for("progressClient.percent === 100")
            state = page.evaluate("JSON.stringify({percent: progressClient.percent, connects: progressClient.connects,"
                                  " resumes: progressClient.resumes, bar: document.getElementById('bar').style.width,"
                                  " now: document.getElementById('bar').getAttribute('aria-valuenow'),"
                                  " text: document.getElementById('percent').textContent,"
                                  " status: document.getElementById('status').textContent,"
                                  " messages: Array.from(document.querySelectorAll('#messages li'))"
                                  ".map(li => li.textContent)})")
        finally:
            page.close()
    result = json.loads(state)
    assert (result["bar"], result["now"], result["text"]) == ("100%", "100", "100%")
    assert result["status"] == "order complete"
    assert server.dropped == 1
    assert result["connects"] == 2 and result["resumes"] == 1
    assert result["messages"][0] == "10% order received" and result["messages"][-1] == "100% order delivered"
    actions = [r["action"] for r in server.requests]
    assert actions == ["start", "resume"]
    assert len(server.executions) == 1  # the reconnect resumed; it did not start a second order


def test_unknown_action_error_is_shown(static_site: str, browser: Any) -> None:
    with ProgressServer() as server:
        page = browser(f"{static_site}/index.html?url={server.url}")
        try:
            page.wait_for("document.readyState === 'complete' && !!window.progressClient")
            page.evaluate("document.getElementById('start').click()")
            page.wait_for("progressClient.connects === 1 && !!progressClient.socket")
            page.evaluate("progressClient.socket.send(JSON.stringify({action: 'fly'}))")
            text = page.wait_for("document.getElementById('error').textContent")
        finally:
            page.close()
    assert "unknown action 'fly'" in text and "valid actions: start, resume" in text
