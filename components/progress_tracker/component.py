"""The ProgressTracker component: a WebSocket API streaming Step Functions progress (see the package docstring)."""


import json
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

from serverless_patterns.core import iam
from serverless_patterns.core.base import PatternComponent
from serverless_patterns.core.function import FunctionSettings, PythonFunction, validate_settings
from serverless_patterns.core.limits import (
    EVENTS_TARGET_MAX_EVENT_AGE,
    EVENTS_TARGET_RETRY_ATTEMPTS,
    LAMBDA_ASYNC_MAX_EVENT_AGE,
)
from serverless_patterns.progress_tracker.args import (
    ACCESS_LOG_FORMAT,
    CLIENT_PATH,
    CODE,
    FAILED_POSTS_FILTER,
    FAILED_POSTS_METRIC,
    FAILED_POSTS_NAMESPACE,
    HTTPS_PATTERN,
    REPORT_METRICS_NAMESPACE,
    REPORT_SERVICE,
    ROUTES,
    SFN_LOG_DELIVERY_ACTIONS,
    STAGE_PATTERN,
    WORKFLOW_ARN_PATTERN,
    XRAY_ACTIONS,
    ProgressTrackerArgs,
)
from serverless_patterns.progress_tracker.reporting import (
    DETAIL_TYPE,
    EVENT_SOURCE,
    MODES,
    ProgressPoint,
    ReportingTarget,
    demo_order_workflow,
    with_progress_steps,
)


class ProgressTracker(PatternComponent):
    """A WebSocket API that streams Step Functions progress to browsers, with three reporting modes."""

    websocket_url: pulumi.Output[str]
    """`wss://` URL browsers connect to."""
    api_id: pulumi.Output[str]
    """Id of the WebSocket API."""
    stage_name: str
    """Name of the WebSocket stage."""
    callback_url: pulumi.Output[str]
    """`https://` URL of the stage's connection management API (post to connections)."""
    table_name: pulumi.Output[str]
    """DynamoDB table of connections and the latest progress of each execution."""
    report_progress_arn: pulumi.Output[str]
    """ARN of the ReportProgress function workflows invoke in `lambda` mode."""
    event_bus_name: pulumi.Output[str]
    """Event bus workflows put progress events on in `eventbridge` mode."""
    dead_letter_queue_url: pulumi.Output[str]
    """Queue of progress events EventBridge could not deliver."""
    workflow_arn: pulumi.Output[str]
    """The state machine the `start` action runs (the demo order workflow, or the one given)."""
    demo_reporting_mode: str | None
    """How the demo workflow reports (none when a workflow of your own is given)."""
    token_required: bool
    """Whether `$connect` requires a JWT."""
    browser_client: str
    """Where the bundled browser client is, and how to point it at the API."""

    def __init__(self, name: str, args: ProgressTrackerArgs = {},  # noqa: B006 (read, never mutated)
                 opts: pulumi.ResourceOptions | None = None) -> None:
        args = dict(args or {})  # type: ignore[assignment]
        super().__init__(name, args.get("tags"), opts)
        #: The caller's tags, for child components (which add the library's own tags themselves).
        self.user_tags = dict(args.get("tags") or {})
        v = self.validator
        v.mapping("args", args, known=ProgressTrackerArgs.__annotations__)
        self.stage_name: str = v.string("stage_name", args.get("stage_name", "live"), pattern=STAGE_PATTERN,
                                        allowed="1-128 letters, digits, '-' or '_'")
        self.demo_mode: str = v.choice("demo_reporting_mode", args.get("demo_reporting_mode", "direct"), MODES)
        wait = v.integer("demo_wait_seconds", args.get("demo_wait_seconds", 3), minimum=0, maximum=3600)
        workflow_arn = args.get("workflow_arn")
        if workflow_arn is not None:
            v.string("workflow_arn", workflow_arn, pattern=WORKFLOW_ARN_PATTERN,
                     allowed="a Step Functions state machine ARN")
        require_token = v.boolean("require_token", args.get("require_token", False))
        token_issuer = args.get("token_issuer")
        token_audience = args.get("token_audience")
        jwks_url = args.get("token_jwks_url")
        if require_token:
            v.string("token_issuer", v.required(args, "token_issuer"), pattern=HTTPS_PATTERN,
                     allowed="the issuer's https URL (the tokens' 'iss')")
            v.string("token_audience", v.required(args, "token_audience"), max_len=256)
            jwks_url = jwks_url or f"{str(token_issuer).rstrip('/')}/.well-known/jwks.json"
            v.string("token_jwks_url", jwks_url, pattern=HTTPS_PATTERN, allowed="an https URL")
        else:
            for field in ("token_issuer", "token_audience", "token_jwks_url"):
                if args.get(field) is not None:
                    v.fail(field, args[field], "only with require_token: true")
        connection_ttl = v.integer("connection_ttl_hours", args.get("connection_ttl_hours", 3), minimum=3,
                                   maximum=168)
        progress_ttl = v.integer("progress_ttl_hours", args.get("progress_ttl_hours", 48), minimum=1,
                                 maximum=8760)
        self.progress_ttl: int = progress_ttl
        rate = v.number("throttling_rate_limit", args.get("throttling_rate_limit", 50.0), exclusive_minimum=0,
                        maximum=10000)
        burst = v.integer("throttling_burst_limit", args.get("throttling_burst_limit", 100), minimum=1,
                          maximum=5000)
        retries = v.integer_for("event_retry_attempts", args.get("event_retry_attempts", 8),
                                EVENTS_TARGET_RETRY_ATTEMPTS)
        # One age bounds both EventBridge's retries and Lambda's async retries of ReportProgress.
        max_age = v.integer_for("event_max_age_seconds", args.get("event_max_age_seconds", 3600),
                                EVENTS_TARGET_MAX_EVENT_AGE, LAMBDA_ASYNC_MAX_EVENT_AGE)
        alarm_actions = v.list_of("alarm_actions", args.get("alarm_actions") or [], max_items=5, unique=True)
        for arn in alarm_actions:
            v.string("alarm_actions", arn, pattern=r"arn:[\w-]+:[\w-]+:[\w-]*:\d{12}:\S+",
                     allowed="ARNs of alarm actions (e.g. SNS topics)")
        settings = validate_settings(type(self).__name__, args.get("function_settings"))
        self.settings = settings
        env = self.env

        # --- state ---------------------------------------------------------------------------
        self.table = aws.dynamodb.Table(
            self.child_name("state"),
            billing_mode="PAY_PER_REQUEST",
            hash_key="pk",
            range_key="sk",
            attributes=[{"name": "pk", "type": "S"}, {"name": "sk", "type": "S"}],
            ttl={"attribute_name": "expiresAt", "enabled": True},
            point_in_time_recovery={"enabled": True},
            server_side_encryption={"enabled": True},
            tags=self.tags,
            opts=self.child_opts())
        table_arn = self.table.arn

        # --- API and stage ------------------------------------------------------------------
        self.api = aws.apigatewayv2.Api(
            self.child_name("ws"),
            protocol_type="WEBSOCKET",
            route_selection_expression="$request.body.action",
            description=f"Workflow progress over WebSockets ({name})",
            tags=self.tags,
            opts=self.child_opts())
        self.api_endpoint = pulumi.Output.concat(self.api.id, ".execute-api.", env.region, ".", env.dns_suffix)
        self.callback_url = pulumi.Output.concat("https://", self.api_endpoint, "/", self.stage_name)
        self.connections_arn = pulumi.Output.concat(self.api.execution_arn, "/", self.stage_name,
                                                    "/POST/@connections/*")

        # --- reporting: ReportProgress, its event bus and dead letters ---------------------------
        self.event_bus = aws.cloudwatch.EventBus(
            self.child_name("events"), tags=self.tags, opts=self.child_opts())
        # Progress events that could not be delivered: EventBridge's retries and Lambda's async
        # retries of ReportProgress both end here.
        self.dead_letters = aws.sqs.Queue(
            self.child_name("report-dlq"),
            message_retention_seconds=14 * 24 * 3600,
            sqs_managed_sse_enabled=True,
            tags=self.tags,
            opts=self.child_opts())
        self.report_function = PythonFunction(
            self.child_name("report"), code=CODE, handler="report_progress.handler", service=REPORT_SERVICE,
            description="ReportProgress: stores progress and pushes it to the execution's followers",
            statements=[
                iam.allow(["dynamodb:UpdateItem", "dynamodb:Query", "dynamodb:DeleteItem"], [table_arn],
                          sid="ProgressTable"),
                iam.allow(["execute-api:ManageConnections"], [self.connections_arn], sid="PostToConnections"),
                iam.allow(["sqs:SendMessage"], [self.dead_letters.arn], sid="FailedEventsToDeadLetters"),
            ],
            environment={"TABLE_NAME": self.table.name, "CALLBACK_URL": self.callback_url,
                         "CONNECTION_TTL_HOURS": str(connection_ttl), "PROGRESS_TTL_HOURS": str(progress_ttl)},
            settings=settings, timeout_seconds=30, tags=self.user_tags, opts=self.child_opts())

        # --- the workflow `start` runs --------------------------------------------------------------
        self.state_machine: aws.sfn.StateMachine | None = None
        self.demo_logs: aws.cloudwatch.LogGroup | None = None
        if workflow_arn is None:
            self.state_machine = self._demo_workflow(self.demo_mode, wait, settings["log_retention_days"])
            self.workflow_arn: pulumi.Output[str] = self.state_machine.arn
        else:
            self.workflow_arn = pulumi.Output.from_input(workflow_arn)

        # --- route handlers ------------------------------------------------------------------
        common_env: dict[str, pulumi.Input[str]] = {
            "TABLE_NAME": self.table.name, "CONNECTION_TTL_HOURS": str(connection_ttl),
            "PROGRESS_TTL_HOURS": str(progress_ttl)}
        item_rw = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
        statements: dict[str, list[iam.Statement]] = {
            "$connect": [iam.allow(["dynamodb:PutItem"], [table_arn], sid="RegisterConnection")],
            "$disconnect": [iam.allow(["dynamodb:DeleteItem"], [table_arn], sid="ForgetConnection")],
            "$default": [],
            "start": [iam.allow(item_rw, [table_arn], sid="ProgressTable"),
                      iam.allow(["states:StartExecution"], [self.workflow_arn], sid="StartWorkflow")],
            "resume": [iam.allow(item_rw, [table_arn], sid="ProgressTable")],
        }
        self.functions: dict[str, PythonFunction] = {}
        self.routes: dict[str, aws.apigatewayv2.Route] = {}
        authorizer = self._authorizer(jwks_url, token_issuer, token_audience, settings) if require_token else None
        for route_key, (suffix, handler, two_way) in ROUTES.items():
            environment: dict[str, pulumi.Input[str]] = dict(common_env)
            if route_key == "start":
                environment["STATE_MACHINE_ARN"] = self.workflow_arn
            function = PythonFunction(
                self.child_name(suffix), code=CODE, handler=handler, service=f"progress-{suffix}",
                description=f"WebSocket route {route_key} of {name}", statements=statements[route_key],
                environment=environment if route_key != "$default" else None, settings=settings,
                tags=self.user_tags, opts=self.child_opts())
            self.functions[route_key] = function
            function.allow_invoke("apigw", "apigateway.amazonaws.com",
                                  pulumi.Output.concat(self.api.execution_arn, "/", self.stage_name, "/", route_key),
                                  env.account_id)
            integration = aws.apigatewayv2.Integration(
                self.child_name(f"{suffix}-integration"),
                api_id=self.api.id,
                integration_type="AWS_PROXY",
                integration_method="POST",
                integration_uri=function.invoke_arn,
                opts=self.child_opts())
            route_args: dict[str, Any] = {}
            if route_key == "$connect" and authorizer is not None:
                route_args = {"authorization_type": "CUSTOM", "authorizer_id": authorizer.id}
            if two_way:
                route_args["route_response_selection_expression"] = "$default"
            route = aws.apigatewayv2.Route(
                self.child_name(f"{suffix}-route"),
                api_id=self.api.id,
                route_key=route_key,
                target=integration.id.apply(lambda i: f"integrations/{i}"),
                opts=self.child_opts(),
                **route_args)
            self.routes[route_key] = route
            if two_way:
                aws.apigatewayv2.RouteResponse(
                    self.child_name(f"{suffix}-response"),
                    api_id=self.api.id,
                    route_id=route.id,
                    route_response_key="$default",
                    opts=self.child_opts())

        self.access_logs = aws.cloudwatch.LogGroup(
            self.child_name("access-logs"),
            name_prefix=f"/aws/apigateway/{name}-",
            retention_in_days=settings["log_retention_days"],
            tags=self.tags,
            opts=self.child_opts())
        self.stage = aws.apigatewayv2.Stage(
            self.child_name("stage"),
            api_id=self.api.id,
            name=self.stage_name,
            auto_deploy=True,
            access_log_settings={"destination_arn": self.access_logs.arn, "format": ACCESS_LOG_FORMAT},
            default_route_settings={"throttling_rate_limit": rate, "throttling_burst_limit": burst,
                                    "logging_level": "ERROR", "data_trace_enabled": False},
            tags=self.tags,
            opts=self.child_opts(depends_on=list(self.routes.values())))

        # --- decoupled reporting: EventBridge -> ReportProgress, with retries and a DLQ --------------
        self.rule = aws.cloudwatch.EventRule(
            self.child_name("report-rule"),
            event_bus_name=self.event_bus.name,
            description="Progress events from workflows to ReportProgress",
            event_pattern=json.dumps(event_pattern()),
            tags=self.tags,
            opts=self.child_opts())
        aws.sqs.QueuePolicy(
            self.child_name("report-dlq-policy"),
            queue_url=self.dead_letters.url,
            policy=iam.document(iam.allow(
                ["sqs:SendMessage"], [self.dead_letters.arn], sid="EventBridgeDeadLetters",
                principals={"Service": "events.amazonaws.com"},
                conditions={"ArnEquals": {"aws:SourceArn": self.rule.arn},
                            "StringEquals": {"aws:SourceAccount": env.account_id}})),
            opts=self.child_opts())
        self.report_function.allow_invoke("events", "events.amazonaws.com", self.rule.arn, env.account_id)
        # An event ReportProgress could not fan out (it raises) is retried by Lambda, then dead-lettered.
        aws.lambda_.FunctionEventInvokeConfig(
            self.child_name("report-async"),
            function_name=self.report_function.function_name,
            maximum_retry_attempts=2,
            maximum_event_age_in_seconds=max_age,
            destination_config={"on_failure": {"destination": self.dead_letters.arn}},
            opts=self.child_opts())
        aws.cloudwatch.EventTarget(
            self.child_name("report-target"),
            rule=self.rule.name,
            event_bus_name=self.event_bus.name,
            arn=self.report_function.arn,
            retry_policy={"maximum_retry_attempts": retries, "maximum_event_age_in_seconds": max_age},
            dead_letter_config={"arn": self.dead_letters.arn},
            opts=self.child_opts())

        self._failure_alarms(alarm_actions)

        self.websocket_url = pulumi.Output.concat("wss://", self.api_endpoint, "/", self.stage_name)
        self.finish({
            "websocketUrl": self.websocket_url,
            "apiId": self.api.id,
            "stageName": self.stage_name,
            "callbackUrl": self.callback_url,
            "tableName": self.table.name,
            "reportProgressArn": self.report_function.arn,
            "eventBusName": self.event_bus.name,
            "deadLetterQueueUrl": self.dead_letters.url,
            "workflowArn": self.workflow_arn,
            "demoReportingMode": self.demo_mode if workflow_arn is None else None,
            "tokenRequired": require_token,
            "browserClient": f"{CLIENT_PATH}?url=<websocketUrl>",
        })

    # -- reuse: what other workflows need --------------------------------------------------------
    def reporting_target(self, mode: str) -> pulumi.Output[ReportingTarget]:
        """The resources a workflow reporting in `mode` uses, for `reporting.with_progress`."""
        self.validator.choice("mode", mode, MODES)
        return pulumi.Output.all(self.table.name, self.api_endpoint, self.report_function.arn,
                                 self.event_bus.name).apply(
            lambda v: {"direct": lambda: ReportingTarget.direct(v[0], v[1], self.stage_name, self.progress_ttl),
                       "lambda": lambda: ReportingTarget.lambda_function(v[2]),
                       "eventbridge": lambda: ReportingTarget.eventbridge(v[3])}[mode]())

    def reporting_statements(self, mode: str) -> list[iam.Statement]:
        """Exactly what a state machine role needs to report in `mode`."""
        self.validator.choice("mode", mode, MODES)
        if mode == "direct":
            return [iam.allow(["dynamodb:UpdateItem", "dynamodb:Query", "dynamodb:DeleteItem"], [self.table.arn],
                              sid="ProgressTable"),
                    iam.allow(["execute-api:ManageConnections"], [self.connections_arn], sid="PostToConnections")]
        if mode == "lambda":
            return [iam.allow(["lambda:InvokeFunction"], [self.report_function.arn], sid="ReportProgress")]
        return [iam.allow(["events:PutEvents"], [self.event_bus.arn], sid="ProgressEvents")]

    def definition_with_progress(self, definition: Mapping[str, Any] | str, mode: str,
                                 points: Sequence[ProgressPoint]) -> pulumi.Output[str]:
        """`definition` with reports at `points`, as the JSON string `aws.sfn.StateMachine` takes."""
        return self.reporting_target(mode).apply(
            lambda target: json.dumps(with_progress_steps(
                dict(definition) if not isinstance(definition, str) else definition, target, points)))

    # -- parts ------------------------------------------------------------------------------------
    def _authorizer(self, jwks_url: Any, issuer: Any, audience: Any, settings: FunctionSettings
                    ) -> aws.apigatewayv2.Authorizer:
        function = PythonFunction(
            self.child_name("authorizer"), code="progress_tracker/authorizer", service="progress-authorizer",
            description="Verifies the connection token (JWT) on $connect",
            environment={"JWKS_URL": jwks_url, "TOKEN_ISSUER": issuer, "TOKEN_AUDIENCE": audience},
            settings=settings, tags=self.user_tags, opts=self.child_opts())
        self.authorizer_function = function
        authorizer = aws.apigatewayv2.Authorizer(
            self.child_name("authorizer"),
            api_id=self.api.id,
            authorizer_type="REQUEST",
            authorizer_uri=function.invoke_arn,
            identity_sources=["route.request.querystring.token"],
            name=self.child_name("token"),
            opts=self.child_opts())
        function.allow_invoke("apigw", "apigateway.amazonaws.com",
                              pulumi.Output.concat(self.api.execution_arn, "/authorizers/", authorizer.id),
                              self.env.account_id)
        return authorizer

    def _failure_alarms(self, actions: Sequence[pulumi.Input[str]]) -> None:
        """Alarms for progress that did not reach its followers: a workflow still succeeds when every post
        fails (each report catches its errors), so these are the only signal."""
        common: dict[str, Any] = {
            "comparison_operator": "GreaterThanOrEqualToThreshold", "threshold": 1, "evaluation_periods": 1,
            "period": 300, "treat_missing_data": "notBreaching", "alarm_actions": list(actions),
            "ok_actions": list(actions), "tags": self.tags}
        self.alarms: dict[str, aws.cloudwatch.MetricAlarm] = {}
        # lambda and eventbridge modes: ReportProgress counts the followers it could not reach.
        self.alarms["delivery-failed"] = aws.cloudwatch.MetricAlarm(
            self.child_name("delivery-failed-alarm"),
            alarm_description=f"{self.component_name}: ReportProgress could not post progress to followers",
            namespace=REPORT_METRICS_NAMESPACE, metric_name="DeliveryFailed",
            dimensions={"service": REPORT_SERVICE}, statistic="Sum", **common, opts=self.child_opts())
        self.alarms["dead-letters"] = aws.cloudwatch.MetricAlarm(
            self.child_name("report-dlq-alarm"),
            alarm_description=f"{self.component_name}: progress events EventBridge or Lambda gave up on",
            namespace="AWS/SQS", metric_name="ApproximateNumberOfMessagesVisible",
            dimensions={"QueueName": self.dead_letters.name}, statistic="Maximum", **common,
            opts=self.child_opts())
        if self.demo_logs is None:
            return
        # direct mode: no Lambda on the path, so count failed apigateway:invoke attempts in the execution log.
        aws.cloudwatch.LogMetricFilter(
            self.child_name("failed-posts-filter"),
            log_group_name=self.demo_logs.name,
            pattern=FAILED_POSTS_FILTER,
            metric_transformation=aws.cloudwatch.LogMetricFilterMetricTransformationArgs(
                name=FAILED_POSTS_METRIC, namespace=FAILED_POSTS_NAMESPACE, value="1", unit="Count"),
            opts=self.child_opts())
        self.alarms["failed-posts"] = aws.cloudwatch.MetricAlarm(
            self.child_name("failed-posts-alarm"),
            alarm_description=f"{self.component_name}: the demo workflow could not post progress to @connections",
            namespace=FAILED_POSTS_NAMESPACE, metric_name=FAILED_POSTS_METRIC, statistic="Sum", **common,
            opts=self.child_opts())

    def _demo_workflow(self, mode: str, wait_seconds: int, retention_days: int) -> aws.sfn.StateMachine:
        env = self.env
        logs = self.demo_logs = aws.cloudwatch.LogGroup(
            self.child_name("demo-logs"),
            name_prefix=f"/aws/vendedlogs/states/{self.component_name}-demo-",
            retention_in_days=retention_days,
            tags=self.tags,
            opts=self.child_opts())
        role = aws.iam.Role(
            self.child_name("demo-role"),
            assume_role_policy=iam.service_trust("states.amazonaws.com", source_account=env.account_id),
            description=f"Demo order workflow of {self.component_name} ({mode} progress reporting)",
            tags=self.tags,
            opts=self.child_opts())
        policy = aws.iam.RolePolicy(
            self.child_name("demo-policy"),
            role=role.id,
            policy=iam.document(
                *self.reporting_statements(mode),
                iam.allow(SFN_LOG_DELIVERY_ACTIONS, ["*"], sid="LogDelivery"),
                iam.allow(XRAY_ACTIONS, ["*"], sid="XRayTracing")),
            opts=self.child_opts())
        definition = self.reporting_target(mode).apply(
            lambda target: json.dumps(demo_order_workflow(target, wait_seconds)))
        return aws.sfn.StateMachine(
            self.child_name("demo"),
            role_arn=role.arn,
            type="STANDARD",
            definition=definition,
            logging_configuration={"log_destination": pulumi.Output.concat(logs.arn, ":*"),
                                   "include_execution_data": True, "level": "ALL"},
            tracing_configuration={"enabled": True},
            tags=self.tags,
            opts=self.child_opts(depends_on=[policy]))


def event_pattern(source: str = EVENT_SOURCE, detail_type: str = DETAIL_TYPE) -> dict[str, Any]:
    """The rule pattern for progress events (the `eventbridge` reporting mode puts these)."""
    return {"source": [source], "detail-type": [detail_type]}


