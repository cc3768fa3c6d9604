// Archive restores: the pages' one script. Plain JavaScript, no build step, no third-party code.
//
// Sign-in: Cognito's hosted UI with the authorization-code grant and PKCE (RFC 7636, S256). The app client is
// public (no secret); the ID token lives in sessionStorage for this tab only and goes to the API as the
// Authorization header (API Gateway's Cognito authorizer checks it). Links into the site (the completion email's)
// carry only an object key: after sign-in the page continues where the link pointed.
//
// Pages (body[data-page]): browse (GET /objects), object (POST /restores/estimate, then POST /restores, and
// GET /download), requests ("my requests": the keys requested in this browser, their status read from GET /objects).
"use strict";

(function () {
  const CFG = window.GLACIER_CONFIG;
  const TOKEN = "glacier.idToken";
  const PENDING = "glacier.signIn";
  const MINE = "glacier.myRequests";
  const POLL_MS = 30000;
  const $ = (id) => document.getElementById(id);

  // --- status and errors (aria-live regions) -------------------------------------------------------------
  function say(text) { $("status").textContent = text; }
  function fail(text) { $("error").textContent = text; }
  function clearError() { $("error").textContent = ""; }

  // --- PKCE sign-in ----------------------------------------------------------------------------------------
  function base64url(bytes) {
    let text = "";
    for (const b of new Uint8Array(bytes)) text += String.fromCharCode(b);
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function randomText(length) {
    const bytes = new Uint8Array(length);
    crypto.getRandomValues(bytes);
    return base64url(bytes);
  }
  async function challengeOf(verifier) {
    return base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  }

  async function signIn() {
    const verifier = randomText(48);
    const state = randomText(24);
    // Where to come back to: this page, with its query (an email link's key and download flag).
    sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, returnTo: location.pathname + location.search }));
    const query = new URLSearchParams({
      response_type: "code", client_id: CFG.clientId, redirect_uri: CFG.redirectUri, scope: CFG.scopes,
      state, code_challenge: await challengeOf(verifier), code_challenge_method: "S256",
    });
    say("Signing you in…");
    location.assign(CFG.cognitoDomain + "/oauth2/authorize?" + query.toString());
  }

  function claimsOf(token) {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const json = decodeURIComponent(Array.from(atob(part), (c) => "%" + c.charCodeAt(0).toString(16).padStart(2, "0")).join(""));
    return JSON.parse(json);
  }

  function currentToken() {
    const token = sessionStorage.getItem(TOKEN);
    if (!token) return null;
    try {
      const claims = claimsOf(token);
      if (claims.exp * 1000 > Date.now() + 30000) return { token, claims };
    } catch (e) { /* unreadable: sign in again */ }
    sessionStorage.removeItem(TOKEN);
    return null;
  }

  // The hosted UI came back with ?code=&state=: check the state, trade the code (with the verifier) for tokens.
  async function finishSignIn(params) {
    const pending = JSON.parse(sessionStorage.getItem(PENDING) || "null");
    sessionStorage.removeItem(PENDING);
    if (!pending || pending.state !== params.get("state")) {
      throw new Error("The sign-in answer does not match a sign-in started here; please sign in again.");
    }
    const response = await fetch(CFG.cognitoDomain + "/oauth2/token", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code", client_id: CFG.clientId, code: params.get("code"),
        redirect_uri: CFG.redirectUri, code_verifier: pending.verifier,
      }).toString(),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok || !body.id_token) {
      throw new Error("Sign-in failed (" + (body.error || response.status) + "); please sign in again.");
    }
    sessionStorage.setItem(TOKEN, body.id_token);
    // Back to the page the person wanted (only a path on this site: never an open redirect).
    const target = typeof pending.returnTo === "string" && pending.returnTo.startsWith("/") &&
      !pending.returnTo.startsWith("//") ? pending.returnTo : "/index.html";
    location.replace(target);
  }

  function signOut() {
    sessionStorage.removeItem(TOKEN);
    const query = new URLSearchParams({ client_id: CFG.clientId, logout_uri: CFG.redirectUri });
    location.assign(CFG.cognitoDomain + "/logout?" + query.toString());
  }

  // --- the API ---------------------------------------------------------------------------------------------
  async function call(method, path, body) {
    const auth = currentToken();
    if (!auth) { await signIn(); return new Promise(() => {}); }
    const response = await fetch(CFG.apiUrl + path, {
      method,
      headers: Object.assign({ Authorization: auth.token }, body ? { "Content-Type": "application/json" } : {}),
      body: body ? JSON.stringify(body) : undefined,
    });
    if (response.status === 401) {
      sessionStorage.removeItem(TOKEN);
      await signIn();
      return new Promise(() => {});
    }
    const data = await response.json().catch(() => ({}));
    return { status: response.status, ok: response.ok, data };
  }
  function reason(result) {
    return (result.data && (result.data.message || result.data.error)) || "the service answered " + result.status;
  }

  // --- formatting --------------------------------------------------------------------------------------------
  function size(bytes) {
    const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let value = bytes, unit = 0;
    while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
    return (unit ? value.toFixed(1) : String(value)) + " " + units[unit];
  }
  function stateText(restore) {
    if (!restore) return "unknown";
    if (restore.state === "restored") return "restored until " + (restore.availableUntil || "?");
    if (restore.state === "not-archived") return "not archived (no restore needed)";
    return restore.state;
  }
  function money(currency, value) { return currency + " " + Number(value).toFixed(4); }
  function objectLink(key) {
    const a = document.createElement("a");
    a.href = "object.html?key=" + encodeURIComponent(key);
    a.textContent = key;
    return a;
  }
  function cell(row, content, className) {
    const td = document.createElement("td");
    if (content instanceof Node) td.appendChild(content); else td.textContent = content;
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  }

  // The status of one key, read from the archive listing (ListObjectsV2 with RestoreStatus: no HEAD).
  async function statusOf(key) {
    const result = await call("GET", "/objects?" + new URLSearchParams({ prefix: key, pageSize: "1" }).toString());
    if (!result.ok) throw new Error(reason(result));
    const found = (result.data.objects || []).find((o) => o.key === key);
    if (!found) throw new Error("There is no object " + key + " in the archive.");
    return found;
  }

  async function download(key) {
    clearError();
    say("Preparing the download of " + key + "…");
    const result = await call("GET", "/download?" + new URLSearchParams({ key }).toString());
    if (!result.ok) { say(""); fail("Download refused: " + reason(result)); return; }
    say("Your download of " + key + " is starting (the link is valid for " + result.data.expiresInSeconds + " s).");
    App.lastDownload = result.data.url;
    location.assign(result.data.url);
  }

  // --- my requests (this browser) ----------------------------------------------------------------------------
  function myRequests() { return JSON.parse(localStorage.getItem(MINE) || "[]"); }
  function remember(entry) {
    const list = myRequests().filter((r) => r.key !== entry.key);
    list.unshift(entry);
    localStorage.setItem(MINE, JSON.stringify(list.slice(0, 200)));
  }

  // --- pages -----------------------------------------------------------------------------------------------
  const pages = {
    browse() {
      let cursor = null, prefix = "";
      async function list(more) {
        clearError();
        if (!more) { prefix = $("prefix").value; cursor = null; $("rows").textContent = ""; }
        say("Listing " + (prefix || "the top level") + "…");
        const query = { prefix };
        if (cursor) query.cursor = cursor;
        const result = await call("GET", "/objects?" + new URLSearchParams(query).toString());
        if (!result.ok) { say(""); fail("Listing refused: " + reason(result)); return; }
        for (const folder of result.data.folders || []) {
          const row = document.createElement("tr");
          const button = document.createElement("button");
          button.type = "button";
          button.textContent = folder;
          button.setAttribute("aria-label", "Open folder " + folder);
          button.addEventListener("click", () => { $("prefix").value = folder; list(false); });
          cell(row, button); cell(row, "folder"); cell(row, ""); cell(row, "");
          $("rows").appendChild(row);
        }
        for (const o of result.data.objects || []) {
          const row = document.createElement("tr");
          row.dataset.key = o.key;
          cell(row, objectLink(o.key)); cell(row, size(o.sizeBytes), "num"); cell(row, o.storageClass);
          cell(row, stateText(o.restore), "state-" + (o.restore ? o.restore.state : "unknown"));
          $("rows").appendChild(row);
        }
        cursor = result.data.nextCursor;
        $("listing").hidden = false;
        $("listing-caption").textContent = "Objects under " + (prefix || "the top level");
        $("more").hidden = !cursor;
        const count = $("rows").children.length;
        say(count + " entr" + (count === 1 ? "y" : "ies") + " under " + (prefix || "the top level") +
          (cursor ? "; more on the next page." : "."));
      }
      $("browse-form").addEventListener("submit", (event) => { event.preventDefault(); list(false); });
      $("more").addEventListener("click", () => list(true));
      const start = new URLSearchParams(location.search).get("prefix");
      if (start) $("prefix").value = start;
      App.list = list;
      return list(false);
    },

    async object() {
      const params = new URLSearchParams(location.search);
      const key = params.get("key") || "";
      $("key").textContent = key;
      document.title = "Restore " + key;
      if (!key) { fail("No object chosen: open one from Browse."); return; }
      for (const tier of CFG.tiers) {
        const option = document.createElement("option");
        option.value = tier; option.textContent = tier;
        $("tier").appendChild(option);
      }
      $("tier").value = CFG.defaultTier;
      $("days").max = String(CFG.maxDays);
      $("days").value = String(CFG.defaultDays);
      $("email").value = (currentToken() || { claims: {} }).claims.email || "";
      let estimated = null;

      async function refreshState() {
        try {
          const found = await statusOf(key);
          $("object-state").textContent = stateText(found.restore);
          $("download").hidden = found.restore.state !== "restored" && found.restore.state !== "not-archived";
          return found;
        } catch (error) { fail(error.message); return null; }
      }
      // Any change of tier or days voids the estimate: the restore is only confirmed at a price seen.
      function invalidate() {
        estimated = null;
        $("confirm").disabled = true;
        $("estimate-section").hidden = true;
      }
      $("tier").addEventListener("change", invalidate);
      $("days").addEventListener("input", invalidate);

      $("estimate").addEventListener("click", async () => {
        clearError();
        invalidate();
        const choice = { key, tier: $("tier").value, days: Number($("days").value) };
        say("Estimating the cost…");
        const result = await call("POST", "/restores/estimate", choice);
        if (!result.ok) { say(""); fail("No estimate: " + reason(result)); return; }
        const e = result.data.estimate;
        const lines = $("estimate-lines");
        lines.textContent = "";
        const names = { retrieval: "Retrieval", request: "Request fee", restoredStorage: "Restored copy (" +
          choice.days + " days)", dataTransferOut: "One download (data transfer out)" };
        for (const [name, label] of Object.entries(names)) {
          const dt = document.createElement("dt"); dt.textContent = label;
          const dd = document.createElement("dd"); dd.textContent = money(e.currency, e.lines[name]);
          lines.append(dt, dd);
        }
        const dt = document.createElement("dt"); dt.textContent = "Total"; dt.className = "total";
        const dd = document.createElement("dd"); dd.textContent = money(e.currency, e.total); dd.className = "total";
        dd.id = "estimate-total";
        lines.append(dt, dd);
        $("estimate-source").textContent = size(result.data.sizeBytes) + ", " + result.data.storageClass + ", " +
          e.tier + " tier. Prices from " + (e.source === "price-list" ? "the AWS Price List API" :
            e.source === "config" ? "the configured price list" : "the AWS Price List API and the configured list") + ".";
        $("estimate-section").hidden = false;
        estimated = choice;
        $("confirm").disabled = false;
        say("Estimated cost: " + money(e.currency, e.total) + ". Confirm to start the restore.");
      });

      $("restore-form").addEventListener("submit", async (event) => {
        event.preventDefault();
        clearError();
        if (!estimated) { fail("Estimate the cost first."); return; }
        if (!$("email").checkValidity()) { fail("Enter the email address for the messages."); return; }
        $("confirm").disabled = true;
        say("Requesting the restore…");
        const body = { key, tier: estimated.tier, days: estimated.days, email: $("email").value };
        const result = await call("POST", "/restores", body);
        if (!result.ok) { say(""); fail("Restore refused: " + reason(result)); $("confirm").disabled = false; return; }
        remember({ key, tier: body.tier, days: body.days, requestedAt: new Date().toISOString(),
          outcome: result.data.outcome });
        say("Restore requested (" + result.data.outcome + "). You will get an email when it is ready; follow it " +
          "under My requests.");
        await refreshState();
      });
      $("download").addEventListener("click", () => download(key));
      App.refreshState = refreshState;

      const found = await refreshState();
      // One click from the email: ?download=1 starts the download once signed in (the link holds no credential).
      if (params.get("download") === "1" && found) {
        if (found.restore.state === "restored" || found.restore.state === "not-archived") await download(key);
        else say("The restore of " + key + " is " + found.restore.state + "; the download is not ready yet.");
      }
    },

    requests() {
      async function refresh() {
        clearError();
        const list = myRequests();
        $("none").hidden = list.length > 0;
        $("my-requests").hidden = list.length === 0;
        const rows = $("request-rows");
        let changed = 0;
        for (const entry of list) {
          let row = rows.querySelector('tr[data-key="' + CSS.escape(entry.key) + '"]');
          if (!row) {
            row = document.createElement("tr");
            row.dataset.key = entry.key;
            cell(row, objectLink(entry.key)); cell(row, entry.tier); cell(row, String(entry.days), "num");
            cell(row, new Date(entry.requestedAt).toLocaleString()); cell(row, "checking…"); cell(row, "");
            rows.appendChild(row);
          }
          let text, state;
          try {
            const found = await statusOf(entry.key);
            state = found.restore.state;
            text = stateText(found.restore);
          } catch (error) { state = "unknown"; text = error.message; }
          const statusCell = row.children[4];
          if (statusCell.textContent !== text) {
            if (statusCell.textContent !== "checking…") changed += 1;
            statusCell.textContent = text;
            statusCell.className = "state-" + state;
          }
          const action = row.children[5];
          action.textContent = "";
          if (state === "restored") {
            const button = document.createElement("button");
            button.type = "button";
            button.textContent = "Download";
            button.setAttribute("aria-label", "Download " + entry.key);
            button.addEventListener("click", () => download(entry.key));
            action.appendChild(button);
          }
        }
        say(changed ? changed + " request" + (changed === 1 ? " changed" : "s changed") + " status." :
          "Status checked at " + new Date().toLocaleTimeString() + ".");
      }
      $("refresh").addEventListener("click", refresh);
      App.refresh = refresh;
      setInterval(refresh, POLL_MS);
      return refresh();
    },
  };

  const App = { lastDownload: null, ready: false };
  window.GlacierApp = App;

  async function start() {
    const params = new URLSearchParams(location.search);
    try {
      if (params.has("code") && params.has("state")) { await finishSignIn(params); return; }
      if (params.has("error")) throw new Error("Sign-in failed: " + (params.get("error_description") || params.get("error")));
      const auth = currentToken();
      if (!auth) { await signIn(); return; }
      $("who").textContent = "Signed in as " + (auth.claims.email || auth.claims["cognito:username"] || auth.claims.sub);
      $("sign-out").hidden = false;
      $("sign-out").addEventListener("click", signOut);
      await pages[document.body.dataset.page]();
    } catch (error) {
      fail(error.message);
    } finally {
      App.ready = true;
    }
  }
  start();
})();
