"""Arguments and limits of CrossAccountEcr."""


from collections.abc import Mapping
from typing import Required, TypedDict

import pulumi
import pulumi_aws as aws

from serverless_patterns.core.function import FunctionSettings
from serverless_patterns.policies.knowledge import ECR_PULL_ACTIONS

#: The only actions another account (or the Lambda service for it) is granted.
PULL_ACTIONS: tuple[str, ...] = tuple(sorted(ECR_PULL_ACTIONS))

#: Sids of the two repository-policy statements (the names AWS's own sample uses).
ACCOUNT_SID = "CrossAccountPermission"
LAMBDA_SID = "LambdaECRImageCrossAccountRetrievalPolicy"

ORG_ID_RE = r"o-[a-z0-9]{10,32}"
#: `o-xxxxxxxxxx/r-xxxx/ou-xxxx-xxxxxxxx/.../`, optionally ending in `*` (the aws:PrincipalOrgPaths form).
ORG_PATH_RE = r"(o-[a-z0-9]{10,32})/r-[0-9a-z]{4,32}/(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}/)*\*?"
DIGEST_RE = r"sha256:[0-9a-f]{64}"
#: ECR repository names: lowercase path segments separated by `/`.
REPOSITORY_NAME_RE = r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*"
#: An image tag, and a tag prefix in lifecycle rules (the same characters).
IMAGE_TAG_RE = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
KMS_KEY_ARN_RE = r"arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+"
ROLE_NAME_RE = r"[\w+=,.@-]{1,64}"

#: ECR's limit on the repository policy text (SetRepositoryPolicy `policyText`).
MAX_REPOSITORY_POLICY_CHARS = 10_240

#: Count of the release-tag rules: ECR's images-per-repository quota, so they match but never expire.
RELEASE_PROTECT_COUNT = 100_000


class LifecycleArgs(TypedDict, total=False):
    """What the lifecycle policy keeps and expires."""

    untagged_expire_days: int
    """Untagged images (e.g. left by failed pushes) expire after this many days (default 7)."""
    build_tag_prefixes: list[str]
    """Tag prefixes of CI builds (default `["build-"]`); only the newest `keep_builds` of each are kept."""
    keep_builds: int
    """How many images per build prefix are kept (default 20)."""
    release_tag_prefixes: list[str]
    """Tag prefixes that are never expired (default `["release-", "v"]`): the images consumers pin."""


class FunctionArgs(TypedDict, total=False):
    """The container-image function deployed in every consumer account."""

    memory_mb: int
    """Memory in MB, 128..10240 (default 512)."""
    timeout_seconds: int
    """Timeout in seconds, 1..900 (default 30)."""
    architecture: str
    """The image's architecture, `arm64` or `x86_64` (default: `function_settings.architecture`)."""
    environment: dict[str, str]
    """Extra environment variables."""
    description: str
    """Function description."""


class ConsumerArgs(TypedDict, total=False):
    """One consumer account in which this program deploys the image function."""

    provider: Required[aws.Provider]
    """The AWS provider of that account (required), e.g. one that assumes a role there."""
    region: str
    """The provider's Region when known; it must equal the repository Region (checked now and at deploy)."""
    deployer_role_name: str
    """A role in that account that deploys functions: it gets an inline policy with the two pull actions."""


class CrossAccountEcrArgs(TypedDict, total=False):
    """Arguments of `CrossAccountEcr`."""

    repository_name: Required[str]
    """ECR repository name (lowercase, `/`-separated namespaces allowed); required."""
    registry_provider: aws.Provider
    """Provider of the registry account; default: the component's own provider."""
    registry_account_id: str
    """The registry account when known (checked against the consumers now; always checked at deploy)."""
    region: str
    """The registry Region when known (checked against consumer Regions now; always checked at deploy)."""
    consumer_account_ids: list[str]
    """Account mode: the accounts granted pull access (default: the keys of `consumers`)."""
    organization_id: str
    """Organization mode: grant every account of this AWS Organization (`o-...`) instead of a list."""
    organization_paths: list[str]
    """Organization mode: only accounts under these organization paths (`o-.../r-.../ou-.../`)."""
    consumers: Mapping[str, ConsumerArgs]
    """Account id -> consumer: the accounts in which this program deploys the image function."""
    image_tag: str
    """Tag of the image to deploy; resolved to its digest through the registry provider."""
    image_digest: str
    """Digest (`sha256:...`) of the image to deploy; takes the place of `image_tag`."""
    resolve_image_tag: bool
    """Resolve `image_tag` to a digest (default true). False is refused: Lambda would pin whatever the
    tag points at when the function is created, and the program could not say which image that is."""
    function: FunctionArgs
    """Settings of the consumer functions."""
    lifecycle: LifecycleArgs
    """Lifecycle policy settings."""
    kms_key_arn: pulumi.Input[str]
    """Encrypt images with this KMS key (default: AES-256)."""
    replication_regions: list[str]
    """Replicate the repository to these Regions of the registry account (for consumers there)."""
    force_delete: bool
    """Delete the repository even if it holds images (default false: consumers may still run them)."""
    function_settings: FunctionSettings
    """Stack-wide function settings (log retention, level, default architecture)."""
    tags: Mapping[str, str]
    """Extra tags for every taggable child."""


class ConsumerFunctionOutputs(TypedDict):
    """The image function deployed in one consumer account."""

    arn: pulumi.Output[str]
    """ARN of the function."""
    name: pulumi.Output[str]
    """Name of the function."""


