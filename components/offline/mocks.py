"""Pulumi mocks that answer like AWS would, and a monitor that captures every registration.

Outputs are realistic (ARNs in the right account, Region and partition; URLs; API ids)
and deterministic: the same program gives the same values on every run. The account
and Region of a resource follow its provider, so a program that spans accounts through
explicit providers gets ARNs in each provider's account. Invokes the engine does not
know fail loudly instead of returning empty data.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import re
import string
import threading
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pulumi.runtime import MockCallArgs, MockResourceArgs, Mocks
from pulumi.runtime.mocks import MockMonitor

DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"


class UnmockedInvokeError(RuntimeError):
    """The program called a data source the offline engine does not emulate."""


@dataclass(frozen=True)
class Place:
    """Where a resource lives: account, Region and partition (from its provider)."""

    account: str
    region: str
    partition: str = "aws"

    @property
    def dns_suffix(self) -> str:
        return "amazonaws.com.cn" if self.partition == "aws-cn" else "amazonaws.com"


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _token(seed: str, length: int, alphabet: str = string.ascii_lowercase + string.digits) -> str:
    """A deterministic id of `length` characters drawn from `alphabet`."""
    number = int(_digest(seed), 16)
    chars = []
    for _ in range(length):
        number, index = divmod(number, len(alphabet))
        chars.append(alphabet[index])
    return "".join(chars)


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


@dataclass
class Ctx:
    """What an output maker needs about the resource being registered."""

    typ: str
    name: str
    inputs: dict[str, Any]
    place: Place

    def physical(self, prop: str = "name", prefix_prop: str = "namePrefix") -> str:
        """The physical name: the given one, or Pulumi-style auto-naming (logical name + 7 hex)."""
        given = self.inputs.get(prop)
        if isinstance(given, str) and given:
            return given
        prefix = self.inputs.get(prefix_prop)
        suffix = _digest(self.typ, self.name)[:7]
        if isinstance(prefix, str) and prefix:
            return prefix + suffix
        return f"{self.name}-{suffix}"

    def arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        p = self.place
        return f"arn:{p.partition}:{service}:{p.region if region else ''}:{p.account if account else ''}:{resource}"

    def api_id(self) -> str:
        return _token(self.typ + self.name, 10)


Maker = Callable[[Ctx], tuple[str, dict[str, Any]]]


def _named(service: str, fmt: str, *, prop: str = "name", region: bool = True, account: bool = True,
           id_is: str = "name") -> Maker:
    """Outputs for the common shape: a physical name, an ARN from `fmt`, id = name or ARN."""

    def make(ctx: Ctx) -> tuple[str, dict[str, Any]]:
        name = ctx.physical(prop)
        arn = ctx.arn(service, fmt.format(name=name), region=region, account=account)
        return (arn if id_is == "arn" else name), {prop: name, "arn": arn}

    return make


def _bucket(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    name = ctx.physical("bucket", "bucketPrefix").lower()
    region = ctx.place.region
    return name, {"bucket": name, "arn": ctx.arn("s3", name, region=False, account=False), "region": region,
                  "bucketDomainName": f"{name}.s3.{ctx.place.dns_suffix}",
                  "bucketRegionalDomainName": f"{name}.s3.{region}.{ctx.place.dns_suffix}",
                  "hostedZoneId": "Z1BKCTXD74EZPE"}


def _role(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    name = ctx.physical()
    path = ctx.inputs.get("path") or "/"
    return name, {"name": name, "arn": ctx.arn("iam", f"role{path}{name}", region=False),
                  "uniqueId": "AROA" + _token(ctx.name, 17, string.ascii_uppercase + string.digits),
                  "createDate": "2026-01-01T00:00:00Z"}


def _function(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    name = ctx.physical()
    arn = ctx.arn("lambda", f"function:{name}")
    p = ctx.place
    invoke = f"arn:{p.partition}:apigateway:{p.region}:lambda:path/2015-03-31/functions/{arn}/invocations"
    return name, {"name": name, "arn": arn, "invokeArn": invoke, "qualifiedArn": f"{arn}:$LATEST",
                  "qualifiedInvokeArn": invoke.replace(arn, f"{arn}:$LATEST"), "version": "$LATEST",
                  "lastModified": "2026-01-01T00:00:00.000+0000", "sourceCodeHash": _digest(ctx.name)[:44]}


def _queue(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    name = ctx.physical()
    if ctx.inputs.get("fifoQueue") and not name.endswith(".fifo"):
        name += ".fifo"
    url = f"https://sqs.{ctx.place.region}.{ctx.place.dns_suffix}/{ctx.place.account}/{name}"
    return url, {"name": name, "arn": ctx.arn("sqs", name), "url": url}


def _state_machine(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    name = ctx.physical()
    arn = ctx.arn("states", f"stateMachine:{name}")
    return arn, {"name": name, "arn": arn, "status": "ACTIVE", "creationDate": "2026-01-01T00:00:00Z",
                 "revisionId": _digest(ctx.name)[:32], "stateMachineVersionArn": ""}


def _table(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    name = ctx.physical()
    arn = ctx.arn("dynamodb", f"table/{name}")
    out: dict[str, Any] = {"name": name, "arn": arn}
    if ctx.inputs.get("streamEnabled"):
        out["streamArn"] = f"{arn}/stream/2026-01-01T00:00:00.000"
        out["streamLabel"] = "2026-01-01T00:00:00.000"
    return name, out


def _rest_api(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    api = ctx.api_id()
    # Pulumi auto-names the API (its `name`), as it does any resource with a name property left out.
    return api, {"name": ctx.physical(), "rootResourceId": _token(api + "root", 10),
                 "executionArn": ctx.arn("execute-api", api),
                 "arn": ctx.arn("apigateway", f"/restapis/{api}", account=False),
                 "createdDate": "2026-01-01T00:00:00Z"}


def _rest_resource(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    return _token(ctx.name, 6), {"path": "/" + str(ctx.inputs.get("pathPart", ""))}


def _deployment(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    return _token(ctx.name, 6), {"createdDate": "2026-01-01T00:00:00Z"}


def _rest_stage(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    api, stage = str(ctx.inputs.get("restApi")), str(ctx.inputs.get("stageName"))
    p = ctx.place
    return f"ags-{api}-{stage}", {
        "arn": ctx.arn("apigateway", f"/restapis/{api}/stages/{stage}", account=False),
        "invokeUrl": f"https://{api}.execute-api.{p.region}.{p.dns_suffix}/{stage}",
        "executionArn": ctx.arn("execute-api", f"{api}/{stage}")}


def _api_key(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    key_id = _token(ctx.name, 10)
    out: dict[str, Any] = {"arn": ctx.arn("apigateway", f"/apikeys/{key_id}", account=False),
                           "createdDate": "2026-01-01T00:00:00Z", "name": ctx.physical()}
    if not ctx.inputs.get("value"):
        out["value"] = _token("key" + ctx.name, 40, string.ascii_letters + string.digits)
    return key_id, out


def _usage_plan(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    plan = _token(ctx.name, 6)
    return plan, {"arn": ctx.arn("apigateway", f"/usageplans/{plan}", account=False)}


def _rest_authorizer(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    auth = _token(ctx.name, 6)
    return auth, {"arn": ctx.arn("apigateway", f"/restapis/{ctx.inputs.get('restApi')}/authorizers/{auth}",
                                 account=False)}


def _http_api(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    api = ctx.api_id()
    scheme = "wss" if ctx.inputs.get("protocolType") == "WEBSOCKET" else "https"
    p = ctx.place
    return api, {"apiEndpoint": f"{scheme}://{api}.execute-api.{p.region}.{p.dns_suffix}",
                 "executionArn": ctx.arn("execute-api", api),
                 "arn": ctx.arn("apigateway", f"/apis/{api}", account=False)}


def _http_stage(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    api, stage = str(ctx.inputs.get("apiId")), str(ctx.inputs.get("name"))
    p = ctx.place
    # The protocol is the API's; stages of WebSocket APIs are the ones this library creates.
    return stage, {"invokeUrl": f"wss://{api}.execute-api.{p.region}.{p.dns_suffix}/{stage}",
                   "executionArn": ctx.arn("execute-api", f"{api}/{stage}"),
                   "arn": ctx.arn("apigateway", f"/apis/{api}/stages/{stage}", account=False)}


def _repository(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    name = ctx.physical()
    p = ctx.place
    return name, {"name": name, "arn": ctx.arn("ecr", f"repository/{name}"), "registryId": p.account,
                  "repositoryUrl": f"{p.account}.dkr.ecr.{p.region}.{p.dns_suffix}/{name}"}


def _user_pool(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    pool = f"{ctx.place.region}_{_token(ctx.name, 9, string.ascii_letters + string.digits)}"
    return pool, {"name": ctx.physical(), "arn": ctx.arn("cognito-idp", f"userpool/{pool}"),
                  "endpoint": f"cognito-idp.{ctx.place.region}.{ctx.place.dns_suffix}/{pool}",
                  "creationDate": "2026-01-01T00:00:00Z"}


def _user_pool_client(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    return _token(ctx.name, 26), {}


def _user_pool_domain(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    domain = str(ctx.inputs.get("domain"))
    return domain, {"cloudfrontDistribution": f"{_token(ctx.name, 14)}.cloudfront.net",
                    "cloudfrontDistributionZoneId": "Z2FDTNDATAQYW2", "version": "1"}


def _distribution(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    # CloudFront is global: ARNs have no Region (arn:aws:cloudfront::<account>:distribution/<id>).
    dist = "E" + _token(ctx.name, 13, string.ascii_uppercase + string.digits)
    return dist, {"arn": ctx.arn("cloudfront", f"distribution/{dist}", region=False),
                  "domainName": f"d{_token(ctx.name + '/domain', 13)}.cloudfront.net", "hostedZoneId": "Z2FDTNDATAQYW2",
                  "status": "Deployed", "etag": "E" + _token(ctx.name + "/etag", 13, string.ascii_uppercase),
                  "callerReference": _digest(ctx.name)[:32]}


def _cloudfront_id(kind: str) -> Maker:
    """Global CloudFront resources with an E… id and arn:aws:cloudfront::<account>:<kind>/<id>."""

    def make(ctx: Ctx) -> tuple[str, dict[str, Any]]:
        resource_id = "E" + _token(ctx.typ + ctx.name, 13, string.ascii_uppercase + string.digits)
        return resource_id, {"arn": ctx.arn("cloudfront", f"{kind}/{resource_id}", region=False),
                             "etag": "E" + _token(ctx.name + "/etag", 13, string.ascii_uppercase)}

    return make


def _bucket_object(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    key = str(ctx.inputs.get("key"))
    bucket = str(ctx.inputs.get("bucket"))
    return key, {"arn": ctx.arn("s3", f"{bucket}/{key}", region=False, account=False),
                 "etag": hashlib.md5(str(ctx.inputs.get("content", "")).encode()).hexdigest(), "versionId": ""}


def _email_identity(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    identity = str(ctx.inputs.get("emailIdentity") or ctx.inputs.get("email") or ctx.inputs.get("domain"))
    return identity, {"arn": ctx.arn("ses", f"identity/{identity}"), "identityType":
                      "EMAIL_ADDRESS" if "@" in identity else "DOMAIN"}


def _parameter(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    name = ctx.physical()
    return name, {"name": name, "arn": ctx.arn("ssm", "parameter/" + name.lstrip("/")), "version": 1}


def _kms_key(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    key = "-".join(_token(ctx.name + str(i), n, string.hexdigits[:16]) for i, n in enumerate((8, 4, 4, 4, 12)))
    return key, {"keyId": key, "arn": ctx.arn("kms", f"key/{key}")}


def _rule(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    name = ctx.physical()
    bus = ctx.inputs.get("eventBusName")
    resource = f"rule/{bus}/{name}" if bus and bus != "default" else f"rule/{name}"
    return name, {"name": name, "arn": ctx.arn("events", resource)}


def _provider(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    return f"provider-{_token(ctx.name, 12)}", {}


def _id_only(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    return f"{ctx.name}-{_digest(ctx.typ, ctx.name)[:8]}", {}


def _id_from(*props: str, sep: str = ":", prefix: str = "") -> Maker:
    """Resources whose id AWS (or the provider) builds from their inputs, e.g. a bucket's settings."""

    def make(ctx: Ctx) -> tuple[str, dict[str, Any]]:
        return prefix + sep.join(str(ctx.inputs.get(p, "")) for p in props), {}

    return make


def _random_id(length: int) -> Maker:
    """Resources AWS gives a short random id (API Gateway routes, integrations, authorizers)."""

    def make(ctx: Ctx) -> tuple[str, dict[str, Any]]:
        return _token(ctx.typ + ctx.name, length), {}

    return make


def _event_target(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    target = ctx.physical("targetId", "targetIdPrefix")
    bus = ctx.inputs.get("eventBusName")
    parts = [bus] if bus and bus != "default" else []
    return "-".join([*parts, str(ctx.inputs.get("rule")), target]), {"targetId": target}


def _role_policy(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    name = ctx.physical()
    return f"{ctx.inputs.get('role')}:{name}", {"name": name}


def _permission(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    statement = ctx.physical("statementId", "statementIdPrefix")
    return statement, {"statementId": statement}


MAKERS: dict[str, Maker] = {
    "aws:s3/bucket:Bucket": _bucket,
    "aws:s3/bucketV2:BucketV2": _bucket,
    "aws:iam/role:Role": _role,
    "aws:iam/policy:Policy": _named("iam", "policy/{name}", region=False, id_is="arn"),
    "aws:lambda/function:Function": _function,
    "aws:cloudwatch/logGroup:LogGroup": _named("logs", "log-group:{name}"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": _named("cloudwatch", "alarm:{name}"),
    "aws:cloudwatch/eventRule:EventRule": _rule,
    "aws:cloudwatch/eventBus:EventBus": _named("events", "event-bus/{name}"),
    "aws:sqs/queue:Queue": _queue,
    "aws:sns/topic:Topic": _named("sns", "{name}", id_is="arn"),
    "aws:sfn/stateMachine:StateMachine": _state_machine,
    "aws:dynamodb/table:Table": _table,
    "aws:apigateway/restApi:RestApi": _rest_api,
    "aws:apigateway/resource:Resource": _rest_resource,
    "aws:apigateway/deployment:Deployment": _deployment,
    "aws:apigateway/stage:Stage": _rest_stage,
    "aws:apigateway/apiKey:ApiKey": _api_key,
    "aws:apigateway/usagePlan:UsagePlan": _usage_plan,
    "aws:apigateway/authorizer:Authorizer": _rest_authorizer,
    "aws:apigatewayv2/api:Api": _http_api,
    "aws:apigatewayv2/stage:Stage": _http_stage,
    "aws:ecr/repository:Repository": _repository,
    "aws:cognito/userPool:UserPool": _user_pool,
    "aws:cognito/userPoolClient:UserPoolClient": _user_pool_client,
    "aws:cognito/userPoolDomain:UserPoolDomain": _user_pool_domain,
    "aws:cloudfront/distribution:Distribution": _distribution,
    "aws:cloudfront/originAccessControl:OriginAccessControl": _cloudfront_id("origin-access-control"),
    "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy": _cloudfront_id("response-headers-policy"),
    "aws:s3/bucketObjectv2:BucketObjectv2": _bucket_object,
    "aws:sesv2/emailIdentity:EmailIdentity": _email_identity,
    "aws:ses/emailIdentity:EmailIdentity": _email_identity,
    "aws:ses/domainIdentity:DomainIdentity": _email_identity,
    "aws:ssm/parameter:Parameter": _parameter,
    "aws:kms/key:Key": _kms_key,
    "aws:iam/rolePolicy:RolePolicy": _role_policy,
    "aws:lambda/permission:Permission": _permission,
    "aws:s3/bucketNotification:BucketNotification": _id_from("bucket"),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": _id_from("bucket"),
    "aws:s3/bucketPolicy:BucketPolicy": _id_from("bucket"),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": _id_from("bucket"),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": _id_from("bucket"),
    "aws:s3/bucketVersioning:BucketVersioning": _id_from("bucket"),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": _id_from("bucket"),
    "aws:sqs/queuePolicy:QueuePolicy": _id_from("queueUrl"),
    "aws:ecr/repositoryPolicy:RepositoryPolicy": _id_from("repository"),
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": _id_from("repository"),
    "aws:apigateway/method:Method": _id_from("restApi", "resourceId", "httpMethod", sep="-", prefix="agm-"),
    "aws:apigateway/integration:Integration": _id_from("restApi", "resourceId", "httpMethod", sep="-",
                                                       prefix="agi-"),
    "aws:apigateway/methodResponse:MethodResponse": _id_from("restApi", "resourceId", "httpMethod", "statusCode",
                                                             sep="-", prefix="agmr-"),
    "aws:apigateway/integrationResponse:IntegrationResponse": _id_from("restApi", "resourceId", "httpMethod",
                                                                       "statusCode", sep="-", prefix="agir-"),
    "aws:apigateway/methodSettings:MethodSettings": _id_from("restApi", "stageName", "methodPath", sep="-"),
    "aws:apigateway/usagePlanKey:UsagePlanKey": _id_from("keyId"),
    "aws:apigateway/requestValidator:RequestValidator": _random_id(6),
    "aws:apigateway/model:Model": _random_id(6),
    "aws:apigateway/account:Account": lambda ctx: ("api-gateway-account", {}),
    "aws:apigatewayv2/route:Route": _random_id(7),
    "aws:apigatewayv2/integration:Integration": _random_id(7),
    "aws:apigatewayv2/authorizer:Authorizer": _random_id(6),
    "aws:apigatewayv2/routeResponse:RouteResponse": _random_id(6),
    "aws:apigatewayv2/deployment:Deployment": _random_id(6),
    "aws:cloudwatch/eventTarget:EventTarget": _event_target,
}


def _image(args: dict[str, Any], place: Place) -> dict[str, Any]:
    repo = str(args.get("repositoryName"))
    tag = args.get("imageTag")
    digest = args.get("imageDigest") or "sha256:" + _digest(place.account, repo, str(tag))
    registry = str(args.get("registryId") or place.account)
    return {"id": digest, "imageDigest": digest, "imagePushedAt": 1767225600, "imageSizeInBytes": 52428800,
            "imageTags": [tag] if tag else [], "registryId": registry, "repositoryName": repo,
            "imageUri": f"{registry}.dkr.ecr.{place.region}.{place.dns_suffix}/{repo}@{digest}"}


#: Public SSM parameters Powertools for AWS Lambda (Python) publishes, one per release, architecture and runtime:
#: `/aws/service/powertools/python/<arch>/<python3.x>/<release or latest>` (aws-powertools/powertools-lambda-
#: python pull request 5754; the runtime keeps its dot: issue 6213). The value is the ARN of the layer version
#: that carries the release in the caller's Region, e.g. `arn:aws:lambda:us-east-1:017000801446:layer:
#: AWSLambdaPowertoolsPythonV3-python313-x86_64:27` for 3.23.0 (issue 7689).
POWERTOOLS_PARAMETER = re.compile(
    r"/aws/service/powertools/python/(?P<arch>x86_64|arm64)/(?P<runtime>python3\.\d+)/"
    r"(?P<release>\d+\.\d+\.\d+|latest)")
#: The publishing accounts (Powertools install page): commercial and China. GovCloud Regions publish from
#: accounts of their own and no page documents parameters there, so the engine answers none.
POWERTOOLS_ACCOUNTS = {"aws": "017000801446", "aws-cn": "498634801083"}
#: Layer versions documented for a release (issue 7689). For any other release the engine makes up a stable
#: number from 100 to 999: it cannot know which layer version Powertools published for it.
POWERTOOLS_LAYER_VERSIONS = {"3.23.0": 27}


def _public_parameter(args: dict[str, Any], place: Place) -> dict[str, Any]:
    """GetParameter of a public `/aws/service/powertools/python/...` parameter (a String parameter)."""
    name = str(args.get("name"))
    match = POWERTOOLS_PARAMETER.fullmatch(name)
    account = POWERTOOLS_ACCOUNTS.get(place.partition)
    if match is None or account is None:
        raise UnmockedInvokeError(f"the offline engine answers GetParameter only for Powertools' public layer "
                                  f"parameters in {', '.join(POWERTOOLS_ACCOUNTS)}, not {name!r} in "
                                  f"{place.partition}; add it to components/offline/mocks.py")
    release = match["release"]
    version = POWERTOOLS_LAYER_VERSIONS.get(release) or 100 + int(_digest(release), 16) % 900
    python = match["runtime"].replace(".", "")
    value = (f"arn:{place.partition}:lambda:{place.region}:{account}:layer:"
             f"AWSLambdaPowertoolsPythonV3-{python}-{match['arch']}:{version}")
    return {"id": name, "name": name, "type": "String", "value": value, "insecureValue": value, "version": 1,
            "arn": f"arn:{place.partition}:ssm:{place.region}::parameter{name}", "region": place.region,
            "withDecryption": bool(args.get("withDecryption", True))}


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


class AwsMocks(Mocks):
    """Realistic AWS answers for `pulumi.runtime.set_mocks`."""

    def __init__(self, account: str = DEFAULT_ACCOUNT, region: str = DEFAULT_REGION) -> None:
        self.default = Place(account, region, partition_of(region))
        self.providers: dict[str, Place] = {}

    def place_of(self, provider_ref: str | None) -> Place:
        """The account and Region of a provider reference (`urn::id`); the default provider otherwise."""
        if provider_ref:
            return self.providers.get(provider_ref.rsplit("::", 1)[-1], self.default)
        return self.default

    def _register_provider(self, provider_id: str, inputs: dict[str, Any]) -> None:
        # Provider config reaches the engine as JSON strings for anything that is not a string.
        inputs = {k: _maybe_json(v) for k, v in inputs.items()}
        region = inputs.get("region") or self.default.region
        account = self.default.account
        allowed = inputs.get("allowedAccountIds")
        if isinstance(allowed, list) and allowed:
            account = str(allowed[0])
        roles = inputs.get("assumeRoles") or ([inputs["assumeRole"]] if inputs.get("assumeRole") else [])
        if roles and isinstance(roles[-1], dict):
            role_arn = roles[-1].get("roleArn") or roles[-1].get("role_arn") or ""
            match = re.match(r"^arn:[\w-]+:iam::(\d{12}):", str(role_arn))
            if match:
                account = match.group(1)
        self.providers[provider_id] = Place(account, str(region), partition_of(str(region)))

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        inputs = dict(args.inputs)
        if args.typ.startswith("pulumi:providers:"):
            provider_id, _ = _provider(Ctx(args.typ, args.name, inputs, self.default))
            if args.typ == "pulumi:providers:aws":
                self._register_provider(provider_id, inputs)
            return provider_id, inputs
        ctx = Ctx(args.typ, args.name, inputs, self.place_of(args.provider))
        maker = MAKERS.get(args.typ, _id_only)
        resource_id, outputs = maker(ctx)
        if args.typ.startswith("aws:") and "tags" in inputs:
            outputs.setdefault("tagsAll", inputs["tags"])
        return resource_id, {**inputs, **outputs}

    def call(self, args: MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        place = self.place_of(args.provider)
        token = args.token
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": place.account, "id": place.account, "userId": "AIDAOFFLINEENGINE",
                    "arn": f"arn:{place.partition}:iam::{place.account}:user/offline-plan"}
        if token == "aws:index/getRegion:getRegion":
            return {"region": place.region, "name": place.region, "id": place.region,
                    "endpoint": f"ec2.{place.region}.{place.dns_suffix}", "description": place.region}
        if token == "aws:index/getPartition:getPartition":
            return {"partition": place.partition, "dnsSuffix": place.dns_suffix, "id": place.partition,
                    "reverseDnsPrefix": ".".join(reversed(place.dns_suffix.split(".")))}
        if token == "aws:ecr/getImage:getImage":
            return _image(dict(args.args), place)
        if token == "aws:ssm/getParameter:getParameter":
            return _public_parameter(dict(args.args), place)
        raise UnmockedInvokeError(f"the offline engine does not emulate the invoke {token!r}; "
                                  "add it to components/offline/mocks.py")


@dataclass
class CapturedResource:
    """One registration: what `pulumi preview` would show for it."""

    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    provider: str
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    inputs: dict[str, Any]
    outputs: dict[str, Any] = field(default_factory=dict)
    id: str = ""
    component_outputs: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    """Resource options the engine sees: protect, retainOnDelete, deleteBeforeReplace, ignoreChanges."""


def code_signature(function: Any) -> tuple[frozenset[str], tuple[str, ...], tuple[Any, ...]] | None:
    """What a function's code names, keeps as locals and holds as constants (nested code objects left out):
    enough to tell whether a copied step-for-step version still follows it."""
    code = getattr(function, "__code__", None)
    if code is None:
        return None
    return (frozenset(code.co_names), code.co_varnames,
            tuple(const for const in code.co_consts if not isinstance(const, types.CodeType)))


#: `code_signature` of pulumi's `MockMonitor.RegisterResource` in the versions `_register` follows (3.260 to
#: 3.272, the same source): with any other body the SDK's own runs.
_SDK_REGISTER = (
    frozenset({"MockMonitor", "MockResourceArgs", "RegisterResourceResponse", "ResourceRegistration",
               "_ensure_event_loop", "_resolve_callbacks", "_sync_await", "custom", "deserialize_properties",
               "importId", "make_urn", "mocks", "name", "new_resource", "object", "parent", "provider",
               "resource_pb2", "resources", "rpc", "serialize_properties", "transforms", "type"}),
    ("self", "request", "urn", "inputs", "resource_args", "id_", "state", "obj_proto"),
    (None, "pulumi:pulumi:Stack", ("urn",), False,
     ("typ", "name", "inputs", "provider", "resource_id", "custom", "transforms"), ("urn", "id", "object")),
)


def _plain(value: Any) -> bool:
    """True for JSON made of exactly `dict` (string keys), `list`, `str`, `bool`, `int`, `float` and None: the
    values pulumi's `serialize_property` returns as they are."""
    kind = type(value)
    if value is None or kind is str or kind is bool or kind is int or kind is float:
        return True
    if kind is dict:
        return all(type(key) is str and _plain(item) for key, item in value.items())
    if kind is list:
        return all(_plain(item) for item in value)
    return False


def plain_struct(state: dict[str, Any]) -> Any:
    """`await rpc.serialize_properties(state, {})` for a plain `state` (see `_plain`), without the event loop
    it needs: the same `Struct` (top-level None values left out, as the SDK leaves them out), or None when
    `state` holds anything else (secrets objects, assets, resources, outputs), which only the SDK serializes.
    tests/offline/test_engine.py compares both on every resource of the example stacks."""
    from google.protobuf import struct_pb2

    if type(state) is not dict or not _plain(state):
        return None
    struct = struct_pb2.Struct()
    struct.update({key: value for key, value in state.items() if value is not None})
    return struct


class CapturingMonitor(MockMonitor):
    """A mock monitor that records every registered resource, its inputs and dependencies.

    With `shortcuts` (the engine's default), a registration whose mock state is plain JSON is answered
    without the SDK's event-loop round trip to serialize it (`plain_struct`); guarded: only while the SDK's
    `MockMonitor.RegisterResource` is the one `_register` follows (`_SDK_REGISTER`).
    """

    def __init__(self, mocks: Mocks, *, shortcuts: bool = False) -> None:
        super().__init__(mocks)
        self.shortcuts = shortcuts and code_signature(MockMonitor.RegisterResource) == _SDK_REGISTER
        self.captured: list[CapturedResource] = []
        self.by_urn: dict[str, CapturedResource] = {}
        self.thread_loops: set[asyncio.AbstractEventLoop] = set()

    def _track_thread_loop(self) -> None:
        # The mock monitor runs on executor threads and gives each one an event loop;
        # remember them so the engine can close them when the run ends.
        if threading.current_thread() is not threading.main_thread():
            with contextlib.suppress(RuntimeError):
                self.thread_loops.add(asyncio.get_event_loop())

    def close_thread_loops(self) -> None:
        for loop in self.thread_loops:
            if not loop.is_running() and not loop.is_closed():
                loop.close()
        self.thread_loops.clear()

    def Invoke(self, request: Any) -> Any:
        response = super().Invoke(request)  # type: ignore[no-untyped-call]
        self._track_thread_loop()
        return response

    def _register(self, request: Any) -> Any:
        """pulumi's `MockMonitor.RegisterResource` step for step (the URN, the stack's early answer, the thread's
        event loop, the inputs, the mock's state, the registration), with a plain state serialized directly."""
        from pulumi.runtime import mocks as sdk_mocks

        sdk: Any = sdk_mocks  # its own imports (resource_pb2, rpc, _sync_await), as its RegisterResource uses them
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == "pulumi:pulumi:Stack":
            return sdk.resource_pb2.RegisterResourceResponse(urn=urn)
        sdk._ensure_event_loop()
        inputs = sdk.rpc.deserialize_properties(request.object)
        resource_args = sdk.MockResourceArgs(typ=request.type, name=request.name, inputs=inputs,
                                             provider=request.provider, resource_id=request.importId,
                                             custom=request.custom or False,
                                             transforms=sdk._resolve_callbacks(request.transforms))
        id_, state = self.mocks.new_resource(resource_args)
        obj_proto = plain_struct(state)
        if obj_proto is None:
            obj_proto = sdk._sync_await(sdk.rpc.serialize_properties(state, {}))
        self.resources[urn] = sdk.MockMonitor.ResourceRegistration(urn, id_, state)
        return sdk.resource_pb2.RegisterResourceResponse(urn=urn, id=id_, object=obj_proto)

    def RegisterResource(self, request: Any) -> Any:
        response = (self._register(request) if self.shortcuts
                    else super().RegisterResource(request))  # type: ignore[no-untyped-call]
        self._track_thread_loop()
        if request.type == "pulumi:pulumi:Stack":
            return response
        from pulumi.runtime import rpc

        registration = self.resources.get(response.urn)
        resource = CapturedResource(
            urn=response.urn,
            type=request.type,
            name=request.name,
            parent=request.parent,
            custom=bool(request.custom),
            provider=request.provider,
            dependencies=list(request.dependencies),
            property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items()},
            inputs=rpc.deserialize_properties(request.object),
            outputs=dict(registration.state) if registration else {},
            id=registration.id if registration else "",
            options={"protect": bool(request.protect), "retainOnDelete": bool(request.retainOnDelete),
                     "deleteBeforeReplace": bool(request.deleteBeforeReplace),
                     "ignoreChanges": list(request.ignoreChanges)},
        )
        self.captured.append(resource)
        self.by_urn[resource.urn] = resource
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:
        from pulumi.runtime import rpc

        resource = self.by_urn.get(request.urn)
        if resource is not None:
            resource.component_outputs = rpc.deserialize_properties(request.outputs)
        return super().RegisterResourceOutputs(request)  # type: ignore[no-untyped-call]


def secret_value(value: Any) -> Any:
    """Unwrap Pulumi's secret envelope (as mocks see secret inputs)."""
    if isinstance(value, dict) and "value" in value and any(len(k) == 32 for k in value):
        return value["value"]
    return value


__all__ = ["AwsMocks", "CapturedResource", "CapturingMonitor", "Place", "UnmockedInvokeError"]
