"""The static browser client in headless Chromium against a loopback server speaking the protocol.

Chromium is driven over the DevTools protocol (a few lines on top of `websockets`), with no
browser download: the Debian `chromium` package. The test needs `/usr/bin/chromium`.
"""

from __future__ import annotations

import functools
import http.server
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from devtools import Page, chromium
from progress_local_server import ProgressServer

CLIENT_DIR = Path(__file__).resolve().parents[2] / "lambdas" / "progress_tracker" / "client"


@pytest.fixture
def static_site() -> Iterator[str]:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(CLIENT_DIR))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def browser() -> Iterator[Callable[[str], Page]]:
    """`browser(url)`: a new tab of one headless Chromium, at `url`."""
    with chromium() as open_page:
        def open_at(url: str) -> Page:
            page = open_page()
            page.navigate(url)
            return page

        yield open_at


def test_progress_bar_reaches_100_and_survives_a_dropped_connection(static_site: str,
                                                                    browser: Callable[[str], Page]) -> None:
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


def test_unknown_action_error_is_shown(static_site: str, browser: Callable[[str], Page]) -> None:
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
