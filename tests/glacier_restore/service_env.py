"""Driving the service Lambda (`service.handler`) as API Gateway's REST proxy integration calls it."""

from __future__ import annotations

import json
from typing import Any

from .workflow_env import LambdaContext


def proxy_event(method: str, path: str, *, query: dict[str, str] | None = None, body: Any = None,
                user_arn: str | None = None, claims: dict[str, str] | None = None,
                request_id: str = "5e1f0c3a-7b61-11e6-9a41-93e8deadbeef") -> dict[str, Any]:
    """The REST API proxy event of one request (as the API Gateway developer guide documents it)."""
    context: dict[str, Any] = {"resourcePath": path, "httpMethod": method, "stage": "v1", "requestId": request_id,
                               "identity": {"userArn": user_arn, "sourceIp": "203.0.113.7"}}
    if claims is not None:
        context["authorizer"] = {"claims": claims}
    raw = body if isinstance(body, str) or body is None else json.dumps(body)
    return {"resource": path, "path": path, "httpMethod": method, "headers": {"content-type": "application/json"},
            "multiValueHeaders": {"content-type": ["application/json"]},
            "queryStringParameters": query or None,
            "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
            "pathParameters": None, "stageVariables": None, "body": raw, "isBase64Encoded": False,
            "requestContext": context}


def call(module: Any, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Status and JSON body of the handler's answer."""
    response = module.handler(event, LambdaContext())
    return response["statusCode"], json.loads(response["body"])
