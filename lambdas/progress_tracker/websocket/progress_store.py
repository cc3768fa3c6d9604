"""DynamoDB access for the progress tracker: one table, three item kinds.

- `CONN#<connectionId>` / `CONN`: a live connection, its session and principal, and the
  executions it follows (`follows`, a string set); expires after `CONNECTION_TTL_HOURS`.
- `EXEC#<executionId>` / `STATE`: the owner of an execution and its latest progress, so a
  reconnecting client can resume; expires after `PROGRESS_TTL_HOURS`.
- `EXEC#<executionId>` / `FOLLOWER#<connectionId>`: one connection that receives the
  execution's progress (queried for the fan-out, by ReportProgress and by the workflow itself).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

import boto3
from boto3.dynamodb.conditions import Key
from botocore.config import Config

RETRIES = Config(retries={"mode": "standard", "max_attempts": 5})
CONN_SK = "CONN"
STATE_SK = "STATE"
FOLLOWER_PREFIX = "FOLLOWER#"
#: Progress attributes (`percent` and `status` are DynamoDB reserved words, hence names for all).
PROGRESS_NAMES = {"#p": "percent", "#m": "message", "#s": "step", "#st": "status", "#u": "updatedAt",
                  "#x": "expiresAt"}
PROGRESS_UPDATE = "SET #p = :p, #m = :m, #s = :s, #st = :st, #u = :u, #x = :x"


def conn_key(connection_id: str) -> dict[str, str]:
    return {"pk": f"CONN#{connection_id}", "sk": CONN_SK}


def state_key(execution_id: str) -> dict[str, str]:
    return {"pk": f"EXEC#{execution_id}", "sk": STATE_SK}


def follower_key(execution_id: str, connection_id: str) -> dict[str, str]:
    return {"pk": f"EXEC#{execution_id}", "sk": f"{FOLLOWER_PREFIX}{connection_id}"}


@dataclass(frozen=True)
class Connection:
    connection_id: str
    session_id: str
    principal: str
    follows: frozenset[str]


class Store:
    """The table, with TTLs from the environment (hours)."""

    def __init__(self, table_name: str | None = None, resource: Any = None) -> None:
        dynamodb = resource or boto3.resource("dynamodb", config=RETRIES)
        self.table = dynamodb.Table(table_name or os.environ["TABLE_NAME"])
        self.connection_ttl = int(float(os.environ.get("CONNECTION_TTL_HOURS", "3")) * 3600)
        self.progress_ttl = int(float(os.environ.get("PROGRESS_TTL_HOURS", "48")) * 3600)

    @staticmethod
    def now() -> int:
        return int(time.time())

    @staticmethod
    def timestamp() -> str:
        """ISO 8601 UTC, the same shape as Step Functions' `$$.State.EnteredTime`."""
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

    # connections -------------------------------------------------------------------------
    def put_connection(self, connection_id: str, session_id: str, principal: str) -> None:
        now = self.now()
        self.table.put_item(Item={**conn_key(connection_id), "connectionId": connection_id,
                                  "sessionId": session_id, "principal": principal, "connectedAt": now,
                                  "expiresAt": now + self.connection_ttl})

    def get_connection(self, connection_id: str) -> Connection | None:
        item = self.table.get_item(Key=conn_key(connection_id), ConsistentRead=True).get("Item")
        if item is None:
            return None
        return Connection(connection_id, item["sessionId"], item.get("principal", "anonymous"),
                          frozenset(item.get("follows", set())))

    def remove_connection(self, connection_id: str) -> list[str]:
        """Delete the connection and its follower items; returns the executions it followed."""
        old = self.table.delete_item(Key=conn_key(connection_id), ReturnValues="ALL_OLD").get("Attributes") or {}
        follows = sorted(old.get("follows", set()))
        for execution_id in follows:
            self.table.delete_item(Key=follower_key(execution_id, connection_id))
        return follows

    def forget_follower(self, execution_id: str, connection_id: str) -> None:
        """A gone connection: drop it from this execution and drop the connection item."""
        self.table.delete_item(Key=follower_key(execution_id, connection_id))
        self.table.delete_item(Key=conn_key(connection_id))

    def follow(self, execution_id: str, connection_id: str) -> None:
        now = self.now()
        self.table.put_item(Item={**follower_key(execution_id, connection_id), "connectionId": connection_id,
                                  "executionId": execution_id, "expiresAt": now + self.connection_ttl})
        self.table.update_item(Key=conn_key(connection_id), UpdateExpression="ADD follows :e",
                               ConditionExpression="attribute_exists(pk)",
                               ExpressionAttributeValues={":e": {execution_id}})

    def followers(self, execution_id: str) -> list[str]:
        ids: list[str] = []
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key("pk").eq(f"EXEC#{execution_id}") & Key("sk").begins_with(FOLLOWER_PREFIX),
            "ProjectionExpression": "connectionId"}
        while True:
            page = self.table.query(**kwargs)
            ids.extend(item["connectionId"] for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return ids
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # executions --------------------------------------------------------------------------
    def claim_execution(self, execution_id: str, session_id: str, principal: str) -> bool:
        """Record the owner of a new execution; False when it already exists (a retried start)."""
        now = self.now()
        try:
            self.table.put_item(
                Item={**state_key(execution_id), "executionId": execution_id, "owner": session_id,
                      "principal": principal, "percent": 0, "message": "queued", "step": "",
                      "status": "PENDING", "updatedAt": self.timestamp(), "startedAt": now,
                      "expiresAt": now + self.progress_ttl},
                ConditionExpression="attribute_not_exists(pk)")
        except self.table.meta.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def get_state(self, execution_id: str) -> dict[str, Any] | None:
        return self.table.get_item(Key=state_key(execution_id), ConsistentRead=True).get("Item")

    def save_progress(self, execution_id: str, percent: int, message: str, step: str, status: str) -> bool:
        """Store the latest progress of a known execution; a lower percentage never overwrites a higher one.

        False when the execution is unknown (not started through the tracker) or the update is stale.
        """
        now = self.now()
        try:
            self.table.update_item(
                Key=state_key(execution_id),
                UpdateExpression=PROGRESS_UPDATE,
                ConditionExpression="attribute_exists(pk) AND (attribute_not_exists(#p) OR #p <= :p)",
                ExpressionAttributeNames=PROGRESS_NAMES,
                ExpressionAttributeValues={":p": percent, ":m": message, ":s": step, ":st": status,
                                           ":u": self.timestamp(), ":x": now + self.progress_ttl})
        except self.table.meta.client.exceptions.ConditionalCheckFailedException:
            return False
        return True


def progress_message(state: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """The `progress` message a client receives for a stored state item."""
    return {"type": "progress", "executionId": state["executionId"], "percent": int(state.get("percent", 0)),
            "message": state.get("message", ""), "step": state.get("step", ""),
            "status": state.get("status", "RUNNING"), "updatedAt": str(state.get("updatedAt", "")), **extra}


_shared: Store | None = None


def shared_store() -> Store:
    """The execution environment's one `Store`: created on first use, reused while the function is warm."""
    global _shared
    if _shared is None:
        _shared = Store()
    return _shared


def reset_shared_store() -> None:
    """Forget the cached `Store` (tests create it again inside a fresh moto account)."""
    global _shared
    _shared = None
