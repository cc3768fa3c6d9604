"""`CrossAccountEcr`: one ECR repository, Lambda container-image functions in many accounts.

Registry side (the registry account's provider): an immutable, scanned, encrypted repository,
a lifecycle policy that never expires release tags, and a repository policy with exactly
the two statements Lambda needs for cross-account images (`ecr:BatchGetImage` and
`ecr:GetDownloadUrlForLayer` only):

- the consumer accounts (or every account of an AWS Organization, optionally limited to
  organization paths) as principals, so their deployers can create and update functions;
- the Lambda service principal, limited to functions of those accounts (or that organization)
  in this Region, so Lambda can pull the image again after a function went inactive.

Consumer side (one provider per consumer account): an `ImageFunction` per account whose image
URI is pinned by digest, with its own role, log group and tracing, and optionally an identity
policy on the account's deployer role with exactly the two pull actions on the repository.

Lambda only pulls from repositories in its own Region; consumers in other Regions are refused,
and `replication_regions` replicates the repository to other Regions instead (see README).
"""

from serverless_patterns.cross_account_ecr.args import ConsumerArgs, CrossAccountEcrArgs, FunctionArgs, LifecycleArgs
from serverless_patterns.cross_account_ecr.component import CrossAccountEcr
from serverless_patterns.cross_account_ecr.config import from_config
from serverless_patterns.cross_account_ecr.documents import (
           lifecycle_policy,
           lifecycle_rules,
           repository_policy_statements,
)

__all__ = ["ConsumerArgs", "CrossAccountEcr", "CrossAccountEcrArgs", "FunctionArgs", "LifecycleArgs", "from_config",
           "lifecycle_policy", "lifecycle_rules", "repository_policy_statements"]
