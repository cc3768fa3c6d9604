"""Policy pack entry point for `pulumi preview --policy-pack policies`: only assembles the pack.

`PolicyPack(...)` starts the analyzer's gRPC server and blocks, so nothing imports this module;
tests and the offline runner use `policies.pack.POLICIES`.
"""

import sys
from pathlib import Path

# The CLI runs this file from inside `policies/`; the rules are imported as `policies.<module>`.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import PolicyPack

from policies.pack import PACK_DESCRIPTION, PACK_ENFORCEMENT_LEVEL, PACK_NAME, POLICIES

PolicyPack(name=PACK_NAME, policies=POLICIES, enforcement_level=PACK_ENFORCEMENT_LEVEL,
           description=PACK_DESCRIPTION, display_name="Serverless patterns: least privilege and baseline",
           provider="aws", tags=["aws", "iam", "least-privilege", "serverless"])
