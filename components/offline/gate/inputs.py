"""Resource inputs against the pulumi-aws SDK's own input types, and against botocore's API limits.

Types: `pulumi_aws.<module>.<Resource>Args` and the nested `...Args` of `_inputs.py` give every property's
wire name (`@pulumi.getter(name=...)`), its type, and (no default in `__init__`) whether it is required.
A dict literal with a misspelled key reaches the provider unchecked; here it is a finding. An input the SDK marks
deprecated is listed apart (`GateReport.deprecated`): AWS accepts it and the SDK only warns, so it never fails the
plan.

Limits: `API_MEMBERS` maps the properties the components set to the API member they reach; the value
must fit that member's shape in botocore's model (enums, minimums, maximums, lengths).
"""

import inspect
import json
import sys
import typing
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from typing import Any

import pulumi
from pulumi import _types as pulumi_types

from serverless_patterns.offline.engine import CapturedStack
from serverless_patterns.offline.gate import shapes, sources
from serverless_patterns.offline.gate.report import Finding, GateReport, Unchecked
from serverless_patterns.offline.gate.values import is_unknown, secret_value
from serverless_patterns.offline.mocks import CapturedResource

#: resource type -> {property path (wire names, `.` between levels): (botocore service, operation, member path)}
API_MEMBERS: dict[str, dict[str, tuple[str, str, str]]] = {
    "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": {
        "maximumEventAgeInSeconds": ("lambda", "PutFunctionEventInvokeConfig", "MaximumEventAgeInSeconds"),
        "maximumRetryAttempts": ("lambda", "PutFunctionEventInvokeConfig", "MaximumRetryAttempts"),
    },
    "aws:lambda/function:Function": {
        "memorySize": ("lambda", "CreateFunction", "MemorySize"),
        "timeout": ("lambda", "CreateFunction", "Timeout"),
        "runtime": ("lambda", "CreateFunction", "Runtime"),
        "architectures": ("lambda", "CreateFunction", "Architectures"),
        "packageType": ("lambda", "CreateFunction", "PackageType"),
        "handler": ("lambda", "CreateFunction", "Handler"),
        "description": ("lambda", "CreateFunction", "Description"),
        "ephemeralStorage.size": ("lambda", "CreateFunction", "EphemeralStorage.Size"),
        "tracingConfig.mode": ("lambda", "CreateFunction", "TracingConfig.Mode"),
        "loggingConfig.logFormat": ("lambda", "CreateFunction", "LoggingConfig.LogFormat"),
        "loggingConfig.applicationLogLevel": ("lambda", "CreateFunction", "LoggingConfig.ApplicationLogLevel"),
        "loggingConfig.systemLogLevel": ("lambda", "CreateFunction", "LoggingConfig.SystemLogLevel"),
        "reservedConcurrentExecutions": ("lambda", "PutFunctionConcurrency", "ReservedConcurrentExecutions"),
    },
    "aws:cloudwatch/logGroup:LogGroup": {
        "retentionInDays": ("logs", "PutRetentionPolicy", "retentionInDays"),
        "name": ("logs", "CreateLogGroup", "logGroupName"),
        "logGroupClass": ("logs", "CreateLogGroup", "logGroupClass"),
    },
    "aws:cloudwatch/eventTarget:EventTarget": {
        "retryPolicy.maximumEventAgeInSeconds": (
            "events", "PutTargets", "Targets.RetryPolicy.MaximumEventAgeInSeconds"),
        "retryPolicy.maximumRetryAttempts": ("events", "PutTargets", "Targets.RetryPolicy.MaximumRetryAttempts"),
    },
    "aws:sfn/stateMachine:StateMachine": {
        "type": ("stepfunctions", "CreateStateMachine", "type"),
        "loggingConfiguration.level": ("stepfunctions", "CreateStateMachine", "loggingConfiguration.level"),
    },
    "aws:dynamodb/table:Table": {
        "billingMode": ("dynamodb", "CreateTable", "BillingMode"),
        "streamViewType": ("dynamodb", "CreateTable", "StreamSpecification.StreamViewType"),
        "tableClass": ("dynamodb", "CreateTable", "TableClass"),
    },
    "aws:cloudwatch/metricAlarm:MetricAlarm": {
        "comparisonOperator": ("cloudwatch", "PutMetricAlarm", "ComparisonOperator"),
        "statistic": ("cloudwatch", "PutMetricAlarm", "Statistic"),
        "evaluationPeriods": ("cloudwatch", "PutMetricAlarm", "EvaluationPeriods"),
        "datapointsToAlarm": ("cloudwatch", "PutMetricAlarm", "DatapointsToAlarm"),
        "period": ("cloudwatch", "PutMetricAlarm", "Period"),
        "treatMissingData": ("cloudwatch", "PutMetricAlarm", "TreatMissingData"),
        "alarmName": ("cloudwatch", "PutMetricAlarm", "AlarmName"),
    },
    "aws:cognito/userPool:UserPool": {
        "mfaConfiguration": ("cognito-idp", "CreateUserPool", "MfaConfiguration"),
        "deletionProtection": ("cognito-idp", "CreateUserPool", "DeletionProtection"),
        "userPoolTier": ("cognito-idp", "CreateUserPool", "UserPoolTier"),
        "userAttributeUpdateSettings.attributesRequireVerificationBeforeUpdates": (
            "cognito-idp", "CreateUserPool", "UserAttributeUpdateSettings.AttributesRequireVerificationBeforeUpdate"),
        "passwordPolicy.minimumLength": ("cognito-idp", "CreateUserPool", "Policies.PasswordPolicy.MinimumLength"),
        "passwordPolicy.temporaryPasswordValidityDays": (
            "cognito-idp", "CreateUserPool", "Policies.PasswordPolicy.TemporaryPasswordValidityDays"),
        "autoVerifiedAttributes": ("cognito-idp", "CreateUserPool", "AutoVerifiedAttributes"),
        "usernameAttributes": ("cognito-idp", "CreateUserPool", "UsernameAttributes"),
    },
    "aws:cognito/userPoolClient:UserPoolClient": {
        "explicitAuthFlows": ("cognito-idp", "CreateUserPoolClient", "ExplicitAuthFlows"),
        "allowedOauthFlows": ("cognito-idp", "CreateUserPoolClient", "AllowedOAuthFlows"),
        "accessTokenValidity": ("cognito-idp", "CreateUserPoolClient", "AccessTokenValidity"),
        "idTokenValidity": ("cognito-idp", "CreateUserPoolClient", "IdTokenValidity"),
        "refreshTokenValidity": ("cognito-idp", "CreateUserPoolClient", "RefreshTokenValidity"),
        "preventUserExistenceErrors": ("cognito-idp", "CreateUserPoolClient", "PreventUserExistenceErrors"),
        "authSessionValidity": ("cognito-idp", "CreateUserPoolClient", "AuthSessionValidity"),
        "name": ("cognito-idp", "CreateUserPoolClient", "ClientName"),
        "callbackUrls": ("cognito-idp", "CreateUserPoolClient", "CallbackURLs"),
        "logoutUrls": ("cognito-idp", "CreateUserPoolClient", "LogoutURLs"),
        "allowedOauthScopes": ("cognito-idp", "CreateUserPoolClient", "AllowedOAuthScopes"),
    },
    "aws:apigateway/usagePlan:UsagePlan": {
        "quotaSettings.period": ("apigateway", "CreateUsagePlan", "quota.period"),
    },
    "aws:apigateway/restApi:RestApi": {
        "apiKeySource": ("apigateway", "CreateRestApi", "apiKeySource"),
    },
    "aws:ecr/repository:Repository": {
        "imageTagMutability": ("ecr", "CreateRepository", "imageTagMutability"),
    },
    "aws:sqs/queue:Queue": {
        "name": ("sqs", "CreateQueue", "QueueName"),
    },
    "aws:iam/role:Role": {
        "name": ("iam", "CreateRole", "RoleName"),
        "description": ("iam", "CreateRole", "Description"),
        "maxSessionDuration": ("iam", "CreateRole", "MaxSessionDuration"),
    },
    "aws:cognito/userPoolDomain:UserPoolDomain": {
        "domain": ("cognito-idp", "CreateUserPoolDomain", "Domain"),
    },
    "aws:apigateway/response:Response": {
        "responseType": ("apigateway", "PutGatewayResponse", "responseType"),
    },
    "aws:apigateway/integration:Integration": {
        "type": ("apigateway", "PutIntegration", "type"),
    },
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": {
        "rule.objectOwnership": ("s3", "PutBucketOwnershipControls", "OwnershipControls.Rules.ObjectOwnership"),
    },
    "aws:cloudfront/originAccessControl:OriginAccessControl": {
        "originAccessControlOriginType": (
            "cloudfront", "CreateOriginAccessControl", "OriginAccessControlConfig.OriginAccessControlOriginType"),
        "signingBehavior": ("cloudfront", "CreateOriginAccessControl", "OriginAccessControlConfig.SigningBehavior"),
        "signingProtocol": ("cloudfront", "CreateOriginAccessControl", "OriginAccessControlConfig.SigningProtocol"),
    },
    "aws:cloudfront/distribution:Distribution": {
        "priceClass": ("cloudfront", "CreateDistribution", "DistributionConfig.PriceClass"),
        "httpVersion": ("cloudfront", "CreateDistribution", "DistributionConfig.HttpVersion"),
        "defaultCacheBehavior.viewerProtocolPolicy": (
            "cloudfront", "CreateDistribution", "DistributionConfig.DefaultCacheBehavior.ViewerProtocolPolicy"),
        "viewerCertificate.minimumProtocolVersion": (
            "cloudfront", "CreateDistribution", "DistributionConfig.ViewerCertificate.MinimumProtocolVersion"),
        "viewerCertificate.sslSupportMethod": (
            "cloudfront", "CreateDistribution", "DistributionConfig.ViewerCertificate.SSLSupportMethod"),
    },
    "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy": {
        "securityHeadersConfig.frameOptions.frameOption": (
            "cloudfront", "CreateResponseHeadersPolicy",
            "ResponseHeadersPolicyConfig.SecurityHeadersConfig.FrameOptions.FrameOption"),
        "securityHeadersConfig.referrerPolicy.referrerPolicy": (
            "cloudfront", "CreateResponseHeadersPolicy",
            "ResponseHeadersPolicyConfig.SecurityHeadersConfig.ReferrerPolicy.ReferrerPolicy"),
    },
}
TYPES_SOURCE = "pulumi-aws {version} input types ({cls})"
#: Lambda quotas, "Function environment variables": 4 KB for all of a function's variables in aggregate (keys,
#: values and encoding count; measured here as the compact JSON of the map). No model carries it.
LAMBDA_ENVIRONMENT_BYTES = 4096
LAMBDA_QUOTAS = ("Lambda developer guide, Lambda quotas, function environment variables (4 KB in aggregate), "
                 "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html")


@cache
def args_class(resource_type: str) -> type | None:
    """The SDK's `...Args` class of a resource type token, from the SDK's own module registry."""
    try:
        pkg, mod, name = resource_type.split(":")
    except ValueError:
        return None
    if pkg != "aws":
        return None
    from pulumi.runtime import rpc

    for module in getattr(rpc, "_RESOURCE_MODULES", {}).get(f"{pkg}:{mod}", []):
        info = getattr(module, "mod_info", None)
        if info and resource_type in info.get("classes", {}):
            import importlib

            name = info["classes"][resource_type]
            resource_cls = getattr(importlib.import_module(info["fqn"]), name, None)
            # The resource's own module; where a nested input type has the name, the SDK says `...InitArgs`.
            defining = sys.modules.get(getattr(resource_cls, "__module__", ""))
            for candidate in (f"{name}InitArgs", f"{name}Args"):
                found = getattr(defining, candidate, None)
                if isinstance(found, type) and found.__module__ == getattr(defining, "__name__", None):
                    return found
            return None
    return None


@cache
def input_spec(cls: type) -> tuple[dict[str, Any], frozenset[str]]:
    """(wire name -> type, required wire names) of an `...Args` input type."""
    names = pulumi_types.input_type_py_to_pulumi_names(cls)
    types = pulumi_types.input_type_types(cls)
    params = inspect.signature(cls.__init__).parameters.values()  # type: ignore[misc]
    required = frozenset(names[p.name] for p in params
                         if p.default is inspect.Parameter.empty and p.name in names)
    return types, required


@cache
def deprecated_inputs(cls: type) -> dict[str, str]:
    """Wire name -> the SDK's deprecation message, for each input the SDK marks deprecated.

    `_utilities.deprecated(message)` tags the getter it wraps (`_pulumi_deprecated_callable`) and keeps the
    message it warns with in the wrapper's closure; the getter's docstring (the property's description) stands in
    where that is not found.
    """
    found = {}
    for py_name, wire_name in pulumi_types.input_type_py_to_pulumi_names(cls).items():
        getter = getattr(getattr(cls, py_name, None), "fget", None)
        if getter is None or "_pulumi_deprecated_callable" not in getattr(getter, "__dict__", {}):
            continue
        message = inspect.getclosurevars(getter).nonlocals.get("message")
        found[wire_name] = (message if isinstance(message, str) and message
                            else " ".join((getter.__doc__ or "").split()) or "deprecated")
    return found


class _Typed:
    def __init__(self, resource: CapturedResource, report: GateReport, version: str) -> None:
        self.resource, self.report, self.version = resource, report, version

    def finding(self, path: str, value: Any, rule: str, cls: type) -> None:
        self.report.findings.append(Finding(self.resource.type, self.resource.name, path, value, rule,
                                            TYPES_SOURCE.format(version=self.version, cls=cls.__name__)))

    def check_object(self, value: Mapping[str, Any], cls: type, path: str) -> None:
        types, required = input_spec(cls)
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if key not in types:
                known = ", ".join(sorted(types))
                self.finding(where, item, f"{cls.__name__} has no property {key!r} (it has: {known})", cls)
                continue
            self.report.counts["properties"] += 1
            deprecation = deprecated_inputs(cls).get(key)
            if deprecation is not None:
                self.report.deprecated.append(Finding(
                    self.resource.type, self.resource.name, where, item,
                    f"{cls.__name__}.{key} is deprecated (the SDK warns on every run): {deprecation}",
                    TYPES_SOURCE.format(version=self.version, cls=cls.__name__)))
            self.check_value(item, types[key], where, cls)
        for key in sorted(required - set(value)):
            if key == "region":
                continue
            self.finding(f"{path}.{key}" if path else key, None, f"{cls.__name__} requires {key!r}", cls)

    def check_value(self, value: Any, typ: Any, path: str, owner: type) -> None:
        value = secret_value(value)
        if is_unknown(value):
            self.report.unchecked.append(Unchecked(self.resource.type, self.resource.name, path,
                                                   "only known at deploy time"))
            return
        problem = self.problem(value, typ, path, owner)
        if problem:
            self.finding(path, value, problem, owner)

    def problem(self, value: Any, typ: Any, path: str, owner: type) -> str | None:
        """Why `value` is not a `typ` (recursing into objects and lists, which report their own findings)."""
        origin = typing.get_origin(typ)
        if origin is typing.Union:
            options = [t for t in typing.get_args(typ) if t is not type(None) and typing.get_origin(t) not in
                       (pulumi.Output, typing.Awaitable) and t is not pulumi.Output and
                       not (isinstance(t, type) and issubclass(t, pulumi.Output))]
            options = [t for t in options if str(typing.get_origin(t)) != "<class 'collections.abc.Awaitable'>"]
            if not options:
                return None
            if len(options) == 1:
                return self.problem(value, options[0], path, owner)
            if any(self._quick_ok(value, t) for t in options):
                return None
            return f"must be one of {', '.join(_type_name(t) for t in options)}, got {type(value).__name__}"
        if origin in (list, Sequence, typing.Sequence) or origin is getattr(typing, "List", None):
            if not isinstance(value, list):
                return f"must be a list, got {type(value).__name__}"
            (item_type,) = typing.get_args(typ)[:1] or (Any,)
            for index, item in enumerate(value):
                self.check_value(item, item_type, f"{path}[{index}]", owner)
            return None
        if origin in (dict, Mapping, typing.Mapping) or (origin is not None and str(origin).endswith("Mapping'>")):
            if not isinstance(value, dict):
                return f"must be an object, got {type(value).__name__}"
            args = typing.get_args(typ)
            item_type = args[1] if len(args) == 2 else Any
            for key, item in value.items():
                self.check_value(item, item_type, f"{path}.{key}", owner)
            return None
        if isinstance(typ, type) and pulumi_types.is_input_type(typ):
            if not isinstance(value, dict):
                return f"must be an object ({typ.__name__}), got {type(value).__name__}"
            self.check_object(value, typ, path)
            return None
        return None if self._quick_ok(value, typ) else f"must be {_type_name(typ)}, got {type(value).__name__}"

    @staticmethod
    def _quick_ok(value: Any, typ: Any) -> bool:
        """A shallow type test, for choosing between the options of a union."""
        origin = typing.get_origin(typ)
        if origin is typing.Union:
            return any(_Typed._quick_ok(value, t) for t in typing.get_args(typ))
        target = origin if origin is not None else typ
        if target is Any or target is type(None):
            return True
        if target in (list, Sequence, typing.Sequence):
            return isinstance(value, list)
        if target in (dict, Mapping, typing.Mapping):
            return isinstance(value, dict)
        if isinstance(target, type) and pulumi_types.is_input_type(target):
            return isinstance(value, dict)
        if target is bool:
            return isinstance(value, bool)
        if target is int:
            return not isinstance(value, bool) and (isinstance(value, int) or
                                                     (isinstance(value, float) and value.is_integer()))
        if target is float:
            return not isinstance(value, bool) and isinstance(value, int | float)
        if target is str:
            return isinstance(value, str)
        if isinstance(target, type):
            if issubclass(target, str):  # a str-valued enum: any string the provider then checks
                return isinstance(value, str)
            try:
                return isinstance(value, target)
            except TypeError:
                return True
        if str(target).startswith("<class 'collections.abc."):
            return isinstance(value, list | dict)
        return True


def _type_name(typ: Any) -> str:
    return getattr(typ, "__name__", str(typ))


def _values_at(value: Any, parts: list[str], path: str) -> Iterator[tuple[str, Any]]:
    """(path, value) of every value at a dotted property path, through lists."""
    value = secret_value(value)
    if isinstance(value, list) and parts:
        for index, item in enumerate(value):
            yield from _values_at(item, parts, f"{path}[{index}]")
        return
    if not parts:
        yield path, value
        return
    if isinstance(value, dict) and parts[0] in value:
        yield from _values_at(value[parts[0]], parts[1:], f"{path}.{parts[0]}" if path else parts[0])


def member_shape(service: str, operation: str, member_path: str) -> tuple[dict[str, Any], str] | None:
    """(model, shape name) of a member path (`A.B.C`, lists descended on their own) of an operation's input."""
    found = sources.input_shape(service, operation)
    if found is None:
        return None
    model, shape_name = found
    for part in member_path.split("."):
        shape = model["shapes"][shape_name]
        while shape.get("type") == "list":
            shape_name = shape["member"]["shape"]
            shape = model["shapes"][shape_name]
        members = shape.get("members", {})
        if part not in members:
            return None
        shape_name = members[part]["shape"]
    return model, shape_name


def check_limits(resource: CapturedResource, report: GateReport) -> None:
    for prop, (service, operation, member) in API_MEMBERS.get(resource.type, {}).items():
        found = member_shape(service, operation, member)
        if found is None:
            report.findings.append(Finding(resource.type, resource.name, prop, member,
                                           f"the gate maps {prop!r} to {service} {operation} {member}, which "
                                           f"botocore's model does not have: fix API_MEMBERS",
                                           f"botocore {sources.versions()['botocore']}"))
            continue
        model, shape = found
        for path, value in _values_at(resource.inputs, prop.split("."), ""):
            if is_unknown(value):
                report.unchecked.append(Unchecked(resource.type, resource.name, path, "only known at deploy time"))
                continue
            report.counts["limits"] += 1
            source = f"botocore {sources.versions()['botocore']} model of {service} {operation}: {member} ({shape})"
            for where, bad, rule in shapes.check(model, shape, value, path):
                report.findings.append(Finding(resource.type, resource.name, where, bad, rule, source))


def check(stack: CapturedStack, report: GateReport) -> None:
    version = sources.versions()["pulumi_aws"]
    for resource in stack.resources:
        if not resource.custom or not resource.type.startswith("aws:"):
            continue
        cls = args_class(resource.type)
        if cls is None:
            report.unchecked.append(Unchecked(resource.type, resource.name, "(inputs)",
                                              "the pulumi-aws SDK has no input type for this resource type"))
            continue
        report.counts["resources"] += 1
        typed = _Typed(resource, report, version)
        typed.check_object(resource.inputs, cls, "")
        check_limits(resource, report)
        if resource.type == "aws:lambda/function:Function":
            check_environment_size(resource, report)


def check_environment_size(resource: CapturedResource, report: GateReport) -> None:
    """A function's environment variables within Lambda's 4 KB (the known part: a value only known at deploy
    time can only add to it)."""
    variables = secret_value((secret_value(resource.inputs.get("environment")) or {}).get("variables")) or {}
    if not isinstance(variables, dict):
        return
    known = {str(k): secret_value(v) for k, v in variables.items() if not is_unknown(secret_value(v))}
    size = len(json.dumps(known, separators=(",", ":"), ensure_ascii=False).encode())
    report.counts["limits"] += 1
    if size > LAMBDA_ENVIRONMENT_BYTES:
        biggest = max(known, key=lambda k: len(str(known[k])))
        report.findings.append(Finding(
            resource.type, resource.name, "environment.variables", f"{size} bytes (largest: {biggest})",
            f"Lambda allows {LAMBDA_ENVIRONMENT_BYTES} bytes of environment variables in aggregate; CreateFunction "
            "and UpdateFunctionConfiguration refuse more", LAMBDA_QUOTAS))
