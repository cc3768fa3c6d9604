"""An offline stand-in of the deployed web front end, for the browser test: three loopback origins.

- **site**: serves the objects the component uploads (`BucketObjectv2`: key, content, content type, cache
  control) with the distribution's response headers policy (CSP, HSTS, frame options, nosniff, referrer), as
  CloudFront would serve the private bucket.
- **cognito**: the hosted UI's `/oauth2/authorize` and `/oauth2/token`, with the sign-in form stubbed (the user
  is signed in at once) but the OAuth checks real: the app client id, the registered callback URL, the
  authorization-code grant and PKCE S256 (RFC 7636 section 4.6: BASE64URL(SHA256(verifier)) == challenge).
  ID tokens are HS256-signed with a per-run secret (the authorizer below checks them).
- **api**: API Gateway as the component configured it. `OPTIONS` answers with the preflight MOCK integration's
  response headers; `POST /restores` renders the component's request template, runs the request workflow in
  moto and renders its response template (status from `responseOverride`, headers from the integration
  responses); the Lambda proxy routes call the functions' handlers with the component's environment; API
  Gateway's own 4xx (a missing or bad token: the Cognito authorizer) carry the DEFAULT_4XX gateway response's
  headers.

The component names its real origins (the CloudFront domain, the execute-api host, the Cognito domain); the
stand-in checks each mapping holds exactly that origin, then serves it with the loopback origin in its place.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt

from serverless_patterns.lambdas.glacier_restore.cost_estimate import service
from serverless_patterns.lambdas.glacier_restore.download import app as download_app
from serverless_patterns.offline.engine import CapturedStack

from .apigateway_vtl import render
from .service_env import proxy_event
from .workflow_env import Archive, LambdaContext

ORIGIN_HEADER = "Access-Control-Allow-Origin"


@dataclass
class User:
    sub: str
    email: str
    username: str


@dataclass
class Origins:
    """The real origins the component configured, and their loopback stand-ins."""

    real: dict[str, str] = field(default_factory=dict)
    local: dict[str, str] = field(default_factory=dict)

    def swap(self, text: str) -> str:
        for name, real in self.real.items():
            text = text.replace(real, self.local[name])
        return text


class _Server:
    """A threaded loopback HTTP server whose requests go to `handle(method, path, headers, body)`."""

    def __init__(self, handle: Callable[[str, str, dict[str, str], bytes], tuple[int, dict[str, str], bytes]]):
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, headers, payload = handle(self.command, self.path, {k.lower(): v for k, v in
                                                                            self.headers.items()}, body)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_OPTIONS = _serve

            def log_message(self, *args: Any) -> None:
                outer.log.append(" ".join(str(a) for a in args))

        self.log: list[str] = []
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(body).encode()


class SiteStandIn:
    """The three origins around one moto archive (`Archive`, set up by the caller)."""

    def __init__(self, stack: CapturedStack, archive: Archive, user: User, *, component: str = "gr") -> None:
        self.stack, self.archive, self.user, self.component = stack, archive, user, component
        self.lock = threading.Lock()
        self.secret = secrets.token_bytes(32)
        self.codes: dict[str, dict[str, str]] = {}
        self.authorize_calls: list[dict[str, str]] = []
        self.token_calls: list[dict[str, str]] = []
        self.api_calls: list[tuple[str, str, int]] = []
        self.site = _Server(self._site)
        self.cognito = _Server(self._cognito)
        self.api = _Server(self._api)

        client = stack.one("aws:cognito/userPoolClient:UserPoolClient", f"{component}-site-client")
        self.client_id: str = client.id
        self.callback_urls: list[str] = client.inputs["callbackUrls"]
        config_js = stack.one("aws:s3/bucketObjectv2:BucketObjectv2", f"{component}-site-config-js").inputs["content"]
        config = json.loads(config_js.split("Object.freeze(", 1)[1].rsplit(");", 1)[0])
        api_url = urlsplit(config["apiUrl"])
        self.stage_path = api_url.path  # /v1
        self.origins = Origins(
            real={"site": config["redirectUri"].rstrip("/"), "api": f"{api_url.scheme}://{api_url.netloc}",
                  "cognito": config["cognitoDomain"]},
            local={"site": self.site.origin, "api": self.api.origin, "cognito": self.cognito.origin})
        self.config = config
        self.objects = {o.inputs["key"]: o.inputs for o in stack.of_type("aws:s3/bucketObjectv2:BucketObjectv2")}
        self.security_headers = self._security_headers()
        self.cors: dict[str, dict[str, str]] = self._preflights()
        self.gateway_4xx = self._gateway_headers("DEFAULT_4XX")
        self.gateway_5xx = self._gateway_headers("DEFAULT_5XX")
        self.failures: list[Exception] = []
        self.restores_headers = self._restores_headers()
        self.environments = {
            name: dict(stack.one("aws:lambda/function:Function", f"{component}-{name}").inputs["environment"]
                       ["variables"]) for name in ("service", "download")}

    # --- what the component configured ------------------------------------------------------------------------

    def _literal(self, value: str) -> str:
        """An API Gateway header mapping value is a quoted literal: 'https://…'."""
        assert value.startswith("'") and value.endswith("'"), value
        return value[1:-1]

    def _security_headers(self) -> dict[str, str]:
        config = self.stack.one("aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy").inputs[
            "securityHeadersConfig"]
        hsts = config["strictTransportSecurity"]
        csp = config["contentSecurityPolicy"]["contentSecurityPolicy"]
        assert f"connect-src {self.origins.real['api']} {self.origins.real['cognito']};" in csp
        return {
            "Content-Security-Policy": self.origins.swap(csp),
            "Strict-Transport-Security": f"max-age={int(hsts['accessControlMaxAgeSec'])}"
                                         + ("; includeSubDomains" if hsts.get("includeSubdomains") else ""),
            "X-Frame-Options": config["frameOptions"]["frameOption"],
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": config["referrerPolicy"]["referrerPolicy"],
        }

    def _resource_paths(self) -> dict[str, str]:
        """Resource id -> full path (e.g. /restores/estimate), from the API's resources."""
        resources = {r.id: r.inputs for r in self.stack.of_type("aws:apigateway/resource:Resource")}
        api = self.stack.one("aws:apigateway/restApi:RestApi")
        root = api.outputs["rootResourceId"]

        def path(resource_id: str) -> str:
            if resource_id == root:
                return ""
            r = resources[resource_id]
            return path(r["parentId"]) + "/" + r["pathPart"]

        return {rid: path(rid) for rid in resources}

    def _preflights(self) -> dict[str, dict[str, str]]:
        paths = self._resource_paths()
        found: dict[str, dict[str, str]] = {}
        for response in self.stack.of_type("aws:apigateway/integrationResponse:IntegrationResponse"):
            if response.inputs["httpMethod"] != "OPTIONS":
                continue
            headers = {k.removeprefix("method.response.header."): self._literal(v)
                       for k, v in response.inputs["responseParameters"].items()}
            assert headers[ORIGIN_HEADER] == self.origins.real["site"]
            headers[ORIGIN_HEADER] = self.origins.local["site"]
            found[paths[response.inputs["resourceId"]]] = headers
        return found

    def _gateway_headers(self, kind: str) -> dict[str, str]:
        response = next(r for r in self.stack.of_type("aws:apigateway/response:Response")
                        if r.inputs["responseType"] == kind)
        value = self._literal(response.inputs["responseParameters"][f"gatewayresponse.header.{ORIGIN_HEADER}"])
        assert value == self.origins.real["site"]
        return {ORIGIN_HEADER: self.origins.local["site"]}

    def _restores_result(self) -> dict[str, Any]:
        """The 200 integration response of the site's `POST /restores` (not the `/iam` copy)."""
        resource = self.stack.one("aws:apigateway/resource:Resource", f"{self.component}-restores").id
        return next(r.inputs for r in self.stack.of_type("aws:apigateway/integrationResponse:IntegrationResponse")
                    if r.inputs["resourceId"] == resource and r.inputs["httpMethod"] == "POST"
                    and r.inputs["statusCode"] == "200")

    def _restores_headers(self) -> dict[str, str]:
        response = self._restores_result()
        value = self._literal(response["responseParameters"][f"method.response.header.{ORIGIN_HEADER}"])
        assert value == self.origins.real["site"]
        return {ORIGIN_HEADER: self.origins.local["site"]}

    # --- the site (CloudFront + the private bucket) -------------------------------------------------------------

    def _site(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        key = urlsplit(path).path.lstrip("/") or "index.html"  # default_root_object
        obj = self.objects.get(key)
        if method not in ("GET", "HEAD") or obj is None:
            return 403, {"Content-Type": "text/plain"}, b"AccessDenied"  # OAC: S3 answers 403 for unknown keys
        content = obj["content"] if key != "config.js" else self.origins.swap(obj["content"])
        return 200, {"Content-Type": obj["contentType"], "Cache-Control": obj["cacheControl"],
                     **self.security_headers}, content.encode()

    # --- Cognito hosted UI (sign-in stubbed; OAuth and PKCE checked) ---------------------------------------------

    def _cognito(self, method: str, path: str, headers: dict[str, str],
                 body: bytes) -> tuple[int, dict[str, str], bytes]:
        url = urlsplit(path)
        callback = self.origins.swap(self.callback_urls[0])
        if method == "GET" and url.path == "/oauth2/authorize":
            q = {k: v[0] for k, v in parse_qs(url.query).items()}
            self.authorize_calls.append(q)
            if (q.get("client_id") != self.client_id or q.get("redirect_uri") != callback
                    or q.get("response_type") != "code" or q.get("code_challenge_method") != "S256"
                    or not q.get("code_challenge") or not q.get("state")):
                return 400, {"Content-Type": "text/plain"}, b"invalid_request"
            code = secrets.token_urlsafe(16)
            self.codes[code] = {"challenge": q["code_challenge"], "redirect_uri": q["redirect_uri"]}
            return 302, {"Location": f"{callback}?{urlencode({'code': code, 'state': q['state']})}"}, b""
        if method == "POST" and url.path == "/oauth2/token":
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            self.token_calls.append(form)
            cors = {ORIGIN_HEADER: self.origins.local["site"]}
            grant = self.codes.pop(form.get("code", ""), None)
            verifier = form.get("code_verifier", "")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if (grant is None or form.get("grant_type") != "authorization_code"
                    or form.get("client_id") != self.client_id or form.get("redirect_uri") != grant["redirect_uri"]
                    or digest != grant["challenge"]):
                return _json(400, {"error": "invalid_grant"}, cors)
            now = int(time.time())
            claims = {"sub": self.user.sub, "email": self.user.email, "email_verified": True,
                      "cognito:username": self.user.username, "aud": self.client_id, "token_use": "id",
                      "iss": self.origins.local["cognito"], "iat": now, "exp": now + 3600}
            token = jwt.encode(claims, self.secret, algorithm="HS256")
            return _json(200, {"id_token": token, "access_token": token, "expires_in": 3600,
                               "token_type": "Bearer"}, cors)
        return 404, {"Content-Type": "text/plain"}, b"not found"

    def authorize(self, headers: dict[str, str]) -> dict[str, str] | None:
        """API Gateway's Cognito authorizer: a valid ID token of this client, or nothing."""
        try:
            claims = jwt.decode(headers.get("authorization", ""), self.secret, algorithms=["HS256"],
                                audience=self.client_id, issuer=self.origins.local["cognito"])
        except jwt.PyJWTError:
            return None
        if claims.get("token_use") != "id":
            return None
        # API Gateway passes claims as strings.
        return {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in claims.items()}

    # --- the API ------------------------------------------------------------------------------------------------

    def _api(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        with self.lock:
            try:
                answer = self._route(method, path, headers, body)
            except Exception as error:  # a crashed integration: API Gateway's 502 (DEFAULT_5XX), and the test fails
                self.failures.append(error)
                answer = _json(502, {"message": "Internal server error"}, self.gateway_5xx)
        self.api_calls.append((method, path, answer[0]))
        return answer

    def _route(self, method: str, path: str, headers: dict[str, str],
               body: bytes) -> tuple[int, dict[str, str], bytes]:
        url = urlsplit(path)
        if not url.path.startswith(self.stage_path + "/"):
            return _json(403, {"message": "Missing Authentication Token"}, self.gateway_4xx)
        route = url.path[len(self.stage_path):]
        if method == "OPTIONS":
            preflight = self.cors.get(route)
            if preflight is None:
                return _json(403, {"message": "Missing Authentication Token"}, self.gateway_4xx)
            return 204, preflight, b""
        claims = self.authorize(headers)
        if claims is None:
            return _json(401, {"message": "Unauthorized"}, self.gateway_4xx)
        if (method, route) == ("POST", "/restores"):
            return self._post_restores(body.decode(), claims)
        handlers = {("GET", "/objects"): (service, "service"), ("POST", "/restores/estimate"): (service, "service"),
                    ("POST", "/restores/bulk"): (service, "service"), ("GET", "/download"): (download_app, "download")}
        if (method, route) not in handlers:
            return _json(403, {"message": "Missing Authentication Token"}, self.gateway_4xx)
        module, name = handlers[(method, route)]
        query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        event = proxy_event(method, route, query=query or None, body=body.decode() or None, claims=claims)
        saved = {k: os.environ.get(k) for k in [*self.environments[name], "ALLOWED_ORIGIN"]}
        os.environ.update(self.environments[name])
        os.environ["ALLOWED_ORIGIN"] = self.origins.local["site"]  # the site origin, served locally
        try:
            result = module.handler(event, LambdaContext())
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        out = {k: ",".join(v) for k, v in (result.get("multiValueHeaders") or {}).items()}
        out.update(result.get("headers") or {})
        payload = base64.b64decode(result["body"]) if result.get("isBase64Encoded") else result["body"].encode()
        return result["statusCode"], out, payload

    def _post_restores(self, body: str, claims: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        integration = self.stack.one("aws:apigateway/integration:Integration",
                                     f"{self.component}-restores-integration").inputs
        response = self._restores_result()
        request_id = f"{secrets.token_hex(4)}-7b61-11e6-9a41-93e8deadbeef"
        start = json.loads(render(integration["requestTemplates"]["application/json"], body, claims=claims,
                                  request_id=request_id).body)
        run = self.archive.h.run(self.archive.deployed.request_definition, json.loads(start["input"]),
                                 state_machine_arn=self.archive.request_arn, name=request_id)
        result: dict[str, Any] = {"executionArn": run.arn, "status": run.status}
        if run.status == "SUCCEEDED":
            result["output"] = json.dumps(run.output)
        else:
            result.update({"error": run.error, "cause": run.cause})
        rendered = render(response["responseTemplates"]["application/json"], json.dumps(result),
                          request_id=request_id)
        return rendered.status, {"Content-Type": "application/json", **self.restores_headers}, rendered.body.encode()

    # --- lifecycle ----------------------------------------------------------------------------------------------

    def __enter__(self) -> SiteStandIn:
        for server in (self.site, self.cognito, self.api):
            server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for server in (self.site, self.cognito, self.api):
            server.stop()
