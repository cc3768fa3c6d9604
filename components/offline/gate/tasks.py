"""Task states against the APIs they call: Parameters against botocore's input shape, and error names.

- `arn:aws:states:::aws-sdk:<service>:<action>`: the action's input shape in botocore's model of the service
  (Step Functions' SDK service names differ from botocore's for a few services: `SDK_SERVICES`).
- Optimized integrations (DynamoDB, EventBridge, SQS, SNS, Step Functions) take the same input shapes;
  `lambda:invoke` and `apigateway:invoke` are checked against their documented parameter sets.
- Error names in Retry/Catch follow the integration's documented naming.
"""

import re
from collections.abc import Mapping
from typing import Any

from serverless_patterns.offline.gate import shapes, sources
from serverless_patterns.offline.gate.asl import Issue

SDK_GUIDE = ("Step Functions guide, AWS SDK service integrations, "
             "https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html")
LAMBDA_GUIDE = "Step Functions guide, Lambda, https://docs.aws.amazon.com/step-functions/latest/dg/connect-lambda.html"
APIGW_GUIDE = ("Step Functions guide, API Gateway, "
               "https://docs.aws.amazon.com/step-functions/latest/dg/connect-api-gateway.html")
ERRORS_GUIDE = ("Step Functions guide, error names, "
                "https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html")

_INTEGRATION = re.compile(r"arn:[\w-]+:states:::(?P<service>[\w-]+):(?P<action>[\w-]+)(?::(?P<sdk_action>[\w-]+))?"
                          r"(?P<pattern>\.sync(?::2)?|\.waitForTaskToken)?")

#: Step Functions SDK service names that botocore names differently.
SDK_SERVICES: dict[str, str] = {
    "sfn": "stepfunctions", "cloudwatchlogs": "logs", "eventbridge": "events", "elasticloadbalancingv2": "elbv2",
    "emrcontainers": "emr-containers", "emrserverless": "emr-serverless", "sagemakerruntime": "sagemaker-runtime",
    "lexmodelsv2": "lexv2-models", "lexruntimev2": "lexv2-runtime", "acmpca": "acm-pca", "iotdataplane": "iot-data",
    "costexplorer": "ce", "cognitoidentityprovider": "cognito-idp", "mediapackagevod": "mediapackage-vod",
}

#: Optimized integrations: (service, action) -> botocore (service, operation).
OPTIMIZED: dict[tuple[str, str], tuple[str, str]] = {
    ("dynamodb", "getItem"): ("dynamodb", "GetItem"), ("dynamodb", "putItem"): ("dynamodb", "PutItem"),
    ("dynamodb", "updateItem"): ("dynamodb", "UpdateItem"), ("dynamodb", "deleteItem"): ("dynamodb", "DeleteItem"),
    ("events", "putEvents"): ("events", "PutEvents"), ("sqs", "sendMessage"): ("sqs", "SendMessage"),
    ("sns", "publish"): ("sns", "Publish"), ("states", "startExecution"): ("stepfunctions", "StartExecution"),
    ("states", "startSyncExecution"): ("stepfunctions", "StartSyncExecution"),
    ("lambda", "invoke"): ("lambda", "Invoke"),
}
#: String members that optimized integrations also accept as JSON (Step Functions serialises them).
JSON_MEMBERS: dict[tuple[str, str], frozenset[str]] = {
    ("events", "putEvents"): frozenset({"Entries.Detail"}), ("sqs", "sendMessage"): frozenset({"MessageBody"}),
    ("sns", "publish"): frozenset({"Message"}), ("states", "startExecution"): frozenset({"Input"}),
    ("states", "startSyncExecution"): frozenset({"Input"}), ("lambda", "invoke"): frozenset({"Payload"}),
}
#: The documented parameters of `lambda:invoke` (the rest of the Invoke API is not passed through).
LAMBDA_INVOKE_PARAMETERS = frozenset({"FunctionName", "Payload", "InvocationType", "Qualifier", "ClientContext"})
#: The documented parameters of `apigateway:invoke`: name -> (required, allowed values or type).
APIGW_PARAMETERS: dict[str, tuple[bool, Any]] = {
    "ApiEndpoint": (True, str), "Method": (True, ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")),
    "Headers": (False, dict), "Stage": (False, str), "Path": (False, str), "QueryParameters": (False, dict),
    "RequestBody": (False, None), "AuthType": (False, ("NO_AUTH", "IAM_ROLE", "RESOURCE_POLICY")),
    "AllowNullValues": (False, bool),
}
#: Step Functions' own error names.
STATES_ERRORS = frozenset({
    "States.ALL", "States.HeartbeatTimeout", "States.Timeout", "States.TaskFailed", "States.Permissions",
    "States.ResultPathMatchFailure", "States.ParameterPathFailure", "States.QueryEvaluationError",
    "States.BranchFailed", "States.NoChoiceMatched", "States.IntrinsicFailure",
    "States.ExceedToleratedFailureThreshold",
    "States.ItemReaderFailed", "States.ResultWriterFailed", "States.Runtime",
})
#: The error-name prefix of each optimized integration (the SDK's service name).
OPTIMIZED_ERROR_PREFIX = {"dynamodb": "DynamoDB", "events": "EventBridge", "sqs": "SQS", "sns": "SNS",
                          "states": "StepFunctions", "lambda": "Lambda"}


def sdk_service(name: str) -> str | None:
    """botocore's name of a Step Functions SDK service, or None."""
    if name in SDK_SERVICES:
        return SDK_SERVICES[name]
    if sources.botocore_has_service(name):
        return name
    return next((s for s in sorted(sources.botocore_services()) if s.replace("-", "") == name), None)


def check_task(path: str, state: Mapping[str, Any]) -> tuple[list[Issue], bool]:
    """Issues of one Task state (or ItemReader/ResultWriter block); True if checked against a service model."""
    resource = state.get("Resource")
    if not isinstance(resource, str):
        return [], False
    params = state.get("Parameters", state.get("Arguments", {}))
    field = "Parameters" if "Parameters" in state else "Arguments"
    where = f"{path}.{field}"
    if isinstance(params, str) and shapes.is_dynamic(params):
        return [], False
    if not isinstance(params, Mapping):
        return [(where, params, f"{field} must be an object", SDK_GUIDE)], False
    match = _INTEGRATION.fullmatch(resource)
    issues: list[Issue] = []
    if match is None:
        if re.match(r"^arn:[\w-]+:lambda:", resource):
            issues += _error_names(path, state, "lambda-arn")
        return issues, False
    service, action, sdk_action = match.group("service"), match.group("action"), match.group("sdk_action")
    checked = False
    if service == "aws-sdk":
        botocore_name = sdk_service(action)
        if botocore_name is None:
            issues.append((f"{path}.Resource", resource, f"botocore has no service {action!r}", SDK_GUIDE))
        else:
            found = sources.input_shape(botocore_name, sdk_action or "")
            if found is None:
                issues.append((f"{path}.Resource", resource, f"{botocore_name} has no API action {sdk_action!r}",
                               f"botocore {sources.versions()['botocore']} model of {botocore_name}"))
            else:
                model, shape = found
                issues += _shape_issues(model, shape, params, where, botocore_name, frozenset())
                checked = True
        issues += _error_names(path, state, "aws-sdk")
    elif service == "apigateway" and action == "invoke":
        issues += _apigateway(params, where)
        issues += _error_names(path, state, "apigateway")
        checked = True
    elif (service, action) in OPTIMIZED:
        botocore_name, operation = OPTIMIZED[(service, action)]
        if service == "lambda":
            for key in params:
                clean = str(key).removesuffix(".$")
                if clean not in LAMBDA_INVOKE_PARAMETERS:
                    issues.append((f"{where}.{clean}", params[key], f"lambda:invoke takes "
                                   f"{', '.join(sorted(LAMBDA_INVOKE_PARAMETERS))}, not {clean!r}", LAMBDA_GUIDE))
            params = {k: v for k, v in params.items() if str(k).removesuffix(".$") in LAMBDA_INVOKE_PARAMETERS}
        found = sources.input_shape(botocore_name, operation)
        if found is not None:
            model, shape = found
            issues += _shape_issues(model, shape, params, where, botocore_name, JSON_MEMBERS.get((service, action),
                                                                                                 frozenset()))
            checked = True
        issues += _error_names(path, state, service)
    return issues, checked


def _shape_issues(model: Mapping[str, Any], shape: str, params: Mapping[str, Any], where: str, service: str,
                  json_members: frozenset[str]) -> list[Issue]:
    source = f"botocore {sources.versions()['botocore']} model of {service}, shape {shape}"
    out = []
    for problem_path, value, rule in shapes.check(model, shape, params, "", json_members=json_members):
        out.append((f"{where}.{problem_path}" if problem_path and problem_path != "(parameters)" else where, value,
                    rule, source))
    return out


def _apigateway(params: Mapping[str, Any], where: str) -> list[Issue]:
    issues: list[Issue] = []
    given = {str(k).removesuffix(".$"): (str(k).endswith(".$"), v) for k, v in params.items()}
    for name, (dynamic, value) in given.items():
        if name not in APIGW_PARAMETERS:
            issues.append((f"{where}.{name}", value, f"apigateway:invoke takes {', '.join(APIGW_PARAMETERS)}, not "
                                                      f"{name!r}", APIGW_GUIDE))
            continue
        allowed = APIGW_PARAMETERS[name][1]
        if dynamic or allowed is None or shapes.is_dynamic(value):
            continue
        if isinstance(allowed, tuple) and value not in allowed:
            issues.append((f"{where}.{name}", value, f"{name} must be one of {', '.join(allowed)}", APIGW_GUIDE))
        elif isinstance(allowed, type) and not isinstance(value, allowed):
            issues.append((f"{where}.{name}", value, f"{name} must be a {allowed.__name__}", APIGW_GUIDE))
    for name, (required, _) in APIGW_PARAMETERS.items():
        if required and name not in given:
            issues.append((where, None, f"apigateway:invoke requires {name!r}", APIGW_GUIDE))
    return issues


def _error_names(path: str, state: Mapping[str, Any], integration: str) -> list[Issue]:
    issues: list[Issue] = []
    for field in ("Retry", "Catch"):
        for index, entry in enumerate(state.get(field) or []):
            if not isinstance(entry, Mapping) or not isinstance(entry.get("ErrorEquals"), list):
                continue
            for name in entry["ErrorEquals"]:
                problem = error_name_problem(str(name), integration)
                if problem:
                    issues.append((f"{path}.{field}[{index}].ErrorEquals", name, problem[0], problem[1]))
    return issues


def error_name_problem(name: str, integration: str) -> tuple[str, str] | None:
    """Why `name` can never match an error of `integration`, with the rule's source; or None."""
    if name.startswith("States."):
        return None if name in STATES_ERRORS else (f"{name!r} is not a Step Functions error name "
                                                   f"({', '.join(sorted(STATES_ERRORS))})", ERRORS_GUIDE)
    if integration in ("lambda-arn", "lambda"):
        # Function errors carry the function's own error type; only the service's are prefixed `Lambda.`.
        if name.startswith("Lambda.") and not (name.endswith("Exception") or name == "Lambda.Unknown"):
            return (f"{name!r}: Lambda service errors are named after the SDK's exception classes "
                    f"(Lambda.<Name>Exception, or Lambda.Unknown)", LAMBDA_GUIDE)
        return None
    if integration == "apigateway":
        if re.fullmatch(r"(ApiGateway|APIGateway)\.\d{3}", name):
            return None
        return (f"{name!r}: apigateway:invoke raises ApiGateway.<HTTP status> (e.g. ApiGateway.403)", APIGW_GUIDE)
    if integration == "aws-sdk":
        if "." in name and not name.endswith("Exception"):
            return (f"{name!r}: aws-sdk integrations name errors <Service>.<Error>Exception (Step Functions always "
                    f"appends 'Exception')", SDK_GUIDE)
        return None
    prefix = OPTIMIZED_ERROR_PREFIX.get(integration)
    if prefix and name.startswith(f"{prefix}.") and not name.endswith("Exception"):
        return (f"{name!r}: the optimized {integration} integration names errors after the SDK's exception "
                f"classes ({prefix}.<Name>Exception; errors without a class of their own are "
                f"{prefix}.Amazon{prefix}Exception)", ERRORS_GUIDE)
    return None
