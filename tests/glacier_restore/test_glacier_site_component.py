"""The web front end's infrastructure as the component registers it: private bucket read through an origin access
control by this distribution only, TLS and security headers, logging, the Cognito client, deterministic uploads,
and CORS on the API for exactly the site's origin."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from serverless_patterns.core.args import ComponentArgsError
from serverless_patterns.glacier_restore import GlacierRestoreArgs
from serverless_patterns.offline import CapturedStack
from serverless_patterns.policies.runner import analyze

from .conftest import ACCOUNT, ARGS, REGION, build

POOL = f"arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/{REGION}_Rs7hQ2abc"
SITE: GlacierRestoreArgs = {**ARGS, "cognito_user_pool_arns": [POOL],
                            "web_site": {"cognito_domain_prefix": "research-restores"}}
SITE_DIR = Path(__file__).resolve().parents[2] / "lambdas" / "glacier_restore" / "site"
CERTIFICATE = f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"


@pytest.fixture(scope="module")
def stack() -> CapturedStack:
    return build(SITE)


def site_url(stack: CapturedStack) -> str:
    return "https://" + stack.one("aws:cloudfront/distribution:Distribution").outputs["domainName"]


def api_origin(stack: CapturedStack) -> str:
    return f"https://{stack.one('aws:apigateway/restApi:RestApi').id}.execute-api.{REGION}.amazonaws.com"


def test_the_bucket_is_private_and_only_this_distribution_reads_its_objects(stack: CapturedStack) -> None:
    bucket = stack.one("aws:s3/bucket:Bucket", "gr-site")
    block = stack.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "gr-site-public-access").inputs
    assert all(block[flag] is True for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                                "restrictPublicBuckets"))
    ownership = stack.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls", "gr-site-ownership").inputs
    assert ownership["rule"]["objectOwnership"] == "BucketOwnerEnforced"  # no ACLs at all
    distribution = stack.one("aws:cloudfront/distribution:Distribution")
    policy = json.loads(stack.one("aws:s3/bucketPolicy:BucketPolicy", "gr-site-policy").inputs["policy"])
    allows = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert allows == [{"Sid": "CloudFrontReadsThePages", "Effect": "Allow",
                       "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:GetObject",
                       "Resource": bucket.outputs["arn"] + "/*",
                       "Condition": {"StringEquals": {"AWS:SourceArn": distribution.outputs["arn"]}}}]
    denies = {s["Sid"]: s["Condition"] for s in policy["Statement"] if s["Effect"] == "Deny"}
    assert denies == {"DenyInsecureTransport": {"Bool": {"aws:SecureTransport": "false"}},
                      "DenyOldTls": {"NumericLessThan": {"s3:TlsVersion": "1.2"}}}


def test_cloudfront_signs_every_origin_request_with_sigv4(stack: CapturedStack) -> None:
    oac = stack.one("aws:cloudfront/originAccessControl:OriginAccessControl")
    assert (oac.inputs["originAccessControlOriginType"], oac.inputs["signingBehavior"],
            oac.inputs["signingProtocol"]) == ("s3", "always", "sigv4")
    [origin] = stack.one("aws:cloudfront/distribution:Distribution").inputs["origins"]
    bucket = stack.one("aws:s3/bucket:Bucket", "gr-site")
    assert origin["originAccessControlId"] == oac.id
    assert origin["domainName"] == bucket.outputs["bucketRegionalDomainName"]
    assert "s3OriginConfig" not in origin and "customOriginConfig" not in origin  # no legacy OAI, no website


def test_viewers_get_https_only_and_the_security_headers(stack: CapturedStack) -> None:
    distribution = stack.one("aws:cloudfront/distribution:Distribution").inputs
    behavior = distribution["defaultCacheBehavior"]
    assert behavior["viewerProtocolPolicy"] == "redirect-to-https"
    assert sorted(behavior["allowedMethods"]) == ["GET", "HEAD"]
    assert distribution["defaultRootObject"] == "index.html"
    # The *.cloudfront.net certificate: CloudFront fixes its policy at TLSv1 whatever is set (ViewerCertificate,
    # https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_ViewerCertificate.html); HSTS keeps
    # browsers on HTTPS. A custom domain gets TLS 1.2 (next test).
    assert distribution["viewerCertificate"] == {"cloudfrontDefaultCertificate": True,
                                                 "minimumProtocolVersion": "TLSv1"}
    headers = stack.one("aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy")
    assert behavior["responseHeadersPolicyId"] == headers.id
    security = headers.inputs["securityHeadersConfig"]
    directives = dict(d.split(" ", 1) for d in security["contentSecurityPolicy"]["contentSecurityPolicy"].split("; "))
    cognito = f"https://research-restores.auth.{REGION}.amazoncognito.com"
    assert directives["connect-src"].split() == [api_origin(stack), cognito]  # exactly the API and Cognito
    assert directives["default-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert "unsafe-inline" not in json.dumps(directives) and "*" not in json.dumps(directives)
    assert security["strictTransportSecurity"]["accessControlMaxAgeSec"] >= 31536000
    assert security["frameOptions"]["frameOption"] == "DENY"
    assert security["contentTypeOptions"]["override"] is True
    assert security["referrerPolicy"]["referrerPolicy"] == "no-referrer"
    assert all(header["override"] is True for header in security.values())


def test_the_pages_use_no_inline_script_or_style() -> None:
    """The CSP allows only the site's own files: inline code would be blocked (and must not be needed)."""
    for page in SITE_DIR.glob("*.html"):
        text = page.read_text()
        assert "<style" not in text and " style=" not in text and not re.search(r"\son[a-z]+=", text)
        assert all(tag.startswith(('<script src="config.js"', '<script src="app.js"'))
                   for tag in ["<script" + t for t in text.split("<script")[1:]])


def test_a_custom_domain_gets_tls_1_2_and_becomes_the_site_url() -> None:
    stack = build({**SITE, "web_site": {"cognito_domain_prefix": "research-restores",
                                        "domain_names": ["restores.research.example.org"],
                                        "certificate_arn": CERTIFICATE}}, name="gr")
    distribution = stack.one("aws:cloudfront/distribution:Distribution").inputs
    assert distribution["aliases"] == ["restores.research.example.org"]
    assert distribution["viewerCertificate"] == {"acmCertificateArn": CERTIFICATE, "sslSupportMethod": "sni-only",
                                                 "minimumProtocolVersion": "TLSv1.2_2021"}
    client = stack.one("aws:cognito/userPoolClient:UserPoolClient").inputs
    assert client["callbackUrls"] == ["https://restores.research.example.org/"]
    preflight = stack.one("aws:apigateway/integrationResponse:IntegrationResponse", "gr-download-preflight").inputs
    assert preflight["responseParameters"]["method.response.header.Access-Control-Allow-Origin"] == \
        "'https://restores.research.example.org'"


def test_access_logs_go_to_a_private_expiring_bucket(stack: CapturedStack) -> None:
    logging = stack.one("aws:cloudfront/distribution:Distribution").inputs["loggingConfig"]
    logs = stack.one("aws:s3/bucket:Bucket", "gr-site-logs")
    assert logging["bucket"] == logs.outputs["bucketDomainName"] and logging["includeCookies"] is False
    block = stack.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "gr-site-logs-public-access").inputs
    assert all(block[flag] is True for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                                "restrictPublicBuckets"))
    expiry = stack.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "gr-site-logs").inputs
    assert expiry["rules"][0]["expiration"]["days"] > 0


def test_sign_in_is_the_hosted_ui_with_a_public_code_flow_client(stack: CapturedStack) -> None:
    domain = stack.one("aws:cognito/userPoolDomain:UserPoolDomain").inputs
    assert domain == {"domain": "research-restores", "userPoolId": f"{REGION}_Rs7hQ2abc"}
    client = stack.one("aws:cognito/userPoolClient:UserPoolClient").inputs
    assert client["generateSecret"] is False
    assert client["allowedOauthFlows"] == ["code"] and client["allowedOauthFlowsUserPoolClient"] is True
    assert client["supportedIdentityProviders"] == ["COGNITO"]
    assert client["callbackUrls"] == client["logoutUrls"] == [site_url(stack) + "/"]
    assert set(client["allowedOauthScopes"]) == {"openid", "email"}
    # The API's Cognito authorizer is the authorization of every route the pages call (the /iam copies: SigV4).
    for method in stack.of_type("aws:apigateway/method:Method"):
        if method.inputs["httpMethod"] != "OPTIONS":
            expected = "AWS_IAM" if method.name.startswith("gr-iam-") else "COGNITO_USER_POOLS"
            assert method.inputs["authorization"] == expected, method.name


def test_every_page_is_uploaded_with_its_type_and_cache_control(stack: CapturedStack) -> None:
    uploads = {o.inputs["key"]: o.inputs for o in stack.of_type("aws:s3/bucketObjectv2:BucketObjectv2")}
    files = {p.name: p.read_text() for p in SITE_DIR.iterdir() if p.suffix in (".html", ".js", ".css")}
    assert set(uploads) == {*files, "config.js"}
    types = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
             ".css": "text/css; charset=utf-8"}
    for key, upload in uploads.items():
        assert upload["contentType"] == types[Path(key).suffix] and upload["cacheControl"] == "no-cache"
        if key in files:
            assert upload["content"] == files[key]
    config = json.loads(uploads["config.js"]["content"].split("Object.freeze(", 1)[1].rsplit(");", 1)[0])
    assert config == {"apiUrl": api_origin(stack) + "/v1",
                      "cognitoDomain": f"https://research-restores.auth.{REGION}.amazoncognito.com",
                      "clientId": stack.one("aws:cognito/userPoolClient:UserPoolClient").id,
                      "redirectUri": site_url(stack) + "/", "scopes": "openid email", "tiers": ["Standard", "Bulk"],
                      "defaultTier": "Standard", "defaultDays": 7, "maxDays": 30}


def test_a_second_preview_registers_the_same_site(stack: CapturedStack) -> None:
    again = build(SITE)

    def site(s: CapturedStack) -> dict[str, Any]:
        return {r.name: r.inputs for r in s.resources
                if r.type.startswith(("aws:cloudfront/", "aws:s3/bucketObjectv2", "aws:cognito/"))}

    assert site(again) == site(stack)


def test_the_api_lets_exactly_the_site_origin_read_its_answers(stack: CapturedStack) -> None:
    origin = f"'{site_url(stack)}'"
    resources = {r.id: r.inputs for r in stack.of_type("aws:apigateway/resource:Resource")}
    preflights = {resources[m.inputs["resourceId"]]["pathPart"]: m
                  for m in stack.of_type("aws:apigateway/method:Method") if m.inputs["httpMethod"] == "OPTIONS"}
    assert set(preflights) == {"restores", "estimate", "bulk", "objects", "download"}
    for method in preflights.values():
        assert method.inputs["authorization"] == "NONE"  # preflights carry no credentials (Fetch standard)
    mocks = [i.inputs for i in stack.of_type("aws:apigateway/integration:Integration")
             if i.inputs["httpMethod"] == "OPTIONS"]
    assert len(mocks) == 5 and all(m["type"] == "MOCK" for m in mocks)
    iam_restores = stack.one("aws:apigateway/resource:Resource", "gr-iam-restores").id
    responses = stack.of_type("aws:apigateway/integrationResponse:IntegrationResponse")
    answers = [r.inputs["responseParameters"] for r in responses if r.inputs["resourceId"] != iam_restores]
    assert len(answers) == 5 + 3  # five preflights, POST /restores' three
    # The SigV4 copies under /iam are for programs, not browsers: no CORS there.
    assert [r.inputs.get("responseParameters") for r in responses if r.inputs["resourceId"] == iam_restores] == \
        [None, None, None]
    assert all(a["method.response.header.Access-Control-Allow-Origin"] == origin for a in answers)
    preflight = next(r.inputs for r in stack.of_type("aws:apigateway/integrationResponse:IntegrationResponse")
                     if r.inputs["httpMethod"] == "OPTIONS" and r.inputs["resourceId"] == next(
                         rid for rid, r2 in resources.items() if r2["pathPart"] == "estimate"))
    assert preflight["responseParameters"]["method.response.header.Access-Control-Allow-Methods"] == "'POST,OPTIONS'"
    assert preflight["responseParameters"]["method.response.header.Access-Control-Allow-Headers"] == \
        "'Authorization,Content-Type'"
    gateway = {r.inputs["responseType"]: r.inputs for r in stack.of_type("aws:apigateway/response:Response")}
    assert set(gateway) == {"DEFAULT_4XX", "DEFAULT_5XX", "BAD_REQUEST_BODY"}
    assert all(g["responseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"] == origin
               for g in gateway.values())
    for name in ("gr-service", "gr-download"):
        environment = stack.one("aws:lambda/function:Function", name).inputs["environment"]["variables"]
        assert environment["ALLOWED_ORIGIN"] == site_url(stack)


def test_without_the_site_nothing_of_it_exists() -> None:
    stack = build(ARGS)
    assert not [r for r in stack.resources if r.type.startswith(("aws:cloudfront/", "aws:cognito/"))]
    assert not [m for m in stack.of_type("aws:apigateway/method:Method") if m.inputs["httpMethod"] == "OPTIONS"]
    assert stack.one("aws:lambda/function:Function", "gr-service").inputs["environment"]["variables"][
        "ALLOWED_ORIGIN"] == ""


def test_the_completion_email_links_to_the_objects_page(stack: CapturedStack) -> None:
    definition = json.loads(stack.one("aws:sfn/stateMachine:StateMachine", "gr-events").inputs["definition"])
    notify = definition["States"]["NotifyRequesters"]
    send = notify["ItemProcessor"]["States"]["SendReadyEmail"]["Parameters"]
    body = send["Content"]["Simple"]["Body"]["Text"]["Data.$"]
    assert f"{site_url(stack)}/object.html?download=1&key={{}}" in body and body.endswith("$.linkKey)")
    assert "signed with the credentials" not in body
    assert notify["ItemSelector"]["linkKey.$"] == "$.object.linkKey"


def test_the_policy_pack_finds_nothing(stack: CapturedStack) -> None:
    assert analyze(stack) == []


@pytest.mark.parametrize(("site", "extra", "field"), [
    ({"cognito_domain_prefix": "research-restores"}, {"auth": "iam"}, "auth"),
    ({"cognito_domain_prefix": "Research"}, {}, "web_site.cognito_domain_prefix"),
    ({"cognito_domain_prefix": "my-cognito-login"}, {}, "web_site.cognito_domain_prefix"),
    ({"cognito_domain_prefix": "-restores"}, {}, "web_site.cognito_domain_prefix"),
    ({}, {}, "web_site.cognito_domain_prefix"),
    ({"cognito_domain_prefix": "restores", "domain_names": ["restores.example.org"]}, {}, "web_site.certificate_arn"),
    ({"cognito_domain_prefix": "restores", "domain_names": ["restores.example.org"],
      "certificate_arn": CERTIFICATE.replace("us-east-1", "eu-west-1")}, {}, "web_site.certificate_arn"),
    ({"cognito_domain_prefix": "restores", "certificate_arn": CERTIFICATE}, {}, "web_site.certificate_arn"),
    ({"cognito_domain_prefix": "restores", "price_class": "PriceClass_Cheapest"}, {}, "web_site.price_class"),
    ({"cognito_domain_prefix": "restores", "cache": True}, {}, "web_site"),
])
def test_bad_site_settings_are_refused_naming_the_field(site: dict[str, Any], extra: dict[str, Any],
                                                        field: str) -> None:
    with pytest.raises(ComponentArgsError) as raised:
        build({**SITE, "web_site": site, **extra})  # type: ignore[typeddict-item]
    assert raised.value.field.startswith(field), str(raised.value)


def test_the_site_defaults_auth_to_cognito() -> None:
    args = {k: v for k, v in SITE.items() if k != "auth"}
    stack = build(args)  # type: ignore[arg-type]
    assert stack.one("aws:apigateway/authorizer:Authorizer").inputs["providerArns"] == [POOL]


def test_the_component_name_fits_the_origin_access_controls_name() -> None:
    """CreateOriginAccessControl: OriginAccessControlConfig.Name is "up to 64 characters" (botocore's model of
    CloudFront); the component names it `<name>-site-<10-character API id>`, so a 48-character component name is
    the longest that fits, and a longer one is refused at construction instead of failing the deploy."""
    longest = "r" * 48
    stack = build(SITE, name=longest)
    assert len(stack.one("aws:cloudfront/originAccessControl:OriginAccessControl").inputs["name"]) == 64
    with pytest.raises(ComponentArgsError) as raised:
        build(SITE, name=longest + "r")
    assert raised.value.field == "web_site" and "at most 48 characters" in str(raised.value)
