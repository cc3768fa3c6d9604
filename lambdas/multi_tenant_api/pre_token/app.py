"""Pre-token-generation trigger of the multi-tenant API: the tenant claim in access tokens.

Cognito puts custom attributes only into ID tokens. This trigger (event version V3_0: the V2_0 event,
also sent for client-credentials grants) adds `custom:tenant_id` to access tokens:

- user sign-in (`TokenGeneration_*` other than client credentials): the user's own `custom:tenant_id`
  attribute, which only administrators can set;
- client credentials (`TokenGeneration_ClientCredentials`, no user): the tenant the app client was
  registered for in the machine-clients table (`clientId` -> `tenantId`), read with the client id Cognito
  puts in `callerContext`, never from anything the caller sends (`clientMetadata` is ignored).

Anything else (no attribute, malformed value, unregistered client) gets no tenant claim, and any tenant
claim already present is suppressed, so the authorizer refuses the token. Event and response shapes:
https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-lambda-pre-token-generation.html
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from botocore.config import Config

logger = Logger()

TENANT_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$")
CLIENT_CREDENTIALS = "TokenGeneration_ClientCredentials"
TENANT_CLAIM = "custom:tenant_id"

_client: Any = None


def dynamodb() -> Any:
    """The DynamoDB client (created on first use; short timeouts: Cognito waits at most 5 s for a trigger)."""
    global _client
    if _client is None:
        _client = boto3.client("dynamodb", config=Config(retries={"mode": "standard", "total_max_attempts": 2},
                                                         connect_timeout=0.5, read_timeout=1.0))
    return _client


def machine_tenant(client_id: str, table: str, client: Any = None) -> str | None:
    """The tenant an app client was registered for, or None (unknown client, suspended registration)."""
    item = (client or dynamodb()).get_item(TableName=table, Key={"clientId": {"S": client_id}},
                                           ConsistentRead=True).get("Item")
    if not item or item.get("status", {}).get("S", "active") != "active":
        return None
    return item.get("tenantId", {}).get("S")


def tenant_for(event: Mapping[str, Any], table: str, client: Any = None) -> str | None:
    """The tenant of the identity this token is for, from trusted sources only."""
    if event.get("triggerSource") == CLIENT_CREDENTIALS:
        client_id = (event.get("callerContext") or {}).get("clientId")
        tenant = machine_tenant(client_id, table, client) if isinstance(client_id, str) and client_id else None
    else:
        tenant = ((event.get("request") or {}).get("userAttributes") or {}).get(TENANT_CLAIM)
    return tenant if isinstance(tenant, str) and TENANT_ID_RE.fullmatch(tenant) else None


def customize(event: dict[str, Any], table: str, client: Any = None) -> dict[str, Any]:
    """Add (or suppress) the tenant claim in the access token of a V2_0/V3_0 event; returns the event."""
    tenant = tenant_for(event, table, client)
    access: dict[str, Any] = ({"claimsToAddOrOverride": {TENANT_CLAIM: tenant}} if tenant
                              else {"claimsToSuppress": [TENANT_CLAIM]})
    response = event.setdefault("response", {}) or {}
    event["response"] = response
    details = response.get("claimsAndScopeOverrideDetails") or {}
    details["accessTokenGeneration"] = access
    response["claimsAndScopeOverrideDetails"] = details
    logger.info("tenant claim", extra={"trigger": event.get("triggerSource"), "tenant_id": tenant,
                                        "client_id": (event.get("callerContext") or {}).get("clientId")})
    return event


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return customize(event, os.environ["MACHINE_CLIENTS_TABLE"])
