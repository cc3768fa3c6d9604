"""The pack: its name, version, default enforcement level and every policy, in the order they run.

`policy-suppression-requires-reason` must stay first (it loads the suppressions the other rules
honour) and `policy-config-valid` last (it reports config problems the rules noticed).
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Policy

from serverless_patterns.policies import api_gateway, cognito, ecr, execute_api, iam, lambda_, state_machines, storage
from serverless_patterns.policies.core import PACK_NAME, RULES
from serverless_patterns.policies.suppressions import CONFIG_POLICY_OBJ, SUPPRESSION_POLICY_OBJ, UNUSED_POLICY_OBJ

PACK_VERSION = "0.1.0"
PACK_ENFORCEMENT_LEVEL = EnforcementLevel.MANDATORY
PACK_DESCRIPTION = ("Least privilege and a security baseline for the serverless-patterns components and anything "
                    "written beside them.")

POLICIES: list[Policy] = [
    SUPPRESSION_POLICY_OBJ,
    *iam.POLICIES,
    *execute_api.POLICIES,
    *api_gateway.POLICIES,
    *lambda_.POLICIES,
    *state_machines.POLICIES,
    *storage.POLICIES,
    *ecr.POLICIES,
    *cognito.POLICIES,
    UNUSED_POLICY_OBJ,
    CONFIG_POLICY_OBJ,
]

RULE_IDS: list[str] = [p.name for p in POLICIES]

__all__ = ["PACK_DESCRIPTION", "PACK_ENFORCEMENT_LEVEL", "PACK_NAME", "PACK_VERSION", "POLICIES", "RULES", "RULE_IDS"]
