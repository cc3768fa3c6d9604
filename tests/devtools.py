"""Headless Chromium over the DevTools protocol, shared by the browser tests (the ProgressTracker client and
the GlacierRestore site): Debian's `chromium` with `--remote-debugging-port=0`, a page target per tab, driven
with `websockets`; no browser download. Pages evaluate JavaScript, wait for conditions, dispatch DevTools events
(e.g. requests paused by the Fetch domain), take screenshots and navigate."""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from websockets.sync.client import connect

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1100,900"]


class Page:
    """One page target: commands, events, JavaScript evaluation, waits."""

    def __init__(self, websocket_url: str) -> None:
        self.socket = connect(websocket_url, max_size=None)
        self.ids = itertools.count(1)
        self.listeners: dict[str, Callable[[dict[str, Any]], None]] = {}
        self.console: list[str] = []
        self.listeners["Runtime.consoleAPICalled"] = lambda p: self.console.append(
            " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", [])))
        self.listeners["Runtime.exceptionThrown"] = lambda p: self.console.append(
            "exception: " + json.dumps(p.get("exceptionDetails", {}).get("exception", {}).get("description")))

    def _dispatch(self, message: dict[str, Any]) -> None:
        listener = self.listeners.get(message.get("method", ""))
        if listener is not None:
            listener(message.get("params", {}))

    def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        request_id = next(self.ids)
        self.socket.send(json.dumps({"id": request_id, "method": method, "params": params or {}}))
        while True:
            message = json.loads(self.socket.recv(timeout=30))
            if message.get("id") == request_id:
                if "error" in message:
                    raise AssertionError(f"{method}: {message['error']}")
                return message.get("result", {})  # type: ignore[no-any-return]
            self._dispatch(message)

    def pump(self, seconds: float) -> None:
        """Handle the events that arrive within `seconds`."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                message = json.loads(self.socket.recv(timeout=left))
            except TimeoutError:
                return
            self._dispatch(message)

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": True})
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                value = self.evaluate(expression)
            except AssertionError:
                value = None  # the page is navigating
            if value:
                return value
            self.pump(0.05)
        state = self.evaluate("JSON.stringify({url: location.href, main: (document.querySelector('main') || "
                              "document.body).innerText.slice(0, 600), "
                              "status: (document.getElementById('status') || {})"
                              ".textContent, error: (document.getElementById('error') || {}).textContent})")
        raise AssertionError(f"timed out waiting for {expression}; page: {state}; console: {self.console[-5:]}")

    def wait_until(self, condition: Callable[[], bool], timeout: float = 30.0,
                   explain: Callable[[], str] = str) -> None:
        """Pump events until `condition()`; on timeout, fail with `explain()` and the page's last console lines."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out: {explain()}; console: {self.console[-5:]}")
            self.pump(0.05)

    def navigate(self, url: str) -> None:
        self.send("Page.navigate", {"url": url})

    def screenshot(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(self.send("Page.captureScreenshot", {"format": "png"})["data"]))
        return path

    def close(self) -> None:
        self.socket.close()


@contextmanager
def chromium() -> Iterator[Callable[[], Page]]:
    """Start headless Chromium; yields `open_page()` (a new tab at about:blank: `navigate` it)."""
    if not Path(CHROMIUM).exists():
        raise AssertionError("the browser tests need Debian's chromium: make browser (apt-get install -y chromium)")
    profile = tempfile.mkdtemp(prefix="chromium-")
    process = subprocess.Popen([CHROMIUM, *FLAGS, "--remote-debugging-address=127.0.0.1",
                                "--remote-debugging-port=0", f"--user-data-dir={profile}", "about:blank"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pages: list[Page] = []
    try:
        port_file = Path(profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("chromium did not start its DevTools endpoint")
            time.sleep(0.05)
        port = int(port_file.read_text().splitlines()[0])

        def open_page() -> Page:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/json/new?about:blank", method="PUT")
            with urllib.request.urlopen(request, timeout=10) as response:
                target = json.loads(response.read())
            page = Page(target["webSocketDebuggerUrl"])
            pages.append(page)
            page.send("Runtime.enable")
            page.send("Page.enable")
            return page

        yield open_page
    finally:
        for page in pages:
            page.close()
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(profile, ignore_errors=True)
