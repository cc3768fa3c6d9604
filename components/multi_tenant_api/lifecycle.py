"""The run-time tenant lifecycle workflow (Amazon States Language), one STANDARD state machine for all operations.

The admin function starts an execution per operation (`$.operation`: onboard, rollback, change_tier,
suspend, resume, rotate, delete). Every step is an AWS service integration (API Gateway and Cognito
through `aws-sdk`, the key table through the optimized DynamoDB integration) except the two that touch an
API key's value: creating a key (the answer of CreateApiKey carries the value, which would land in the
execution history), joining a usage plan (CreateUsagePlanKey answers with the value too) and purging a
tenant's items. Those run in the tenant-steps function, which writes
the value to the key table itself and returns only the key id.

Every step is idempotent (a repeat finds its work done: ConflictException/NotFoundException are caught,
the key is found by its exact name and tags) and records itself in the tenant's row (`steps.<name>` = when),
and every row write is conditioned on `managedBy = runtime`, so the workflow can never change a tenant
that Pulumi manages. A failed step records its error name (`lastError`, never the cause) and fails the
execution; the admin API then resumes (runs `onboard` again) or rolls back.

One operation per tenant at a time: the admin function sets the row's `operation` lock (condition
`attribute_not_exists`) before starting an execution; the operation's last row write, and RecordFailure,
remove it (a rotation releases it when the new key is promoted, before the overlap's Wait).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from serverless_patterns.multi_tenant_api.args import MANAGED_BY_RUNTIME, TENANT_ATTRIBUTE

OPERATIONS = ("onboard", "rollback", "change_tier", "suspend", "resume", "rotate", "delete")
#: Row statuses: the authorizer allows only `active` (rows without a status are Pulumi's, always active).
STATUSES = ("onboarding", "active", "suspended", "rolling-back", "deleting", "deleted")
#: Tag keys of run-time API keys (the lifecycle deletes only keys with both, and the exact name).
KEY_TAG_MANAGED_BY = "managed_by"
KEY_TAG_TENANT = "tenant"
#: The component's name (the lifecycle role may change and delete only keys tagged runtime and with it).
KEY_TAG_COMPONENT = "component"

#: The row's operation lock (set by the admin function with attribute_not_exists, one operation per tenant at a
#: time), released by the last row write of every operation and by RecordFailure.
LOCK_ATTRIBUTES = ("operation", "operationExecution", "operationStartedAt")
UNLOCK = "#lock, operationExecution, operationStartedAt"
LOCK_NAMES = {"#lock": "operation"}

LAMBDA_RETRY = {"ErrorEquals": ["Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
                                "Lambda.TooManyRequestsException"],
                "IntervalSeconds": 2, "MaxAttempts": 4, "BackoffRate": 2.0, "JitterStrategy": "FULL"}
SDK_RETRY = {"ErrorEquals": ["ApiGateway.TooManyRequestsException", "CognitoIdentityProvider.TooManyRequestsException",
                             "DynamoDB.ProvisionedThroughputExceededException", "DynamoDB.ThrottlingException",
                             "DynamoDB.RequestLimitExceededException", "DynamoDB.InternalServerErrorException"],
             "IntervalSeconds": 2, "MaxAttempts": 5, "BackoffRate": 2.0, "JitterStrategy": "FULL"}
FAILED = {"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "RecordFailure"}


@dataclass(frozen=True)
class LifecycleSettings:
    """What the definition names: the key table, the user pool, the steps function, the keys' name prefix."""

    keys_table: str
    user_pool_id: str
    steps_function_arn: str
    key_name_prefix: str
    #: Access tokens on: onboarding may create a machine client; rollback and deletion remove it.
    machine_clients: bool = False


def _key(tenant_path: str = "$.tenantId") -> dict[str, Any]:
    return {"tenantId": {"S.$": tenant_path}}


class _Builder:
    def __init__(self, s: LifecycleSettings) -> None:
        self.s = s
        self.states: dict[str, Any] = {}

    def add(self, name: str, state: Mapping[str, Any]) -> None:
        assert name not in self.states, name
        self.states[name] = dict(state)

    def update(self, name: str, next_: str | None, set_: str, values: Mapping[str, Any], *,
               condition: str = "", remove: str = "", names: Mapping[str, str] | None = None,
               catch: list[dict[str, Any]] | None = None) -> None:
        """UpdateItem on the tenant's row, always conditioned on `managedBy = runtime`."""
        expression = f"SET {set_}" + (f" REMOVE {remove}" if remove else "")
        attribute_values = {":runtime": {"S": MANAGED_BY_RUNTIME}, **values}
        state: dict[str, Any] = {
            "Type": "Task", "Resource": "arn:aws:states:::dynamodb:updateItem",
            "Parameters": {"TableName": self.s.keys_table, "Key": _key(), "UpdateExpression": expression,
                           "ConditionExpression": "managedBy = :runtime" + (f" AND {condition}" if condition else ""),
                           "ExpressionAttributeValues": attribute_values},
            "ResultPath": None, "Retry": [SDK_RETRY], "Catch": [*(catch or []), FAILED]}
        if names:
            state["Parameters"]["ExpressionAttributeNames"] = dict(names)
        if next_ is None:
            state["End"] = True
        else:
            state["Next"] = next_
        self.add(name, state)

    def sdk(self, name: str, next_: str, action: str, parameters: Mapping[str, Any], *,
            done_when: tuple[str, ...] = (), result_selector: Mapping[str, Any] | None = None,
            result_path: str | None = None) -> None:
        """An aws-sdk task; errors in `done_when` mean the work is already done (idempotent repeat)."""
        catches: list[dict[str, Any]] = []
        if done_when:
            catches.append({"ErrorEquals": list(done_when), "ResultPath": None, "Next": next_})
        state: dict[str, Any] = {"Type": "Task", "Resource": f"arn:aws:states:::aws-sdk:{action}",
                                 "Parameters": dict(parameters), "ResultPath": result_path, "Retry": [SDK_RETRY],
                                 "Catch": [*catches, FAILED], "Next": next_}
        if result_selector:
            state["ResultSelector"] = dict(result_selector)
        self.add(name, state)

    def steps_function(self, name: str, next_: str, action: str, result_selector: Mapping[str, Any] | None,
                       result_path: str | None, **payload: str) -> None:
        state: dict[str, Any] = {
            "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": self.s.steps_function_arn,
                           "Payload": {"action": action, "tenantId.$": "$.tenantId",
                                       **{f"{k}.$": v for k, v in payload.items()}}},
            "ResultPath": result_path, "Retry": [LAMBDA_RETRY], "Catch": [FAILED], "Next": next_}
        if result_selector:
            state["ResultSelector"] = dict(result_selector)
        self.add(name, state)

    def now(self) -> dict[str, Any]:
        return {":at": {"S.$": "$$.State.EnteredTime"}}

    def delete_keys(self, prefix: str, next_: str) -> None:
        """Every API key of the tenant (exact name, tagged run-time and the tenant): found by name, deleted."""
        name = f"States.Format('{self.s.key_name_prefix}{{}}', $.tenantId)"
        self.sdk(f"{prefix}FindKeys", f"{prefix}DeleteKeys", "apigateway:getApiKeys",
                 {"NameQuery.$": name, "Limit": 500, "IncludeValues": False},
                 result_selector={"items.$": "$.Items"}, result_path="$.keys")
        self.add(f"{prefix}DeleteKeys", {
            "Type": "Map", "ItemsPath": "$.keys.items", "MaxConcurrency": 1, "ResultPath": None,
            "ItemSelector": {"key.$": "$$.Map.Item.Value", "tenantId.$": "$.tenantId", "name.$": name},
            "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": f"{prefix}IsTheTenantsKey", "States": {
                f"{prefix}IsTheTenantsKey": {"Type": "Choice", "Choices": [{"And": [
                    {"Variable": "$.key.Name", "StringEqualsPath": "$.name"},
                    {"Variable": f"$.key.Tags.{KEY_TAG_MANAGED_BY}", "IsPresent": True},
                    {"Variable": f"$.key.Tags.{KEY_TAG_TENANT}", "IsPresent": True}]
                    , "Next": f"{prefix}CheckTags"}], "Default": f"{prefix}NotTheTenantsKey"},
                f"{prefix}CheckTags": {"Type": "Choice", "Choices": [{"And": [
                    {"Variable": f"$.key.Tags.{KEY_TAG_MANAGED_BY}", "StringEquals": MANAGED_BY_RUNTIME},
                    {"Variable": f"$.key.Tags.{KEY_TAG_TENANT}", "StringEqualsPath": "$.tenantId"}],
                    "Next": f"{prefix}DeleteKey"}], "Default": f"{prefix}NotTheTenantsKey"},
                f"{prefix}DeleteKey": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:apigateway:deleteApiKey",
                              "Parameters": {"ApiKey.$": "$.key.Id"}, "ResultPath": None, "Retry": [SDK_RETRY],
                              "Catch": [{"ErrorEquals": ["ApiGateway.NotFoundException"], "ResultPath": None,
                                         "Next": f"{prefix}KeyDeleted"}], "End": True},
                f"{prefix}KeyDeleted": {"Type": "Succeed"},
                f"{prefix}NotTheTenantsKey": {"Type": "Succeed"}}},
            "Catch": [FAILED], "Next": next_})

    def first_user(self, prefix: str, action: str, next_: str) -> None:
        """The invited first user (recorded as `firstUser` once invited) is deleted or disabled; none: skip."""
        self.add(f"{prefix}ReadFirstUser", {
            "Type": "Task", "Resource": "arn:aws:states:::dynamodb:getItem",
            "Parameters": {"TableName": self.s.keys_table, "Key": _key(), "ProjectionExpression": "firstUser"},
            "ResultSelector": {"item.$": "$.Item"}, "ResultPath": "$.record", "Retry": [SDK_RETRY],
            "Catch": [FAILED], "Next": f"{prefix}HasFirstUser"})
        self.add(f"{prefix}HasFirstUser", {"Type": "Choice", "Choices": [
            {"Variable": "$.record.item.firstUser.S", "IsPresent": True, "Next": f"{prefix}FirstUser"}],
            "Default": next_})
        self.sdk(f"{prefix}FirstUser", next_, f"cognitoidentityprovider:{action}",
                 {"UserPoolId": self.s.user_pool_id, "Username.$": "$.record.item.firstUser.S"},
                 done_when=("CognitoIdentityProvider.UserNotFoundException",))


def lifecycle_definition(s: LifecycleSettings) -> dict[str, Any]:
    """The ASL definition of the lifecycle state machine."""
    b = _Builder(s)
    status = {"#status": "status"}
    b.add("Operation", {"Type": "Choice", "Choices": [
        {"Variable": "$.operation", "StringEquals": "onboard", "Next": "OnboardCreateKey"},
        {"Variable": "$.operation", "StringEquals": "rollback", "Next": "RollbackMark"},
        {"Variable": "$.operation", "StringEquals": "change_tier", "Next": "TierLeaveOldPlan"},
        {"Variable": "$.operation", "StringEquals": "suspend", "Next": "SuspendMark"},
        {"Variable": "$.operation", "StringEquals": "resume", "Next": "ResumeEnableKey"},
        {"Variable": "$.operation", "StringEquals": "rotate", "Next": "RotateCreateKey"},
        {"Variable": "$.operation", "StringEquals": "delete", "Next": "DeleteMark"}],
        "Default": "UnknownOperation"})
    b.add("UnknownOperation", {"Type": "Fail", "Error": "UnknownOperation",
                               "Cause": "operation must be one of " + ", ".join(OPERATIONS)})

    # -- onboard (also how a half-done onboarding resumes: every step finds its own work done) ---------------
    b.steps_function("OnboardCreateKey", "OnboardJoinPlan", "create_key",
                     {"apiKeyId.$": "$.Payload.apiKeyId"}, "$.key")
    # CreateUsagePlanKey answers with the key's value (UsagePlanKey.value,
    # https://docs.aws.amazon.com/apigateway/latest/api/API_UsagePlanKey.html): plans are joined in the function.
    b.steps_function("OnboardJoinPlan", "OnboardRecordPlan", "join_plan", None, None,
                     usagePlanId="$.usagePlanId", apiKeyId="$.key.apiKeyId")
    b.update("OnboardRecordPlan", "OnboardMachineClient?" if s.machine_clients else "OnboardInvite?",
             "steps.usagePlan = :at, usagePlanId = :plan",
             {**b.now(), ":plan": {"S.$": "$.usagePlanId"}, ":onboarding": {"S": "onboarding"}},
             condition="#status = :onboarding", names=status)
    if s.machine_clients:
        # The client secret exists only in Cognito: the function creating the client returns its id alone.
        b.add("OnboardMachineClient?", {"Type": "Choice", "Choices": [
            {"And": [{"Variable": "$.machineClient", "IsPresent": True},
                     {"Variable": "$.machineClient", "BooleanEquals": True}], "Next": "OnboardMachineClient"}],
            "Default": "OnboardInvite?"})
        b.steps_function("OnboardMachineClient", "OnboardInvite?", "create_machine_client", None, None)
    b.add("OnboardInvite?", {"Type": "Choice", "Choices": [
        {"Variable": "$.email", "IsString": True, "Next": "OnboardInviteUser"}], "Default": "OnboardActivate"})
    # The tenant attribute is set here, by the admin path, and nowhere a user could write it.
    b.add("OnboardInviteUser", {
        "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:cognitoidentityprovider:adminCreateUser",
        "Parameters": {"UserPoolId": s.user_pool_id, "Username.$": "$.email",
                       "UserAttributes": [{"Name": "email", "Value.$": "$.email"},
                                          {"Name": "email_verified", "Value": "true"},
                                          {"Name": f"custom:{TENANT_ATTRIBUTE}", "Value.$": "$.tenantId"}],
                       "DesiredDeliveryMediums": ["EMAIL"]},
        "ResultPath": None, "Retry": [SDK_RETRY],
        "Catch": [{"ErrorEquals": ["CognitoIdentityProvider.UsernameExistsException"], "ResultPath": None,
                   "Next": "OnboardCheckExistingUser"}, FAILED],
        "Next": "OnboardRecordInvite"})
    # A repeat finds the user it invited; a user of another tenant (or none) with that address is an error.
    b.sdk("OnboardCheckExistingUser", "OnboardIsOurUser?", "cognitoidentityprovider:adminGetUser",
          {"UserPoolId": s.user_pool_id, "Username.$": "$.email"},
          result_selector={"tenants.$": f"$.UserAttributes[?(@.Name == 'custom:{TENANT_ATTRIBUTE}')].Value"},
          result_path="$.existing")
    b.add("OnboardIsOurUser?", {"Type": "Choice", "Choices": [
        {"Variable": "$.existing.tenants[0]", "IsPresent": True, "Next": "OnboardCompareTenant"}],
        "Default": "UserOfAnotherTenant"})
    b.add("OnboardCompareTenant", {"Type": "Choice", "Choices": [
        {"Variable": "$.existing.tenants[0]", "StringEqualsPath": "$.tenantId", "Next": "OnboardRecordInvite"}],
        "Default": "UserOfAnotherTenant"})
    b.add("UserOfAnotherTenant", {"Type": "Pass", "Result": {"Error": "FirstUserExists"}, "ResultPath": "$.failure",
                                  "Next": "RecordFailure"})
    b.update("OnboardRecordInvite", "OnboardActivate", "steps.invite = :at, firstUser = :email",
             {**b.now(), ":email": {"S.$": "$.email"}, ":onboarding": {"S": "onboarding"}},
             condition="#status = :onboarding", names=status)
    b.update("OnboardActivate", None, "#status = :active, steps.active = :at",
             {**b.now(), ":active": {"S": "active"}, ":onboarding": {"S": "onboarding"}},
             condition="#status = :onboarding", names={**status, **LOCK_NAMES},
             remove=f"lastError, failedOperation, {UNLOCK}")

    # -- rollback of a half-done onboarding: keys, the invited user, the row -----------------------------------
    b.update("RollbackMark", "RollbackFindKeys", "#status = :rollingBack, steps.rollbackStarted = :at",
             {**b.now(), ":rollingBack": {"S": "rolling-back"}, ":onboarding": {"S": "onboarding"}},
             condition="#status IN (:onboarding, :rollingBack)", names=status)
    if s.machine_clients:
        b.delete_keys("Rollback", "RollbackMachineClient")
        b.steps_function("RollbackMachineClient", "RollbackReadFirstUser", "delete_machine_client", None, None)
    else:
        b.delete_keys("Rollback", "RollbackReadFirstUser")
    b.first_user("Rollback", "adminDeleteUser", "RollbackDeleteRow")
    b.add("RollbackDeleteRow", {
        "Type": "Task", "Resource": "arn:aws:states:::dynamodb:deleteItem",
        "Parameters": {"TableName": s.keys_table, "Key": _key(),
                       "ConditionExpression": "managedBy = :runtime AND #status = :rollingBack",
                       "ExpressionAttributeNames": status,
                       "ExpressionAttributeValues": {":runtime": {"S": MANAGED_BY_RUNTIME},
                                                     ":rollingBack": {"S": "rolling-back"}}},
        "ResultPath": None, "Retry": [SDK_RETRY], "Catch": [FAILED], "End": True})

    # -- tier change: a key may be on one plan per stage, so leave the old plan first ----------------------------
    b.sdk("TierLeaveOldPlan", "TierJoinNewPlan", "apigateway:deleteUsagePlanKey",
          {"UsagePlanId.$": "$.fromPlanId", "KeyId.$": "$.apiKeyId"}, done_when=("ApiGateway.NotFoundException",))
    b.steps_function("TierJoinNewPlan", "TierRecord", "join_plan", None, None,
                     usagePlanId="$.toPlanId", apiKeyId="$.apiKeyId")
    b.update("TierRecord", None, "tier = :tier, usagePlanId = :plan, steps.tier = :at",
             {**b.now(), ":tier": {"S.$": "$.tier"}, ":plan": {"S.$": "$.toPlanId"}, ":active": {"S": "active"},
              ":suspended": {"S": "suspended"}},
             condition="#status IN (:active, :suspended)", names={**status, **LOCK_NAMES}, remove=UNLOCK)

    # -- suspend: the authorizer denies at once (status), API Gateway refuses the key too (disabled) -------------
    b.update("SuspendMark", "SuspendDisableKey", "#status = :suspended, steps.suspended = :at",
             {**b.now(), ":suspended": {"S": "suspended"}, ":active": {"S": "active"}},
             condition="#status IN (:active, :suspended)", names=status)
    b.sdk("SuspendDisableKey", "SuspendUnlock", "apigateway:updateApiKey",
          {"ApiKey.$": "$.apiKeyId", "PatchOperations": [{"Op": "replace", "Path": "/enabled", "Value": "false"}]})
    b.update("SuspendUnlock", None, "steps.keyDisabled = :at", b.now(), remove=UNLOCK, names=LOCK_NAMES)
    b.sdk("ResumeEnableKey", "ResumeMark", "apigateway:updateApiKey",
          {"ApiKey.$": "$.apiKeyId", "PatchOperations": [{"Op": "replace", "Path": "/enabled", "Value": "true"}]})
    b.update("ResumeMark", None, "#status = :active, steps.resumed = :at",
             {**b.now(), ":suspended": {"S": "suspended"}, ":active": {"S": "active"}},
             condition="#status IN (:active, :suspended)", names={**status, **LOCK_NAMES}, remove=UNLOCK)

    # -- rotate: new key on the plan, promoted, the old one kept for the overlap, then deleted -------------------
    b.steps_function("RotateCreateKey", "RotateJoinPlan", "create_pending_key",
                     {"pendingApiKeyId.$": "$.Payload.pendingApiKeyId",
                      "currentApiKeyId.$": "$.Payload.currentApiKeyId"}, "$.rotation")
    b.steps_function("RotateJoinPlan", "RotatePromote", "join_plan", None, None,
                     usagePlanId="$.usagePlanId", apiKeyId="$.rotation.pendingApiKeyId")
    # Attribute-to-attribute SET copies the pending value without it ever leaving DynamoDB.
    b.update("RotatePromote", "RotateOverlap",
             "apiKeyId = pendingApiKeyId, apiKey = pendingApiKey, keyHash = pendingKeyHash, "
             "previousApiKeyId = apiKeyId, steps.rotated = :at",
             {**b.now(), ":pending": {"S.$": "$.rotation.pendingApiKeyId"}},
             condition="pendingApiKeyId = :pending", names=LOCK_NAMES,
             remove=f"pendingApiKeyId, pendingApiKey, pendingKeyHash, {UNLOCK}",
             catch=[{"ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"], "ResultPath": None,
                     "Next": "RotateOverlap"}])
    b.add("RotateOverlap", {"Type": "Wait", "SecondsPath": "$.overlapSeconds", "Next": "RotateDeleteOldKey"})
    b.sdk("RotateDeleteOldKey", "RotateForget", "apigateway:deleteApiKey",
          {"ApiKey.$": "$.rotation.currentApiKeyId"}, done_when=("ApiGateway.NotFoundException",))
    b.update("RotateForget", None, "steps.previousKeyDeleted = :at",
             {**b.now(), ":old": {"S.$": "$.rotation.currentApiKeyId"}},
             condition="(previousApiKeyId = :old OR attribute_not_exists(previousApiKeyId))",
             remove="previousApiKeyId")

    # -- delete: keys go; data kept (tombstone row, users disabled) or purged (items, user, row) -----------------
    b.update("DeleteMark", "DeleteFindKeys", "#status = :deleting, steps.deleting = :at, purge = :purge",
             {**b.now(), ":deleting": {"S": "deleting"}, ":active": {"S": "active"},
              ":suspended": {"S": "suspended"}, ":purge": {"BOOL.$": "$.purge"}},
             condition="#status IN (:active, :suspended, :deleting)", names=status)
    if s.machine_clients:
        b.delete_keys("Delete", "DeleteMachineClient")
        b.steps_function("DeleteMachineClient", "DeletePurge?", "delete_machine_client", None, None)
    else:
        b.delete_keys("Delete", "DeletePurge?")
    b.add("DeletePurge?", {"Type": "Choice", "Choices": [
        {"Variable": "$.purge", "BooleanEquals": True, "Next": "PurgeItems"}], "Default": "KeepReadFirstUser"})
    b.steps_function("PurgeItems", "PurgeReadFirstUser", "purge_items", None, None)
    b.first_user("Purge", "adminDeleteUser", "PurgeDeleteRow")
    b.add("PurgeDeleteRow", {
        "Type": "Task", "Resource": "arn:aws:states:::dynamodb:deleteItem",
        "Parameters": {"TableName": s.keys_table, "Key": _key(),
                       "ConditionExpression": "managedBy = :runtime AND #status = :deleting",
                       "ExpressionAttributeNames": status,
                       "ExpressionAttributeValues": {":runtime": {"S": MANAGED_BY_RUNTIME},
                                                     ":deleting": {"S": "deleting"}}},
        "ResultPath": None, "Retry": [SDK_RETRY], "Catch": [FAILED], "End": True})
    b.first_user("Keep", "adminDisableUser", "KeepTombstone")
    # The row stays (status deleted, no key): the id stays taken, the items stay where they are.
    b.update("KeepTombstone", None, "#status = :deleted, steps.deleted = :at",
             {**b.now(), ":deleted": {"S": "deleted"}, ":deleting": {"S": "deleting"}},
             condition="#status = :deleting", names={**status, **LOCK_NAMES},
             remove=f"apiKeyId, apiKey, keyHash, previousApiKeyId, pendingApiKeyId, pendingApiKey, pendingKeyHash, "
                    f"{UNLOCK}")

    # Only the error name is recorded: causes can quote request data.
    b.add("RecordFailure", {
        "Type": "Task", "Resource": "arn:aws:states:::dynamodb:updateItem",
        "Parameters": {"TableName": s.keys_table, "Key": _key(),
                       "UpdateExpression": f"SET lastError = :error, failedOperation = :operation REMOVE {UNLOCK}",
                       "ConditionExpression": "managedBy = :runtime", "ExpressionAttributeNames": LOCK_NAMES,
                       "ExpressionAttributeValues": {":runtime": {"S": MANAGED_BY_RUNTIME},
                                                     ":error": {"S.$": "$.failure.Error"},
                                                     ":operation": {"S.$": "$.operation"}}},
        "ResultPath": None, "Retry": [SDK_RETRY],
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": None, "Next": "Failed"}], "Next": "Failed"})
    b.add("Failed", {"Type": "Fail", "Error": "TenantLifecycleFailed",
                     "Cause": "a step failed; its error is the tenant's lastError (resume or roll back)"})
    return {"Comment": "Run-time tenant lifecycle of a MultiTenantApi", "StartAt": "Operation", "States": b.states}
