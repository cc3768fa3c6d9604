"""A platform team's program: its own `components/`, `lambdas/` and `policies/` beside two serverless-patterns
components from the installed package, and the account-level API Gateway logging role they need."""

import pulumi
from serverless_patterns.core.apigateway_account import ApiGatewayAccountLogging
from serverless_patterns.glacier_restore import GlacierRestore
from serverless_patterns.multi_tenant_api import MultiTenantApi

from components.status import StatusFunction
from policies.rules import REQUIRED_TAGS

config = pulumi.Config()
# The platform pack (policies/) requires these tags on every taggable resource; the stack config sets them.
tags = {key: config.require(key) for key in REQUIRED_TAGS} | {"environment": pulumi.get_stack()}

# Stages with access logging need API Gateway's CloudWatch role, one per account and Region; a stage
# created before it is set is rejected, so both APIs wait for it. Leave it out where another stack owns it.
logging = ApiGatewayAccountLogging("api-gateway-logging", tags=tags)
after_logging = pulumi.ResourceOptions(depends_on=[logging.account])

archive = GlacierRestore("archive", {
    "sender_email": config.require("senderEmail"),
    "service_name": "Platform archive restores",
    "tags": tags,
}, opts=after_logging)

tenants = MultiTenantApi("tenants", {
    "domain_prefix": config.require("domainPrefix"),
    "callback_urls": ["https://portal.platform.example.org/oauth/callback"],
    "logout_urls": ["https://portal.platform.example.org/"],
    "tiers": {"standard": {"rate_limit": 50, "burst_limit": 100, "quota": {"limit": 100000, "period": "MONTH"}}},
    "tenants": [{"id": "team-a", "tier": "standard"}],
    "tags": tags,
}, opts=after_logging)

status = StatusFunction("status", team=tags["team"], tags=tags)

pulumi.export("archive", archive.outputs)
pulumi.export("tenants", tenants.outputs)
pulumi.export("statusFunctionArn", status.arn)
pulumi.export("apiGatewayLoggingRoleArn", logging.role.arn)
