"""A loopback WebSocket server that speaks the ProgressTracker protocol, for the browser test.

It reuses the Lambda's protocol module (validation, error messages, execution names) and
the demo workflow's progress points, and plays the API Gateway parts the client depends on:
the echoed subprotocol, `start`/`resume` replies, pushed progress, and a dropped connection.
"""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from progress_messages import (
    RESUME_SCHEMA,
    START_SCHEMA,
    ResumeRequest,
    StartRequest,
    compiled,
    start_request,
    validate,
)
from progress_protocol import SESSION_RE, ProtocolError, error_message, execution_name, parse_body
from websockets.asyncio.server import ServerConnection, serve

from serverless_patterns.progress_tracker.reporting import DEMO_POINTS

VALID_START = compiled(START_SCHEMA)
VALID_RESUME = compiled(RESUME_SCHEMA)


@dataclass
class Execution:
    owner: str
    state: dict[str, Any]
    followers: set[ServerConnection] = field(default_factory=set)


class ProgressServer:
    """Runs on its own thread and event loop; `url` is ws://127.0.0.1:<port>."""

    def __init__(self, step_seconds: float = 0.3, drop_after_percent: int | None = 30) -> None:
        self.step_seconds = step_seconds
        self.drop_after_percent = drop_after_percent
        self.executions: dict[str, Execution] = {}
        self.requests: list[dict[str, Any]] = []
        self.connections = 0
        self.dropped = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Future[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.port = 0

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def __enter__(self) -> ProgressServer:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the local WebSocket server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(lambda: self._stop and self._stop.set_result(None))
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        self._stop = self._loop.create_future()

        def select(connection: ServerConnection, offered: list[str]) -> str | None:
            # API Gateway: the $connect response must echo the subprotocol, or the browser closes.
            return offered[0] if offered and SESSION_RE.match(offered[0]) else None

        async with serve(self._handle, "127.0.0.1", 0, select_subprotocol=select) as server:
            self.port = next(iter(server.sockets)).getsockname()[1]
            self._ready.set()
            await self._stop
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _handle(self, connection: ServerConnection) -> None:
        session = connection.subprotocol
        if not session:
            await connection.send(json.dumps(error_message("missing_session", "send a session id as the "
                                                           "WebSocket subprotocol")))
            await connection.close(1008)
            return
        self.connections += 1
        try:
            async for raw in connection:
                await connection.send(json.dumps(self._answer(connection, str(session), str(raw))))
        finally:
            for execution in self.executions.values():
                execution.followers.discard(connection)

    def _answer(self, connection: ServerConnection, session: str, raw: str) -> dict[str, Any]:
        try:
            data = parse_body(raw)
            self.requests.append(data)
            if data.get("action") == "start":
                start: StartRequest = start_request(VALID_START, data)
                name = execution_name("anonymous", session, start["requestId"])
                already = name in self.executions
                if not already:
                    self.executions[name] = Execution(session, {"type": "progress", "executionId": name,
                                                                "percent": 0, "message": "queued", "step": "",
                                                                "status": "PENDING"})
                    self._tasks.add(self._loop.create_task(self._workflow(name)))
                self.executions[name].followers.add(connection)
                return {"type": "started", "executionId": name, "requestId": start["requestId"],
                        "alreadyStarted": already}
            if data.get("action") == "resume":
                resume: ResumeRequest = validate(VALID_RESUME, data)
                name = resume.get("executionId") or execution_name("anonymous", session, str(resume.get("requestId")))
                execution = self.executions.get(name)
                if execution is None:
                    raise ProtocolError("unknown_execution", f"no execution {name!r} is known", 404)
                if execution.owner != session:
                    raise ProtocolError("forbidden_execution", f"execution {name!r} was started by another "
                                        "session", 403)
                execution.followers.add(connection)
                return {**execution.state, "resumed": True}
            raise ProtocolError("unknown_action", f"unknown action {data.get('action')!r}")
        except ProtocolError as error:
            return error_message(error.code, error.message)

    async def _workflow(self, name: str) -> None:
        execution = self.executions[name]
        for point in DEMO_POINTS:
            await asyncio.sleep(self.step_seconds)
            execution.state = {"type": "progress", "executionId": name, "percent": point.percent,
                               "message": point.message, "step": point.step, "status": point.status}
            for follower in list(execution.followers):
                try:
                    await follower.send(json.dumps(execution.state))
                except Exception:  # gone: like a 410 from @connections
                    execution.followers.discard(follower)
            if point.percent == self.drop_after_percent and self.dropped == 0:
                self.dropped += 1
                for follower in list(execution.followers):
                    follower.transport.abort()  # a dropped network connection, no close handshake
                execution.followers.clear()
