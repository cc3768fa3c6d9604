// Progress client for the ProgressTracker WebSocket API (no framework).
//
// - The session id lives in sessionStorage and is sent as the WebSocket subprotocol
//   (Sec-WebSocket-Protocol); the server echoes it, so a reconnect is the same session.
// - "Start" sends {"action":"start","requestId"} with a request id kept in sessionStorage,
//   so a start retried after a dropped connection never starts a second order.
// - After an unexpected close the client reconnects with backoff and sends
//   {"action":"resume","executionId"} (or the requestId if the reply to start was lost):
//   the server answers with the latest progress and keeps pushing further updates.
(function () {
  "use strict";

  const store = window.sessionStorage;
  const params = new URLSearchParams(window.location.search);
  const $ = (id) => document.getElementById(id);
  const state = {
    session: store.getItem("progress.session") || newId(),
    requestId: store.getItem("progress.requestId"),
    executionId: store.getItem("progress.executionId"),
    percent: 0,
    status: "",
    connects: 0,
    resumes: 0,
    socket: null,
    wanted: false,
    retryMs: 500,
  };
  store.setItem("progress.session", state.session);

  function newId() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    return Array.from({ length: 4 }, () => Math.random().toString(36).slice(2, 10)).join("-");
  }

  function endpoint() {
    let url = $("url").value.trim();
    const token = $("token").value.trim();
    if (token) url += (url.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(token);
    return url;
  }

  function setStatus(text) { $("status").textContent = text; }

  function showProgress(message) {
    if (typeof message.percent !== "number" || message.percent < state.percent) return;
    state.percent = message.percent;
    state.status = message.status || "";
    $("bar").style.width = message.percent + "%";
    $("bar").setAttribute("aria-valuenow", String(message.percent));
    $("percent").textContent = message.percent + "%";
    const seen = Array.from($("messages").children).map((li) => li.dataset.key);
    const key = message.percent + ":" + (message.message || "");
    if (message.message && !seen.includes(key)) {
      const li = document.createElement("li");
      li.dataset.key = key;
      li.textContent = message.percent + "% " + message.message;
      $("messages").appendChild(li);
    }
    if (message.status === "SUCCEEDED" || message.status === "FAILED") {
      setStatus(message.status === "SUCCEEDED" ? "order complete" : "order failed");
      state.wanted = false;
      store.removeItem("progress.requestId");
    }
  }

  function onMessage(event) {
    let message;
    try { message = JSON.parse(event.data); } catch (e) { return; }
    if (message.type === "started") {
      state.executionId = message.executionId;
      store.setItem("progress.executionId", message.executionId);
      setStatus(message.alreadyStarted ? "order already running" : "order started");
    } else if (message.type === "progress") {
      if (message.resumed) state.resumes += 1;
      showProgress(message);
    } else if (message.type === "error") {
      $("error").textContent = message.message + (message.validActions ? " (valid actions: "
        + message.validActions.join(", ") + ")" : "");
    }
  }

  function send(message) {
    if (state.socket && state.socket.readyState === WebSocket.OPEN) state.socket.send(JSON.stringify(message));
  }

  function connect() {
    const url = endpoint();
    if (!url) { $("error").textContent = "enter the WebSocket URL"; return; }
    const socket = new WebSocket(url, state.session);
    state.socket = socket;
    setStatus("connecting…");
    socket.onopen = () => {
      state.connects += 1;
      state.retryMs = 500;
      setStatus("connected");
      if (state.executionId) send({ action: "resume", executionId: state.executionId });
      else if (state.requestId) send({ action: "start", requestId: state.requestId, order: order() });
    };
    socket.onmessage = onMessage;
    socket.onclose = () => {
      if (state.socket !== socket) return;
      state.socket = null;
      if (!state.wanted) { setStatus(state.percent >= 100 ? "order complete" : "disconnected"); return; }
      setStatus("connection lost, reconnecting…");
      setTimeout(connect, state.retryMs);
      state.retryMs = Math.min(state.retryMs * 2, 5000);
    };
  }

  function order() { return { sku: "demo-book", quantity: 1 }; }

  function start() {
    $("error").textContent = "";
    state.percent = 0;
    $("messages").innerHTML = "";
    state.executionId = null;
    store.removeItem("progress.executionId");
    state.requestId = newId();
    store.setItem("progress.requestId", state.requestId);
    state.wanted = true;
    if (state.socket && state.socket.readyState === WebSocket.OPEN) {
      send({ action: "start", requestId: state.requestId, order: order() });
    } else {
      connect();
    }
  }

  $("url").value = params.get("url") || "";
  $("token").value = params.get("token") || "";
  $("start").addEventListener("click", start);
  // A reload in the middle of an order picks it up again.
  if ((state.executionId || state.requestId) && $("url").value) { state.wanted = true; connect(); }
  window.progressClient = state;
})();
