"""Policy pack entry point for `pulumi preview --policy-pack policies`: only assembles the pack.

`PolicyPack(...)` starts the analyzer's gRPC server and blocks, so nothing imports this module;
tests and the offline runner use `serverless_patterns.policies.pack.POLICIES`. The rules come from the
installed package (requirements.txt installs this repo into the pack's virtualenv).
"""

from pulumi_policy import PolicyPack

from serverless_patterns.policies.pack import PACK_DESCRIPTION, PACK_ENFORCEMENT_LEVEL, PACK_NAME, POLICIES

PolicyPack(name=PACK_NAME, policies=POLICIES, enforcement_level=PACK_ENFORCEMENT_LEVEL,
           description=PACK_DESCRIPTION, display_name="Serverless patterns: least privilege and baseline",
           provider="aws", tags=["aws", "iam", "least-privilege", "serverless"])
