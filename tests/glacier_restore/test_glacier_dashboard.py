"""The operators' dashboard names this stack's own API, workflows, functions, queue, logs and cost metric."""

from __future__ import annotations

import json

from serverless_patterns.offline import CapturedStack


def _widgets(stack: CapturedStack) -> dict[str, dict]:
    body = json.loads(stack.one("aws:cloudwatch/dashboard:Dashboard").inputs["dashboardBody"])
    return {w["properties"]["title"].split(" (")[0]: w for w in body["widgets"]}


def test_requests_and_restores_per_day_by_tier_come_from_the_workflow_logs(stack: CapturedStack) -> None:
    widgets = _widgets(stack)
    groups = {s: stack.one("aws:cloudwatch/logGroup:LogGroup", f"gr-{s}-logs").outputs["name"]
              for s in ("request", "events")}
    for title, suffix in (("Restore requests per day by tier", "request"),
                          ("Restores completed per day by tier", "events")):
        query = widgets[title]["properties"]["query"]
        assert query.startswith(f"SOURCE '{groups[suffix]}'") and "by bin(1d), tier" in query


def test_failures_dead_letters_and_cost_name_this_stacks_resources(stack: CapturedStack) -> None:
    widgets = _widgets(stack)
    machines = {m.outputs["arn"] for m in stack.of_type("aws:sfn/stateMachine:StateMachine")}
    failed = widgets["Failed workflow executions"]["properties"]["metrics"]
    assert {m[3] for m in failed} == machines and {m[1] for m in failed} == {"ExecutionsFailed"}
    queue = stack.one("aws:sqs/queue:Queue").outputs["name"]
    dlq = widgets["Dead-letter queue depth"]["properties"]["metrics"]
    assert dlq == [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue]]
    errors = widgets["API errors and Lambda errors"]["properties"]["metrics"]
    functions = {f.outputs["name"] for f in stack.of_type("aws:lambda/function:Function")}
    assert {m[3] for m in errors if m[0] == "AWS/Lambda"} == functions
    cost = stack.one("aws:lambda/function:Function", "gr-cost").inputs["environment"]["variables"]
    metric = widgets["Estimated restore cost per month"]["properties"]
    assert metric["metrics"] == [[cost["POWERTOOLS_METRICS_NAMESPACE"], "EstimatedRestoreCost", "service",
                                  cost["POWERTOOLS_SERVICE_NAME"]]]
    assert metric["period"] == 30 * 86400 and metric["stat"] == "Sum"
