"""Lambda functions with their own role and log group: `PythonFunction` (zip) and `ImageFunction`.

Every function the components create goes through here, so each one gets: the newest
Python runtime pulumi-aws offers, arm64 by default, an explicit log group with retention
(JSON logs), X-Ray active tracing, the Powertools layer, and a role of its own whose
inline policy is exactly the statements the caller passes plus logging and tracing.
"""

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Required, TypedDict

import pulumi
import pulumi_aws as aws

from serverless_patterns.core import iam
from serverless_patterns.core.args import Validator
from serverless_patterns.core.base import PatternComponent
from serverless_patterns.core.packaging import (
    code_archive,
    layer_version_allowed,
    package_files,
    powertools_layer_arn,
)


def newest_python_runtime() -> str:
    """The newest `pythonX.Y` Lambda runtime in the installed pulumi-aws."""
    versions = []
    for runtime in aws.lambda_.Runtime:
        name = runtime.value
        if name.startswith("python3."):
            versions.append((int(name.split(".")[1]), name))
    return max(versions)[1]


DEFAULT_RUNTIME = newest_python_runtime()
ARCHITECTURES = ("arm64", "x86_64")
#: The retention values CloudWatch Logs accepts.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
                      2922, 3288, 3653)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class FunctionSettings(TypedDict, total=False):
    """Settings shared by all functions of a component (stack config `lambda`)."""

    architecture: str
    """`arm64` (default) or `x86_64`."""
    runtime: str
    """A `pythonX.Y` Lambda runtime; defaults to the newest one pulumi-aws offers."""
    log_retention_days: int
    """Days CloudWatch keeps the logs; one of the values CloudWatch accepts (default 30)."""
    log_level: str
    """Powertools log level: DEBUG, INFO (default), WARNING or ERROR."""
    powertools_layer_version: int
    """Version of the public Powertools v3 layer. Leave it unset: the layer that carries the Powertools
    release the tests run against is then read from Powertools' public SSM parameter for that release. A
    version is accepted only if it is known to carry that release."""


def validate_settings(component: str, settings: FunctionSettings | None, field: str = "function_settings"
                      ) -> FunctionSettings:
    """Fill defaults and check every setting; errors name `<field>.<setting>`."""
    v = Validator(component)
    s = dict(settings or {})
    v.mapping(field, s, known=FunctionSettings.__annotations__)
    resolved: FunctionSettings = {
        "architecture": v.choice(f"{field}.architecture", s.get("architecture", "arm64"), ARCHITECTURES),
        "runtime": v.choice(f"{field}.runtime", s.get("runtime", DEFAULT_RUNTIME),
                            sorted({r.value for r in aws.lambda_.Runtime if r.value.startswith("python3.1")})),
        "log_retention_days": v.choice(f"{field}.log_retention_days", s.get("log_retention_days", 30),
                                       LOG_RETENTION_DAYS),
        "log_level": v.choice(f"{field}.log_level", s.get("log_level", "INFO"), LOG_LEVELS),
    }
    if s.get("powertools_layer_version") is not None:
        # Tested on one Powertools, run on another, otherwise (issue 17 item 23).
        version = v.integer(f"{field}.powertools_layer_version", s["powertools_layer_version"], minimum=1)
        reason = layer_version_allowed(version)
        if reason is not None:
            v.fail(f"{field}.powertools_layer_version", version, reason)
        resolved["powertools_layer_version"] = version
    return resolved


class PolicyStatementArgs(TypedDict, total=False):
    """One Allow statement of a function's role (what `iam.allow` builds in Python)."""

    actions: Required[Sequence[str]]
    """Exact `service:Action` names; no wildcards."""
    resources: Required[Sequence[pulumi.Input[str]]]
    """ARNs the actions apply to; `*` only for actions AWS cannot scope to a resource."""
    sid: str
    """Statement id."""
    conditions: Mapping[str, Mapping[str, Any]]
    """IAM condition block: operator -> condition key -> value(s)."""


class PythonFunctionArgs(TypedDict, total=False):
    """Arguments of `PythonFunction` (Python programs may pass them as keywords instead)."""

    code: Required[str]
    """Folder of the function's code (with an optional requirements.txt): a path, absolute or relative to
    the working directory, or a folder under the library's `lambdas`."""
    service: Required[str]
    """Service name in logs, traces and metrics (POWERTOOLS_SERVICE_NAME)."""
    handler: str
    """Handler as `module.function` (default `app.handler`)."""
    statements: Sequence[PolicyStatementArgs]
    """What the function may do, besides writing its own logs and traces."""
    environment: Mapping[str, pulumi.Input[str]]
    """Extra environment variables."""
    settings: FunctionSettings
    """Architecture, runtime, log retention, log level and Powertools layer version."""
    memory_mb: int
    """Memory in MB, 128..10240 (default 256)."""
    timeout_seconds: int
    """Timeout in seconds, 1..900 (default 15)."""
    description: str
    """Function description."""
    reserved_concurrency: int
    """Reserved concurrent executions (default: none reserved)."""
    tags: Mapping[str, str]
    """Extra tags for the function, its role and its log group."""


class LambdaFunction(PatternComponent):
    """What every function shares: its log group, its own role and the common function settings.

    Subclasses build the code-specific arguments (zip archive or container image) and call
    `self._create_function(**specific)`.
    """

    def _prepare(self, name: str, *, statements: Sequence[iam.Statement], settings: FunctionSettings | None,
                 memory_mb: int, timeout_seconds: int) -> FunctionSettings:
        """Validate the shared settings, then create the log group, the role and its inline policy."""
        v = self.validator
        v.integer("memory_mb", memory_mb, minimum=128, maximum=10240)
        v.integer("timeout_seconds", timeout_seconds, minimum=1, maximum=900)
        s = validate_settings(type(self).__name__, settings, "settings")
        self.settings = s
        self.log_group = aws.cloudwatch.LogGroup(
            self.child_name("logs"),
            name_prefix=f"/aws/lambda/{name}-",
            retention_in_days=s["log_retention_days"],
            tags=self.tags,
            opts=self.child_opts())
        self.role = aws.iam.Role(
            self.child_name("role"),
            assume_role_policy=iam.service_trust("lambda.amazonaws.com"),
            description=f"Execution role of {name}",
            tags=self.tags,
            opts=self.child_opts())
        base = [
            iam.allow(["logs:CreateLogStream", "logs:PutLogEvents"],
                      [pulumi.Output.concat(self.log_group.arn, ":*")], sid="WriteOwnLogs"),
            iam.allow(["xray:PutTraceSegments", "xray:PutTelemetryRecords"], ["*"], sid="XRayTracing"),
        ]
        self.role_policy = aws.iam.RolePolicy(
            self.child_name("policy"),
            role=self.role.id,
            policy=iam.document(*base, *statements),
            opts=self.child_opts())
        return s

    def _create_function(self, name: str, *, service: str, architecture: str, memory_mb: int, timeout_seconds: int,
                         environment: Mapping[str, pulumi.Input[str]] | None, description: str,
                         reserved_concurrency: int | None = None, **specific: Any) -> None:
        s = self.settings
        env = {
            "POWERTOOLS_SERVICE_NAME": service,
            "POWERTOOLS_METRICS_NAMESPACE": "ServerlessPatterns",
            "POWERTOOLS_LOG_LEVEL": s["log_level"],
            # No pydantic plugins are used: skip pydantic's scan of every installed package's entry points on
            # the first model (https://docs.pydantic.dev/latest/concepts/plugins/#how-to-use-plugins).
            "PYDANTIC_DISABLE_PLUGINS": "__all__",
            **(environment or {}),
        }
        self.function = aws.lambda_.Function(
            self.child_name("fn"),
            description=description or f"{service} ({name})",
            architectures=[architecture],
            role=self.role.arn,
            memory_size=memory_mb,
            timeout=timeout_seconds,
            tracing_config={"mode": "Active"},
            logging_config={"log_format": "JSON", "log_group": self.log_group.name,
                            "application_log_level": s["log_level"], "system_log_level": "INFO"},
            environment={"variables": env},
            reserved_concurrent_executions=reserved_concurrency,
            tags=self.tags,
            opts=self.child_opts(depends_on=[self.role_policy, self.log_group]),
            **specific)
        self.arn = self.function.arn
        self.function_name = self.function.name
        self.invoke_arn = self.function.invoke_arn

    def _function_outputs(self) -> dict[str, Any]:
        return {"arn": self.arn, "name": self.function_name, "invokeArn": self.invoke_arn}

    def allow_invoke(self, suffix: str, principal: str, source_arn: pulumi.Input[str],
                     source_account: pulumi.Input[str] | None = None) -> aws.lambda_.Permission:
        """Let one AWS service invoke this function, only from `source_arn` (confused-deputy safe)."""
        return aws.lambda_.Permission(
            self.child_name(suffix),
            action="lambda:InvokeFunction",
            function=self.function.name,
            principal=principal,
            source_arn=source_arn,
            source_account=source_account if source_account is not None else self.env.account_id,
            opts=self.child_opts())


#: `args` of a `PythonFunction` built from keywords (Python callers); never mutated.
_KEYWORD_CALL: PythonFunctionArgs = {"code": "", "service": ""}


class PythonFunction(LambdaFunction):
    """A Python Lambda function packaged from a folder, with the Powertools layer.

    Python programs pass keywords (`code=..., service=..., statements=[iam.allow(...)]`); other languages
    pass `args` (`PythonFunctionArgs`). Keywords given win over the same field in `args`."""

    # Declared here, not on LambdaFunction: the schema reads descriptions from this class's own source.
    arn: pulumi.Output[str]
    """ARN of the function."""
    name: pulumi.Output[str]
    """Name of the function."""
    invoke_arn: pulumi.Output[str]
    """ARN API Gateway uses to invoke the function."""

    def __init__(self, name: str, args: PythonFunctionArgs = _KEYWORD_CALL,
                 opts: pulumi.ResourceOptions | None = None, *, code: str | Path | None = None,
                 service: str | None = None, handler: str | None = None, statements: Sequence[iam.Statement] = (),
                 environment: Mapping[str, pulumi.Input[str]] | None = None, settings: FunctionSettings | None = None,
                 memory_mb: int | None = None, timeout_seconds: int | None = None, description: str | None = None,
                 reserved_concurrency: int | None = None, tags: Mapping[str, str] | None = None) -> None:
        code = code if code is not None else args.get("code")
        service = service if service is not None else args.get("service")
        tags = tags if tags is not None else args.get("tags")
        super().__init__(name, tags, opts)
        self.validator.mapping("args", args, known=PythonFunctionArgs.__annotations__)
        if not code:
            self.validator.fail("code", code, "the folder of the function's code")
        if not service:
            self.validator.fail("service", service, "a service name")
        handler = handler if handler is not None else args.get("handler", "app.handler")
        statements = [*statements, *(iam.allow(s["actions"], s["resources"], sid=s.get("sid"),
                                               conditions=s.get("conditions"))
                                     for s in args.get("statements", ()))]
        environment = environment if environment is not None else args.get("environment")
        settings = settings if settings is not None else args.get("settings")
        memory_mb = memory_mb if memory_mb is not None else args.get("memory_mb", 256)
        timeout_seconds = timeout_seconds if timeout_seconds is not None else args.get("timeout_seconds", 15)
        description = description if description is not None else args.get("description", "")
        if reserved_concurrency is None:
            reserved_concurrency = args.get("reserved_concurrency")
        s = self._prepare(name, statements=statements, settings=settings, memory_mb=memory_mb,
                          timeout_seconds=timeout_seconds)
        files = package_files(code, runtime=s["runtime"], architecture=s["architecture"])
        self._create_function(
            name, service=service, architecture=s["architecture"], memory_mb=memory_mb,
            timeout_seconds=timeout_seconds, environment=environment, description=description,
            reserved_concurrency=reserved_concurrency,
            runtime=s["runtime"], handler=handler, code=code_archive(files),
            layers=[self.env.once(
                ("powertools-layer", s["runtime"], s["architecture"], s.get("powertools_layer_version")),
                lambda: powertools_layer_arn(self.env.partition, self.env.region, s["runtime"], s["architecture"],
                                             s.get("powertools_layer_version"),
                                             opts=pulumi.InvokeOutputOptions(parent=self)))])
        self.finish(self._function_outputs())


class ImageFunction(LambdaFunction):
    """A Lambda function from a container image (which carries its runtime and Powertools)."""

    arn: pulumi.Output[str]
    """ARN of the function."""
    name: pulumi.Output[str]
    """Name of the function."""
    invoke_arn: pulumi.Output[str]
    """ARN API Gateway uses to invoke the function."""
    image_uri: pulumi.Output[str | None]
    """The image the function runs (digest-pinned when given so)."""

    def __init__(self, name: str, *, image_uri: pulumi.Input[str], service: str, architecture: str,
                 statements: Sequence[iam.Statement] = (), environment: Mapping[str, pulumi.Input[str]] | None = None,
                 settings: FunctionSettings | None = None, memory_mb: int = 512, timeout_seconds: int = 30,
                 description: str = "", tags: Mapping[str, str] | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, tags, opts)
        self.validator.choice("architecture", architecture, ARCHITECTURES)
        self._prepare(name, statements=statements, settings=settings, memory_mb=memory_mb,
                      timeout_seconds=timeout_seconds)
        self._create_function(
            name, service=service, architecture=architecture, memory_mb=memory_mb, timeout_seconds=timeout_seconds,
            environment=environment, description=description, package_type="Image", image_uri=image_uri)
        self.image_uri = self.function.image_uri
        self.finish({**self._function_outputs(), "imageUri": self.image_uri})
