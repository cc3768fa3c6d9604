"""The pack knows every resource type that carries a policy document, in pulumi-aws and in our components.

The scan reads the installed pulumi_aws SDK (generated from the provider schema): a property of a
resource's `...Args` whose name mentions a policy and whose type is a string or `PolicyDocumentArgs`, and
whose documentation says it is a JSON / IAM / resource policy document. Each such property must be
covered by the pack (`policies/coverage.py`) or listed there as not an IAM document, with the reason.
"""

from __future__ import annotations

import functools
import re
from importlib.metadata import version
from pathlib import Path

import pulumi_aws
import pytest

from serverless_patterns.offline import CapturedStack
from serverless_patterns.policies import coverage
from serverless_patterns.policies.coverage import (
    IDENTITY_DOCUMENTS,
    LAMBDA_PERMISSION,
    NOT_IAM_DOCUMENTS,
    RESOURCE_DOCUMENTS,
    TRUST_DOCUMENTS,
)

ROOT = Path(__file__).resolve().parents[2]
_TOKEN = re.compile(r"super\(\w+, __self__\)\.__init__\(\s*'([^']+)'")
_ARGS = re.compile(r'class \w+Args:\s*\n\s*def __init__\(__self__, \*,(.*?)\):\s*"""(.*?)"""', re.S)
_PARAM = re.compile(r"^\s+(\w+): (pulumi\.Input\[.*\])(?: = None)?,?\s*$", re.M)
_STRING = re.compile(r"pulumi\.Input\[(Optional\[)?_builtins\.str\]?\]")
_NOT_A_DOCUMENT_NAME = re.compile(r"_(arns?|names?|ids?|type|revision|label|url|number|runtime|scope|regions|check)$")
_DOCUMENTED_AS_DOCUMENT = re.compile(
    r"json|policy document|resource policy|resource-based policy|text of the policy|\bIAM\b|key policy|"
    r"policy (to|that you want to) attach|policy that you want to apply|contents of the policy|access rules", re.I)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@functools.cache
def _scan() -> dict[str, tuple[set[str], tuple[str, ...]]]:
    """type -> (every input property, the properties that look like policy documents), over pulumi_aws."""
    out = {}
    for path in sorted(Path(pulumi_aws.__file__).parent.glob("*/*.py")):
        if path.name.startswith(("_", "get_")):
            continue
        source = path.read_text()
        token, args = _TOKEN.search(source), _ARGS.search(source)
        if not token or not args:
            continue
        docs = dict(re.findall(r":param [^\n]*?(\w+): ([^\n]*)", args.group(2)))
        params = _PARAM.findall(args.group(1))
        found = tuple(_camel(name) for name, typ in params if _looks_like_a_document(name, typ, docs.get(name, "")))
        out[token.group(1)] = ({_camel(name) for name, _ in params}, found)
    return out


def _looks_like_a_document(name: str, typ: str, doc: str) -> bool:
    if "PolicyDocumentArgs" in typ:
        return True
    return bool(_STRING.fullmatch(typ) and "polic" in name and not _NOT_A_DOCUMENT_NAME.search(name)
                and _DOCUMENTED_AS_DOCUMENT.search(doc))


def policy_bearing() -> dict[str, tuple[str, ...]]:
    """type -> policy-document properties, over every resource of the installed pulumi_aws."""
    return {token: found for token, (_, found) in _scan().items() if found}


def known(typ: str, name: str) -> bool:
    return (name in IDENTITY_DOCUMENTS.get(typ, ()) + RESOURCE_DOCUMENTS.get(typ, ()) + TRUST_DOCUMENTS.get(typ, ())
            or (typ, name) in NOT_IAM_DOCUMENTS or (typ == "aws:iam/role:Role" and name == "inlinePolicies"))


def _pinned_pulumi_aws() -> str | None:
    found = re.search(r"^pulumi_aws==(\S+)$", (ROOT / "constraints.txt").read_text(), re.MULTILINE | re.IGNORECASE)
    return found.group(1) if found else None


#: The coverage table is written against the pulumi-aws this repo pins: older releases of the range lack
#: some of its types and generate their Args in another style the scan does not read. Under
#: `make test-lowest` these table-vs-SDK checks are skipped; the pack's rules are still tested there.
against_the_pinned_sdk = pytest.mark.skipif(
    version("pulumi-aws") != _pinned_pulumi_aws(),
    reason="the coverage table is checked against the pulumi-aws pinned in constraints.txt")


@against_the_pinned_sdk
def test_the_scan_finds_the_types_it_must() -> None:
    """The heuristic itself: it sees the well-known documents (else the next test would pass vacuously)."""
    found = policy_bearing()
    for typ, name in [("aws:sqs/queuePolicy:QueuePolicy", "policy"), ("aws:iam/role:Role", "assumeRolePolicy"),
                      ("aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate", "repositoryPolicy"),
                      ("aws:cloudwatch/logResourcePolicy:LogResourcePolicy", "policyDocument"),
                      ("aws:kms/key:Key", "policy"), ("aws:secretsmanager/secret:Secret", "policy")]:
        assert name in found.get(typ, ()), (typ, name)
    assert "sslPolicy" not in found.get("aws:lb/listener:Listener", ())
    assert len(found) > 60


@against_the_pinned_sdk
def test_every_policy_document_property_of_pulumi_aws_is_known_to_the_pack() -> None:
    unknown = sorted(f"{typ} {name}" for typ, names in policy_bearing().items() for name in names
                     if not known(typ, name))
    assert unknown == [], ("Add these to policies/coverage.py (IDENTITY/RESOURCE/TRUST_DOCUMENTS), or to "
                           "NOT_IAM_DOCUMENTS with the reason they are not IAM documents", unknown)


@against_the_pinned_sdk
def test_every_covered_property_exists_in_pulumi_aws() -> None:
    """No stale or misspelled entry: each listed type is a pulumi_aws resource with that input property."""
    listed = [(typ, name) for table in (IDENTITY_DOCUMENTS, RESOURCE_DOCUMENTS, TRUST_DOCUMENTS)
              for typ, names in table.items() for name in names] + list(NOT_IAM_DOCUMENTS)
    scan = _scan()
    assert [(typ, name) for typ, name in listed if typ not in scan or name not in scan[typ][0]] == []


def _component_types() -> set[str]:
    """Type tokens of every `aws.<module>.<Class>(` the components can create (whatever the config)."""
    by_class = {(token.split(":")[1].split("/")[0], token.split(":")[2]): token for token in _scan()}
    return {by_class[(package.rstrip("_"), cls)]
            for path in (ROOT / "components").rglob("*.py")
            for package, cls in re.findall(r"\baws\.(\w+)\.([A-Z]\w+)\(", path.read_text())
            if (package.rstrip("_"), cls) in by_class}


def test_every_policy_bearing_type_the_components_create_is_known(dev: CapturedStack) -> None:
    """Fails when a component starts creating a policy-bearing type the pack does not know."""
    dev_types = {r.type for r in dev.resources}
    created = _component_types() | dev_types
    assert "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate" in created  # replication mode
    assert "aws:sqs/queuePolicy:QueuePolicy" in dev_types
    bearing = policy_bearing()
    unknown = sorted(f"{t} {n}" for t in created & set(bearing) for n in bearing[t] if not known(t, n))
    assert unknown == []
    assert LAMBDA_PERMISSION in created  # checked field by field, not as a document


def test_the_readme_lists_every_covered_type() -> None:
    readme = (ROOT / "policies" / "README.md").read_text()
    covered = {*IDENTITY_DOCUMENTS, *RESOURCE_DOCUMENTS, *TRUST_DOCUMENTS, coverage.LAMBDA_PERMISSION}
    assert sorted(t for t in covered if f"`{t}`" not in readme) == []
    assert sorted(f"{t} {p}" for t, p in NOT_IAM_DOCUMENTS if f"- `{t}` `{p}`: " not in readme) == []
