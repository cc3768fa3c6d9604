"""What a statement's `Condition` means for who may use the grant: one judgement every rule shares.

A rule that accepts a condition as the reason a grant is safe (a service principal's source condition,
an organization-wide `*` principal, an ECR pull grant, a trust policy, a Lambda permission's
`source_arn`/`source_account`/`principal_org_id`) asks `judge`. A condition restricts the principal only
when all of these hold:

- its key identifies the caller of that kind: `aws:SourceArn`, `aws:SourceAccount`, `aws:SourceOrgID`,
  `aws:SourceOrgPaths` for service principals; `aws:PrincipalArn`, `aws:PrincipalAccount`,
  `aws:PrincipalOrgID`, `aws:PrincipalOrgPaths` for AWS principals (both for `*`, which is either);
- its operator is a positive match: `StringEquals`, `StringLike`, `ArnEquals`, `ArnLike`. A negated
  operator (`StringNotEquals`, ...) matches every value but the listed ones; `...IfExists` is true when
  the request has no such key; `Null`, `Bool` and the rest do not compare the caller to a value;
- set operators only as AWS documents them safe (IAM User Guide, "Single-valued vs. multivalued context
  keys", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html):
  `ForAllValues:` is also true when the request has no value for the key, so it never restricts; set
  operators on single-valued keys "can result in overly permissive policies", so `ForAnyValue:` counts
  only on the multivalued `aws:PrincipalOrgPaths`/`aws:SourceOrgPaths`, which in turn need it;
- every value is concrete: a 12-digit account id, an `o-...` organization id, an organization path
  that starts with a concrete organization id, an ARN whose account is a concrete id (or, for ARNs
  without an account such as S3's, whose resource name is literal). `*`, `?` patterns over the account
  or organization, and policy variables (`${aws:...}`, which match every caller's own value) are not.

Several conditions are ANDed, so one that restricts is enough; several values of one key are ORed, so
every value must be concrete.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Keys that identify the resource a service principal acts for (confused-deputy protection); value kind.
SERVICE_SOURCE_KEYS: dict[str, str] = {
    "aws:sourcearn": "arn", "aws:sourceaccount": "account", "aws:sourceorgid": "organization",
    "aws:sourceorgpaths": "organization path",
}
#: Keys that identify the calling AWS principal (account, organization or ARN); value kind.
PRINCIPAL_KEYS: dict[str, str] = {
    "aws:principalarn": "arn", "aws:principalaccount": "account", "aws:principalorgid": "organization",
    "aws:principalorgpaths": "organization path",
}
#: Multivalued global keys (AWS global condition context keys page: "Value type: Multivalued").
MULTIVALUED_KEYS: frozenset[str] = frozenset({"aws:principalorgpaths", "aws:sourceorgpaths"})
POSITIVE_OPERATORS: frozenset[str] = frozenset({"stringequals", "stringlike", "arnequals", "arnlike"})
NEGATED_OPERATORS: frozenset[str] = frozenset({
    "stringnotequals", "stringnotlike", "arnnotequals", "arnnotlike", "stringnotequalsignorecase",
})
#: Whose conditions count: a service principal, an AWS principal, or `*` (either).
KINDS: dict[str, dict[str, str]] = {
    "service": SERVICE_SOURCE_KEYS,
    "aws": PRINCIPAL_KEYS,
    "any": {**SERVICE_SOURCE_KEYS, **PRINCIPAL_KEYS},
}
KIND_NAMES = {"service": "a service principal", "aws": "an AWS principal", "any": "the principal '*'"}

_ACCOUNT = re.compile(r"^\d{12}$")
_ORGANIZATION = re.compile(r"^o-[a-z0-9]{10,32}$")
_WILDCARD = re.compile(r"[*?]")


@dataclass(frozen=True)
class Judgement:
    """The conditions of one grant: those that restrict its principal, and why each other one does not."""

    restricting: tuple[str, ...]
    not_counted: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.restricting)

    def explain(self) -> str:
        """Why no condition restricts (for messages); empty when one does."""
        if self.restricting:
            return ""
        if not self.not_counted:
            return "it has no condition"
        return "no condition restricts it: " + "; ".join(self.not_counted)


def concrete_problem(kind: str, value: Any) -> str | None:
    """Why `value` is not a concrete value of a key of this kind (None when it is concrete)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return f"{value!r} is not a string"
    text = str(value)
    if "${" in text:
        return f"{text!r} is a policy variable, which matches every caller's own value"
    if kind == "account":
        return None if _ACCOUNT.fullmatch(text) else f"{text!r} is not one 12-digit account id"
    if kind == "organization":
        return None if _ORGANIZATION.fullmatch(text) else f"{text!r} is not one organization id (o-...)"
    if kind == "organization path":
        head = text.split("/", 1)[0]
        return None if _ORGANIZATION.fullmatch(head) and "/" in text else (
            f"{text!r} does not start with a concrete organization id (o-.../)")
    if kind == "arn" or (kind == "context" and text.startswith("arn:")):
        return _arn_problem(text)
    return f"{text!r} has a wildcard" if _WILDCARD.search(text) or not text else None


def _arn_problem(text: str) -> str | None:
    parts = text.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return f"{text!r} is not an ARN"
    _, partition, service, _region, account, resource = parts
    if _WILDCARD.search(partition) or _WILDCARD.search(service) or not service:
        return f"{text!r} matches ARNs of any partition or service"
    if account:
        return None if _ACCOUNT.fullmatch(account) else f"{text!r} matches every account"
    name = re.split(r"[/:]", resource, maxsplit=1)[0]
    return None if name and not _WILDCARD.search(name) else f"{text!r} matches every {service} resource"


def _operator(operator: str) -> tuple[str, str, bool]:
    """`(set qualifier, base operator, IfExists)` of a condition operator, lower-cased."""
    lowered = operator.lower()
    qualifier, _, base = lowered.rpartition(":")
    if_exists = base.endswith("ifexists")
    return qualifier, base.removesuffix("ifexists") if if_exists else base, if_exists


def _value_kind(kind: str, key: str, extra: Mapping[str, str]) -> str | None:
    """The value kind of `key` when it restricts a principal of `kind` (`extra` keys may end in `*`)."""
    if key in KINDS[kind]:
        return KINDS[kind][key]
    for pattern, value_kind in extra.items():
        if key == pattern or (pattern.endswith("*") and key.startswith(pattern[:-1])):
            return value_kind
    return None


def judge_condition(kind: str, operator: str, key: str, values: Any,
                    extra: Mapping[str, str] | None = None) -> str | None:
    """Why `operator: {key: values}` does not restrict a principal of `kind` (None when it does).

    `extra` adds keys that restrict in one place only (KMS encryption context for key policies), with
    their value kind ("arn", "account", ..., "text": a literal without wildcards, or "context": an ARN when
    the value is one, else text).
    """
    lowered = key.lower()
    value_kind = _value_kind(kind, lowered, extra or {})
    label = f"{operator} {key}"
    if value_kind is None:
        if lowered in SERVICE_SOURCE_KEYS or lowered in PRINCIPAL_KEYS:
            return f"{label}: this key does not identify {KIND_NAMES[kind]}"
        return f"{label}: this key says nothing about who is calling"
    qualifier, base, if_exists = _operator(operator)
    if base in NEGATED_OPERATORS:
        return f"{label}: a negated operator matches every value except the listed ones"
    if base not in POSITIVE_OPERATORS:
        return f"{label}: not a positive match (use StringEquals, StringLike, ArnEquals or ArnLike)"
    if if_exists:
        return f"{label}: ...IfExists is true when the request has no {key}"
    if qualifier == "forallvalues":
        return f"{label}: ForAllValues is true when the request has no {key} at all"
    if qualifier and qualifier != "foranyvalue":
        return f"{label}: unknown set operator {qualifier!r}"
    if qualifier and lowered not in MULTIVALUED_KEYS:
        return (f"{label}: {key} is single-valued, and AWS warns set operators on single-valued keys can be "
                f"overly permissive; use {operator.rsplit(':', 1)[-1]}")
    if not qualifier and lowered in MULTIVALUED_KEYS:
        return f"{label}: {key} is multivalued, which needs ForAnyValue:{operator}"
    listed = values if isinstance(values, list | tuple) else [values]
    if not listed:
        return f"{label}: no values"
    for value in listed:
        problem = concrete_problem(value_kind, value)
        if problem:
            return f"{label}: {problem}"
    return None


def judge(conditions: Mapping[str, Any] | None, kind: str, extra: Mapping[str, str] | None = None) -> Judgement:
    """Judge a statement's `Condition` block for a principal of `kind` ("service", "aws" or "any")."""
    restricting: list[str] = []
    not_counted: list[str] = []
    for operator, block in (conditions or {}).items():
        if not isinstance(block, Mapping):
            not_counted.append(f"{operator}: not an object of keys")
            continue
        for key, values in block.items():
            problem = judge_condition(kind, str(operator), str(key), values, extra)
            if problem is None:
                restricting.append(f"{operator} {key}")
            else:
                not_counted.append(problem)
    return Judgement(tuple(restricting), tuple(not_counted))


def principal_kind(principal: str, *, service: bool) -> str:
    """The kind whose keys restrict `principal`: "any" for `*`, else "service" or "aws"."""
    return "any" if principal == "*" else "service" if service else "aws"
