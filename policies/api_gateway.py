"""API Gateway baseline: authorized methods and routes, stages with access logs and throttling."""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import PolicyResource, ResourceValidationArgs, Severity, StackValidationArgs

from serverless_patterns.policies.core import (
    each_resource,
    known,
    of_type,
    plain,
    prop,
    referenced,
    resource_rule,
    stack_rule,
)

REST_METHOD = "aws:apigateway/method:Method"
REST_STAGE = "aws:apigateway/stage:Stage"
REST_DEPLOYMENT = "aws:apigateway/deployment:Deployment"
METHOD_SETTINGS = "aws:apigateway/methodSettings:MethodSettings"
V2_API = "aws:apigatewayv2/api:Api"
V2_ROUTE = "aws:apigatewayv2/route:Route"
V2_STAGE = "aws:apigatewayv2/stage:Stage"
#: WebSocket APIs accept an authorizer on `$connect` only; AWS rejects one on any other route.
WEBSOCKET_AUTHORIZED_ROUTES = frozenset({"$connect"})


def check_method_authorized(args: ResourceValidationArgs) -> Iterator[str]:
    method = str(prop(args.props, "httpMethod", ""))
    if method.upper() == "OPTIONS":
        return  # CORS preflight requests carry no credentials by design.
    authorization = str(prop(args.props, "authorization", "NONE"))
    if authorization.upper() == "NONE":
        yield (f"Method {args.name!r} ({method}) has authorization 'NONE'"
               f"{' (an API key is not authorization)' if prop(args.props, 'apiKeyRequired') else ''}. Fix: set "
               f"authorization to CUSTOM (Lambda authorizer), COGNITO_USER_POOLS or AWS_IAM.")


def _protocol(route: PolicyResource, apis: list[PolicyResource]) -> str | None:
    for api in referenced(route, "apiId", apis, "id"):
        return str(plain(api.props.get("protocolType", "")) or "") or None
    return None


def check_routes_authorized(args: StackValidationArgs) -> Iterator[tuple[PolicyResource, str]]:
    apis = of_type(args, V2_API)

    def check(route: PolicyResource) -> Iterator[str]:
        key = str(prop(route.props, "routeKey", ""))
        auth = str(prop(route.props, "authorizationType", "NONE")).upper()
        protocol = _protocol(route, apis) or ("HTTP" if " " in key else "WEBSOCKET" if key.startswith("$") or
                                              key else None)
        if auth != "NONE":
            return
        if protocol == "WEBSOCKET":
            if key in WEBSOCKET_AUTHORIZED_ROUTES:
                yield (f"WebSocket route {route.name!r} ($connect) has authorizationType NONE: anyone can open a "
                       f"connection. Fix: authorize $connect with a REQUEST (Lambda) authorizer or AWS_IAM; the "
                       f"other routes inherit the connection's authorization.")
            return
        if key.upper().startswith("OPTIONS "):
            return
        yield (f"HTTP API route {route.name!r} ({key}) has authorizationType NONE. Fix: use a JWT, CUSTOM (Lambda) "
               f"or AWS_IAM authorizer.")

    yield from each_resource(of_type(args, V2_ROUTE), check)


def check_stage_access_logging(args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type == REST_DEPLOYMENT:
        stage = prop(args.props, "stageName")
        if stage:
            yield (f"Deployment {args.name!r} creates stage {stage!r} itself, which can carry neither access logs nor "
                   f"settings. Fix: drop stage_name and create an aws.apigateway.Stage with access_log_settings.")
        return
    settings = known(prop(args.props, "accessLogSettings", keep_unknown=True)) or {}
    if not settings.get("destinationArn") or not settings.get("format"):
        yield (f"Stage {args.name!r} has no access logs (accessLogSettings.destinationArn and .format). Fix: send "
               f"access logs to a CloudWatch log group with retention, in JSON with requestId, ip, caller, status.")


def _positive(value: object) -> bool:
    return isinstance(value, int | float) and value > 0


def check_stage_throttling(args: StackValidationArgs) -> Iterator[tuple[PolicyResource, str]]:
    settings_resources = of_type(args, METHOD_SETTINGS)

    def rest(stage: PolicyResource) -> Iterator[str]:
        api, name = prop(stage.props, "restApi"), prop(stage.props, "stageName")
        for settings in settings_resources:
            if prop(settings.props, "restApi") != api or prop(settings.props, "stageName") != name:
                continue
            if prop(settings.props, "methodPath") != "*/*":
                continue
            values = prop(settings.props, "settings") or {}
            if _positive(values.get("throttlingBurstLimit")) and _positive(values.get("throttlingRateLimit")):
                return
        yield (f"REST stage {stage.name!r} has no stage-wide throttling: no MethodSettings for stage {name!r} with "
               f"methodPath '*/*' and positive settings.throttlingBurstLimit/throttlingRateLimit. Fix: add "
               f"aws.apigateway.MethodSettings(rest_api=..., stage_name=..., method_path='*/*', settings={{"
               f"'throttling_burst_limit': ..., 'throttling_rate_limit': ...}}).")

    def v2(stage: PolicyResource) -> Iterator[str]:
        values = prop(stage.props, "defaultRouteSettings") or {}
        if not (_positive(values.get("throttlingBurstLimit")) and _positive(values.get("throttlingRateLimit"))):
            yield (f"Stage {stage.name!r} has no default throttling (defaultRouteSettings.throttlingBurstLimit and "
                   f".throttlingRateLimit). Fix: set both to the API's expected peak.")

    yield from each_resource(of_type(args, REST_STAGE), rest)
    yield from each_resource(of_type(args, V2_STAGE), v2)


POLICIES = [
    resource_rule(
        "apigateway-method-authorized",
        "REST API methods (except CORS OPTIONS) use an authorizer or IAM.",
        check_method_authorized, types={REST_METHOD}, severity=Severity.HIGH, cdk_nag="AwsSolutions-APIG4",
        remediation="Set authorization to CUSTOM, COGNITO_USER_POOLS or AWS_IAM."),
    stack_rule(
        "apigateway-route-authorized",
        "HTTP API routes and WebSocket $connect routes are authorized.",
        check_routes_authorized, severity=Severity.HIGH, cdk_nag="AwsSolutions-APIG4",
        remediation="Set authorization_type (and authorizer_id) on the route."),
    resource_rule(
        "apigateway-stage-access-logging",
        "API Gateway stages (REST and v2) write access logs.",
        check_stage_access_logging, types={REST_STAGE, V2_STAGE, REST_DEPLOYMENT}, severity=Severity.MEDIUM,
        cdk_nag="AwsSolutions-APIG1",
        remediation="Set access_log_settings with a log group destination and a format."),
    stack_rule(
        "apigateway-stage-throttling",
        "API Gateway stages are throttled (REST: MethodSettings '*/*'; v2: defaultRouteSettings).",
        check_stage_throttling, severity=Severity.MEDIUM,
        remediation="Add stage-wide throttling limits."),
]
