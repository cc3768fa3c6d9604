"""The account-level CloudWatch role API Gateway needs to write stage access and execution logs."""

from collections.abc import Mapping
from typing import TypedDict

import pulumi
import pulumi_aws as aws

from serverless_patterns.core import iam
from serverless_patterns.core.base import PatternComponent

LOG_ACTIONS = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents",
               "logs:GetLogEvents", "logs:FilterLogEvents"]


class ApiGatewayAccountLoggingArgs(TypedDict, total=False):
    """Arguments of `ApiGatewayAccountLogging`."""

    tags: Mapping[str, str]
    """Extra tags for the role."""


class ApiGatewayAccountLogging(PatternComponent):
    """One per account and Region: the role API Gateway assumes to push logs, set on the account.

    Setting it replaces any role the account already had in this Region (it is a singleton);
    turn it off with `apiGatewayAccountLogging: false` where another stack owns it.
    """

    role_arn: pulumi.Output[str]
    """ARN of the role API Gateway uses to write logs."""

    def __init__(self, name: str, args: ApiGatewayAccountLoggingArgs = {},  # noqa: B006 (read, never mutated)
                 opts: pulumi.ResourceOptions | None = None, *, tags: Mapping[str, str] | None = None) -> None:
        super().__init__(name, tags if tags is not None else args.get("tags"), opts)
        # A tag mapping passed where args go (the old positional `tags`) is refused, not silently dropped.
        self.validator.mapping("args", args, known=ApiGatewayAccountLoggingArgs.__annotations__)
        env = self.env
        self.role = aws.iam.Role(
            self.child_name("role"),
            description="Lets API Gateway write access and execution logs in this account and Region",
            assume_role_policy=iam.service_trust("apigateway.amazonaws.com"),
            tags=self.tags,
            opts=self.child_opts())
        policy = aws.iam.RolePolicy(
            self.child_name("policy"),
            role=self.role.id,
            policy=iam.document(
                iam.allow(LOG_ACTIONS, [env.arn("logs", "log-group:*")], sid="ApiGatewayLogGroups"),
                iam.allow(["logs:DescribeLogGroups"], ["*"], sid="ListLogGroups")),
            opts=self.child_opts())
        self.account = aws.apigateway.Account(
            self.child_name("account"),
            cloudwatch_role_arn=self.role.arn,
            opts=self.child_opts(depends_on=[policy]))
        self.finish({"roleArn": self.role.arn})
