"""The web front end in headless Chromium against the offline stand-in of the deployed service.

The pages come from the component's own uploads and response headers policy; the API answers with the
component's mapping templates, state machines (in moto) and Lambda handlers; sign-in goes through a stand-in of
the Cognito hosted UI that checks the OAuth code grant and PKCE. Three loopback origins, so Chromium enforces
CORS and the CSP for real. One person's path: sign in, browse, estimate (the price shown before anything can be
confirmed), request, watch "My requests" change when S3 completes the restore, then follow the completion
email's link in a fresh tab: sign in again, and the download starts (answered by moto's S3 through the
DevTools Fetch domain). Screenshots of each page go to `.build/artifacts/glacier-site/` (or
$GLACIER_SITE_ARTIFACTS); they are not committed.
"""

from __future__ import annotations

import base64
import importlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from devtools import Page, chromium

from serverless_patterns.glacier_restore import GlacierRestoreArgs
from serverless_patterns.lambdas.glacier_restore.cost_estimate import app as cost_app
from serverless_patterns.lambdas.glacier_restore.cost_estimate import service
from serverless_patterns.lambdas.glacier_restore.download import app as download_app
from serverless_patterns.offline.sfn import REGION

from .site_standin import SiteStandIn, User
from .workflow_env import ARGS, DEEP, FLEX, SIZES, STANDARD, Archive, Deployed, restores_held_in_progress

POOL = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_Rs7hQ2abc"
SITE_ARGS: GlacierRestoreArgs = {**ARGS, "cognito_user_pool_arns": [POOL],
                                 "web_site": {"cognito_domain_prefix": "research-restores"}}
ALICE = User(sub="5c1f3a2e-8d4b-4c7e-9f10-2a3b4c5d6e7f", email="alice@research.example.org", username="alice")
STATE = "document.getElementById('status').textContent + ' / ' + document.getElementById('error').textContent"
ARTIFACTS = Path(os.environ.get("GLACIER_SITE_ARTIFACTS")
                 or Path(__file__).resolve().parents[2] / ".build" / "artifacts" / "glacier-site")


@pytest.fixture(scope="module")
def deployed() -> Deployed:
    return Deployed.build(SITE_ARGS)


@pytest.fixture
def standin(deployed: Deployed, monkeypatch: pytest.MonkeyPatch) -> Iterator[SiteStandIn]:
    environment = deployed.stack.one("aws:lambda/function:Function", "gr-service").inputs["environment"]["variables"]
    for name, value in {**deployed.cost_environment, **environment, "AWS_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    importlib.reload(cost_app)
    importlib.reload(service)
    importlib.reload(download_app)  # Powertools reads its metric namespace when the module loads
    for module in (service, download_app):
        module.s3_client.cache_clear()
        module.dynamodb_client.cache_clear()
    try:
        with restores_held_in_progress(), deployed.harness() as h, \
                SiteStandIn(deployed.stack, Archive(h, deployed).setup(), ALICE) as s:
            yield s
    finally:
        for module in (service, download_app):
            module.s3_client.cache_clear()
            module.dynamodb_client.cache_clear()


def text_of(page: Page, element_id: str) -> str:
    return str(page.evaluate(f"document.getElementById({json.dumps(element_id)}).textContent"))


def signed_in(page: Page, standin: SiteStandIn, url: str) -> None:
    """Open `url`; the page sends us through the hosted UI (stubbed sign-in) and back to `url`."""
    before = len(standin.token_calls)
    page.navigate(url)
    page.wait_for("location.pathname !== '/' && !location.search.includes('code=') && "
                  "!!sessionStorage.getItem('glacier.idToken') && window.GlacierApp && GlacierApp.ready")
    assert len(standin.token_calls) == before + 1
    token_call = standin.token_calls[-1]
    assert token_call["grant_type"] == "authorization_code" and token_call["code_verifier"]
    assert "client_secret" not in token_call  # a public client: PKCE, no secret in the page


def serve_downloads(page: Page, folder: Path) -> list[str]:
    """Downloads go to `folder`; requests to S3 are paused and answered by moto (requests under mock_aws)."""
    fetched: list[str] = []
    page.send("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(folder)})

    def answer(params: dict[str, Any]) -> None:
        url = params["request"]["url"]
        fetched.append(url)
        got = requests.get(url, timeout=10)
        headers = [{"name": k, "value": v} for k, v in got.headers.items()
                   if k.lower() in ("content-type", "content-length", "etag", "last-modified")]
        page.socket.send(json.dumps({"id": 10**6 + len(fetched), "method": "Fetch.fulfillRequest", "params": {
            "requestId": params["requestId"], "responseCode": got.status_code, "responseHeaders": headers,
            "body": base64.b64encode(got.content).decode()}}))

    page.listeners["Fetch.requestPaused"] = answer
    page.send("Fetch.enable", {"patterns": [{"urlPattern": "https://*.amazonaws.com/*"}]})
    return fetched


def test_sign_in_browse_estimate_request_complete_and_download(standin: SiteStandIn) -> None:
    archive = standin.archive
    site = standin.origins.local["site"]
    shots: list[Path] = []
    with chromium() as open_page:
        page = open_page()

        # --- sign in (PKCE) and browse -------------------------------------------------------------------------
        signed_in(page, standin, f"{site}/index.html?prefix=projects/genome-2019/")
        [authorize] = standin.authorize_calls
        assert authorize["code_challenge_method"] == "S256" and len(authorize["code_challenge"]) == 43
        page.wait_for("document.querySelectorAll('#rows tr').length === 3")
        rows = page.evaluate("Array.from(document.querySelectorAll('#rows tr')).map(r => "
                             "Array.from(r.children).map(c => c.textContent))")
        assert {r[0]: (r[2], r[3]) for r in rows} == {
            DEEP: ("DEEP_ARCHIVE", "archived"), FLEX: ("GLACIER", "archived"),
            STANDARD: ("STANDARD", "not archived (no restore needed)")}
        assert "3 entries under projects/genome-2019/" in text_of(page, "status")
        assert page.evaluate("document.getElementById('status').getAttribute('aria-live')") == "polite"
        shots.append(page.screenshot(ARTIFACTS / "1-browse.png"))

        # --- the object's page: the estimate comes before any confirmation ---------------------------------------
        page.evaluate(f"document.querySelector('#rows a[href*={json.dumps('run-42')}]').click()")
        page.wait_for("location.pathname === '/object.html' && GlacierApp.ready && "
                      "document.getElementById('object-state').textContent === 'archived'")
        assert text_of(page, "key") == DEEP
        assert page.evaluate("document.getElementById('confirm').disabled") is True
        assert page.evaluate("Array.from(document.querySelectorAll('label')).every(l => "
                             "document.getElementById(l.htmlFor))")  # every field has its label
        page.evaluate("document.getElementById('tier').value = 'Bulk'; "
                      "document.getElementById('tier').dispatchEvent(new Event('change'))")
        page.evaluate("const d = document.getElementById('days'); d.value = '3'; d.dispatchEvent(new Event('input'))")
        page.evaluate("document.getElementById('estimate').click()")
        page.wait_for("!document.getElementById('confirm').disabled")
        shown_total = text_of(page, "estimate-total")
        lines = page.evaluate("Array.from(document.querySelectorAll('#estimate-lines dd')).map(d => d.textContent)")
        assert len(lines) == 5 and lines[-1] == shown_total
        assert "Prices from" in text_of(page, "estimate-source")
        shots.append(page.screenshot(ARTIFACTS / "2-estimate.png"))
        # Changing the days voids the estimate: nothing can be confirmed at a price not shown.
        page.evaluate("const e = document.getElementById('days'); e.value = '4'; e.dispatchEvent(new Event('input'))")
        assert page.evaluate("document.getElementById('confirm').disabled") is True
        assert archive.record(DEEP) is None and not any(c[1].endswith("/restores") for c in standin.api_calls)
        page.evaluate("const f = document.getElementById('days'); f.value = '3'; f.dispatchEvent(new Event('input'))")
        page.evaluate("document.getElementById('estimate').click()")
        page.wait_for("!document.getElementById('confirm').disabled")
        assert text_of(page, "estimate-total") == shown_total

        # --- request: the component's templates and request workflow in moto ------------------------------------
        page.evaluate("document.getElementById('confirm').click()")
        page.wait_for("document.getElementById('status').textContent.startsWith('Restore requested')")
        record = archive.record(DEEP)
        assert record is not None and record["principals"]["SS"] == [ALICE.sub]
        assert record["tier"]["S"] == "Bulk" and record["days"]["N"] == "3"
        assert record["requesters"]["SS"] == [ALICE.email]
        page.wait_for("document.getElementById('object-state').textContent === 'restoring'")
        shots.append(page.screenshot(ARTIFACTS / "3-requested.png"))

        # --- my requests: restoring, then restored when S3 completes --------------------------------------------
        page.navigate(f"{site}/requests.html")
        page.wait_for("GlacierApp.ready && document.querySelector('#request-rows tr td:nth-child(5)') && "
                      "document.querySelector('#request-rows tr td:nth-child(5)').textContent === 'restoring'")
        shots.append(page.screenshot(ARTIFACTS / "4-my-requests-restoring.png"))
        archive.finish_restore(DEEP)
        completion = archive.complete(DEEP)
        assert completion.status == "SUCCEEDED", completion.describe()
        page.evaluate("GlacierApp.refresh()")
        page.wait_for("document.querySelector('#request-rows tr td:nth-child(5)').textContent"
                      ".startsWith('restored until')")
        assert text_of(page, "status") == "1 request changed status."
        assert page.evaluate("document.querySelector('#request-rows button').textContent") == "Download"
        shots.append(page.screenshot(ARTIFACTS / "5-my-requests-restored.png"))

        # The price shown before confirming is the completion workflow's, to the cent.
        completed = json.loads(archive.record(DEEP)["costEstimate"]["S"])  # type: ignore[index]
        assert shown_total == f"{completed['currency']} {completed['total']:.4f}"

        # --- one click from the email: a fresh tab signs in, then the download starts ---------------------------
        [confirmation, ready] = archive.sent()
        assert DEEP in confirmation.subject
        assert DEEP in ready.subject
        [link] = re.findall(r"https://\S+/object\.html\?\S+", ready.body)
        real_site = standin.origins.real["site"]
        assert link.startswith(real_site + "/object.html?")
        assert parse_qs(urlsplit(link).query) == {"download": ["1"], "key": [DEEP]}  # a key, no credential
        email_page = open_page()
        downloads = Path(tempfile.mkdtemp(prefix="glacier-downloads-"))
        fetched = serve_downloads(email_page, downloads)
        signed_in(email_page, standin, standin.origins.swap(link))
        assert len(standin.authorize_calls) == 2  # the new tab had no session: it signed in first
        target = downloads / Path(DEEP).name
        email_page.wait_until(lambda: target.exists() and target.stat().st_size == SIZES[DEEP],
                              explain=lambda: f"{target} (API: {standin.api_calls[-3:]}; S3: {fetched}; page: "
                                              f"{email_page.evaluate(STATE)})")
        assert target.read_bytes() == b"\0" * SIZES[DEEP]
        [url] = fetched
        assert urlsplit(url).path.endswith("/" + DEEP) and "X-Amz-Signature=" in url
        assert email_page.evaluate("GlacierApp.lastDownload") == url
        assert text_of(email_page, "status").startswith(f"Your download of {DEEP} is starting")
        shots.append(email_page.screenshot(ARTIFACTS / "6-download-from-email.png"))

    # Every API answer the pages read named exactly the site's origin (Chromium enforced it: no CORS errors).
    assert not [line for line in page.console + email_page.console if "CORS" in line or "exception" in line]
    assert standin.failures == []
    assert ("OPTIONS", "/v1/restores", 204) in standin.api_calls
    assert all(shot.stat().st_size > 1000 for shot in shots)
