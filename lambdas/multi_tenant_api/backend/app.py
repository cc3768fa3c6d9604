"""Tenant-scoped example backend of the multi-tenant API (REST API Lambda proxy integration).

The tenant comes only from the authorizer context (`requestContext.authorizer.tenantId`), never from the
path, query or body, and is the partition key of every read and write, so one tenant cannot reach
another tenant's items. Malformed requests are 400s with a reason.
"""

import os
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

import boto3
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import ForbiddenError, NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.logging import correlation_paths
from boto3.dynamodb.conditions import Key
from botocore.config import Config
from pydantic import BaseModel, ConfigDict, Field

logger = Logger()
tracer = Tracer()
app = APIGatewayRestResolver(enable_validation=True)

_table: Any = None


def table() -> Any:
    """The items table (created on first use, so tests can set the environment first)."""
    global _table
    if _table is None:
        resource = boto3.resource("dynamodb", config=Config(retries={"mode": "standard"}))
        _table = resource.Table(os.environ["ITEMS_TABLE"])
    return _table


class NewItem(BaseModel):
    """The body of `POST /items`."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    quantity: int = Field(default=0, ge=0, le=1_000_000)


def tenant() -> tuple[str, str]:
    """Tenant id and tier as the authorizer put them in the request context."""
    context = app.current_event.request_context.authorizer.get_context()
    tenant_id, tier = context.get("tenantId"), context.get("tier")
    if not isinstance(tenant_id, str) or not tenant_id:
        # Only reachable if the method were wired without the authorizer: refuse, never guess.
        raise ForbiddenError("no tenant in the request context")
    logger.append_keys(tenant_id=tenant_id)
    return tenant_id, tier or ""


def public(item: dict[str, Any]) -> dict[str, Any]:
    """An item as clients see it (DynamoDB numbers as ints, no partition key)."""
    return {"itemId": item["itemId"], "name": item["name"], "description": item.get("description", ""),
            "quantity": int(item.get("quantity", 0)), "createdAt": item["createdAt"]}


@app.exception_handler(RequestValidationError)
def bad_request(error: RequestValidationError) -> Response:
    """Malformed JSON or a body that does not match the model: 400 with the reasons (not Powertools' 422)."""
    reasons = [{"location": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")}
               for e in error.errors()]
    return Response(status_code=400, content_type=content_types.APPLICATION_JSON,
                    body={"message": "Bad request", "errors": reasons})


@app.get("/")
@tracer.capture_method
def whoami() -> dict[str, str]:
    tenant_id, tier = tenant()
    return {"tenantId": tenant_id, "tier": tier}


@app.get("/items")
@tracer.capture_method
def list_items(limit: Annotated[int, Query(ge=1, le=100)] = 50) -> dict[str, Any]:
    tenant_id, _ = tenant()
    response = table().query(KeyConditionExpression=Key("tenantId").eq(tenant_id), Limit=limit)
    return {"items": [public(i) for i in response.get("Items", [])]}


@app.post("/items")
@tracer.capture_method
def create_item(item: Annotated[NewItem, Body()]) -> Response[dict[str, Any]]:
    tenant_id, _ = tenant()
    record = {"tenantId": tenant_id, "itemId": str(uuid.uuid4()), "name": item.name,
              "description": item.description, "quantity": item.quantity,
              "createdAt": datetime.now(UTC).isoformat(timespec="seconds")}
    table().put_item(Item=record, ConditionExpression="attribute_not_exists(itemId)")
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=public(record))


@app.get("/items/<item_id>")
@tracer.capture_method
def get_item(item_id: str) -> dict[str, Any]:
    tenant_id, _ = tenant()
    found = table().get_item(Key={"tenantId": tenant_id, "itemId": item_id}).get("Item")
    if found is None:
        raise NotFoundError("no such item")
    return public(found)


@app.delete("/items/<item_id>")
@tracer.capture_method
def delete_item(item_id: str) -> Response[None]:
    tenant_id, _ = tenant()
    old = table().delete_item(Key={"tenantId": tenant_id, "itemId": item_id}, ReturnValues="ALL_OLD")
    if "Attributes" not in old:
        raise NotFoundError("no such item")
    return Response(status_code=204)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
