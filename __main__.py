"""The serverless-patterns program: builds the patterns the stack config switches on.

Started by the engine as the component package's plugin (PulumiPlugin.yaml), it serves the
components to programs in other languages instead.
"""

import sys

import pulumi

from serverless_patterns import provider
from serverless_patterns.core.apigateway_account import ApiGatewayAccountLogging
from serverless_patterns.core.config import enabled, load_stack_config
from serverless_patterns.registry import PATTERNS, loader

if provider.running_as_plugin():
    provider.serve()
    sys.exit(0)

stack = load_stack_config(known_patterns=list(PATTERNS))

opts = None
if stack.api_gateway_account_logging:
    # API Gateway writes stage access logs through one role per account and Region; stages created
    # before it is set fail, so every pattern waits for it.
    logging = ApiGatewayAccountLogging("api-gateway-logging", tags=stack.tags)
    opts = pulumi.ResourceOptions(depends_on=[logging.account])

for key, (_, name) in PATTERNS.items():
    section = stack.patterns.get(key)
    if enabled(section, f"patterns.{key}"):
        component = loader(key)(name, section, stack, opts)
        pulumi.export(key, component.outputs)
