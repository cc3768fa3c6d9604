"""The pack's building blocks: rule factories, policy-document parsing and the suppression state.

Rules are written as generators of messages (resource rules) or of `(resource, message)` pairs
(stack rules); `resource_rule` / `stack_rule` wrap them into pulumi-policy's own
`ResourceValidationPolicy` / `StackValidationPolicy`, so the real analyzer (under
`pulumi preview --policy-pack policies`) and the offline runner run exactly the same objects.

Unknown values: pulumi-policy wraps props in a proxy that raises `UnknownValueError` when an
unknown (preview-time) value is read; the servicer turns that into the advisory "can't run policy
... during preview". Stack rules check resource by resource: a resource with unknown values is
skipped, the others are still checked, and the unknown is re-raised at the end so the advisory
still appears.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError, _is_unknown

PACK_NAME = "serverless-patterns"

ResourceCheck = Callable[[ResourceValidationArgs], Iterable[str]]
StackCheck = Callable[[StackValidationArgs], Iterable[tuple[PolicyResource, str]]]


# --------------------------------------------------------------------------- plain values


class Unknown:
    """Stands for a value only known at deploy time, where a rule only needs to know that it is set."""

    def __init__(self, error: UnknownValueError) -> None:
        self.error = error

    def __repr__(self) -> str:
        return "<unknown until deploy>"


def _raw(container: Any, key: Any) -> Any:
    """`container[key]` without the proxy's unknown check (the proxy keeps the raw target)."""
    try:
        return container["__target"][key]
    except (KeyError, TypeError, IndexError):
        return container[key]


def plain(value: Any, path: str = "", *, keep_unknown: bool = False) -> Any:
    """A proxied prop as plain dicts/lists.

    An unknown value raises `UnknownValueError` (the analyzer then reports "can't run ... during
    preview"), or with `keep_unknown` becomes an `Unknown` marker, for rules that only check
    that a value is set (e.g. a log destination ARN of a log group not created yet).
    """
    if _is_unknown(value):
        error = UnknownValueError(value, [path] if path else [])
        if keep_unknown:
            return Unknown(error)
        raise error
    if isinstance(value, str | bytes):
        return value
    if isinstance(value, Mapping):
        return {k: plain(_raw(value, k), f"{path}.{k}" if path else str(k), keep_unknown=keep_unknown)
                for k in value}
    if isinstance(value, Sequence):
        return [plain(_raw(value, i), f"{path}[{i}]", keep_unknown=keep_unknown) for i in range(len(value))]
    return value


def prop(props: Mapping[str, Any], name: str, default: Any = None, *, keep_unknown: bool = False) -> Any:
    """`props[name]` as a plain value (default when absent or null); see `plain` for unknowns."""
    try:
        present = name in props["__target"]
    except (KeyError, TypeError):
        present = name in props
    if not present:
        return default
    value = plain(_raw(props, name), name, keep_unknown=keep_unknown)
    return default if value is None else value


def known(value: Any) -> Any:
    """`value`, unless it is `Unknown`: then the rule cannot decide during preview (raises)."""
    if isinstance(value, Unknown):
        raise value.error
    return value


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


# --------------------------------------------------------------------------- policy documents


class DocumentError(ValueError):
    """A policy document that cannot be read (malformed JSON, wrong shape)."""


@dataclass
class Statement:
    """One statement of a policy document, normalised (lists everywhere, condition keys kept)."""

    index: int
    raw: dict[str, Any]
    effect: str
    actions: list[str]
    not_actions: list[str]
    resources: list[str]
    not_resources: list[str]
    principal: Any
    not_principal: Any
    conditions: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def sid(self) -> str | None:
        return self.raw.get("Sid")

    @property
    def allows(self) -> bool:
        return self.effect == "Allow"

    def label(self) -> str:
        return f"statement {self.sid!r}" if self.sid else f"statement #{self.index + 1}"

    def show(self) -> str:
        """The statement as compact JSON, for messages."""
        text = json.dumps(self.raw, sort_keys=True, separators=(",", ":"))
        return text if len(text) <= 400 else text[:397] + "..."

    def principals(self) -> dict[str, list[str]]:
        """Principal as {"AWS": [...], "Service": [...], ...}; `"*"` becomes {"*": ["*"]}."""
        return _principals(self.principal)


def _principals(value: Any) -> dict[str, list[str]]:
    if value is None:
        return {}
    if value == "*":
        return {"*": ["*"]}
    if isinstance(value, Mapping):
        return {str(k): [str(v) for v in as_list(vals)] for k, vals in value.items()}
    return {"AWS": [str(v) for v in as_list(value)]}


def parse_document(value: Any) -> list[Statement]:
    """Statements of a policy document given as JSON text or as an object."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as error:
            raise DocumentError(f"the policy is not valid JSON ({error})") from None
    if not isinstance(value, Mapping):
        raise DocumentError(f"the policy must be a JSON object, got {type(value).__name__}")
    if "Statement" not in value:
        raise DocumentError("the policy has no 'Statement'")
    raw_statements = value["Statement"]
    raw_statements = raw_statements if isinstance(raw_statements, list) else [raw_statements]
    out = []
    for index, raw in enumerate(raw_statements):
        if not isinstance(raw, Mapping):
            raise DocumentError(f"statement #{index + 1} must be an object, got {type(raw).__name__}")
        effect = raw.get("Effect")
        if effect not in ("Allow", "Deny"):
            raise DocumentError(f"statement #{index + 1} has Effect {effect!r}; use 'Allow' or 'Deny'")
        conditions = raw.get("Condition") or {}
        if not isinstance(conditions, Mapping):
            raise DocumentError(f"statement #{index + 1} has a Condition that is not an object")
        out.append(Statement(
            index=index, raw=dict(raw), effect=effect,
            actions=[str(a) for a in as_list(raw.get("Action"))],
            not_actions=[str(a) for a in as_list(raw.get("NotAction"))],
            resources=[str(r) for r in as_list(raw.get("Resource"))],
            not_resources=[str(r) for r in as_list(raw.get("NotResource"))],
            principal=raw.get("Principal"), not_principal=raw.get("NotPrincipal"),
            conditions={str(k): dict(v) if isinstance(v, Mapping) else {} for k, v in conditions.items()}))
    return out


def is_wildcard_action(action: str) -> bool:
    """`*` or `service:*` (a whole service); prefixed patterns like `s3:Get*` are not whole-service."""
    return action == "*" or action.endswith(":*")


def is_partial_wildcard_action(action: str) -> bool:
    """An action pattern that is not a whole service (`s3:Get*`, `s3:*Object`, `s3:GetObjec?`, `*:GetObject`)."""
    return ("*" in action or "?" in action) and not is_wildcard_action(action)


ARN_RE = re.compile(r"^arn:(?P<partition>[\w-]+):(?P<service>[\w-]+):(?P<region>[\w-]*):(?P<account>[\w*-]*):"
                    r"(?P<resource>.*)$")


def arn_account(arn: str) -> str | None:
    match = ARN_RE.fullmatch(arn)
    return match.group("account") if match else None


def action_matches(granted: str, needed: str) -> bool:
    """Does the granted action pattern (IAM wildcards `*`/`?`, case-insensitive) cover `needed`?"""
    return wildcard_match(granted.lower(), needed.lower())


def wildcard_match(pattern: str, value: str) -> bool:
    """IAM-style glob: `*` any run, `?` one character; everything else literal."""
    return _wildcard_regex(pattern).fullmatch(value) is not None


@functools.lru_cache(maxsize=4096)
def _wildcard_regex(pattern: str) -> re.Pattern[str]:
    """The regex of an IAM-style glob, built once per pattern (the pack matches the same actions and ARNs
    against many statements)."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern), re.DOTALL)


# --------------------------------------------------------------------------- suppressions


TRIVIAL_REASONS = re.compile(r"^\s*(todo|fixme|tbd|n/?a|none|-+|\.+|x+|ok|wip|temp|temporary|later|fix later)\b",
                             re.IGNORECASE)
MIN_REASON_CHARS = 15


def reason_problem(reason: Any) -> str | None:
    """Why `reason` is not an acceptable written justification (None when it is)."""
    if not isinstance(reason, str) or not reason.strip():
        return "it has no 'reason'"
    text = reason.strip()
    if TRIVIAL_REASONS.match(text) or re.search(r"\b(todo|fixme|tbd)\b", text, re.IGNORECASE):
        return f"its reason {text!r} is a placeholder, not a justification"
    if len(text) < MIN_REASON_CHARS or len(text.split()) < 3:
        return (f"its reason {text!r} is too short: say why the finding is acceptable (at least "
                f"{MIN_REASON_CHARS} characters and three words)")
    return None


@dataclass(frozen=True)
class Suppression:
    """One entry of the pack config `suppressions`: this rule, on this resource, for this reason."""

    index: int
    rule_id: str
    resource: str
    reason: str | None

    def matches(self, rule_id: str, urn: str, name: str) -> bool:
        if rule_id != self.rule_id:
            return False
        return self.resource in (urn, name) or (bool(urn) and urn.endswith("::" + self.resource))

    def describe(self) -> str:
        return f"suppression #{self.index + 1} ({self.rule_id} on {self.resource!r})"


@dataclass
class SuppressedFinding:
    rule_id: str
    urn: str
    name: str
    message: str
    reason: str


class SuppressionState:
    """What the suppression policy read from its config, shared with every rule of this pack process.

    pulumi-policy hands each policy only its own config, and runs the policies in list order for
    every resource; the suppression policy comes first in `POLICIES`, so it loads the suppressions
    before any rule of the same `Analyze` call reads them (and `AnalyzeStack` always follows the
    `Analyze` calls of the same run). The CLI may call `Analyze` from several threads at once:
    every load writes the same suppressions, and the recorded findings only grow, so the order
    of concurrent calls does not change the outcome.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.loaded = False
        self.suppressions: list[Suppression] = []
        self.config_problems: dict[str, str] = {}
        self.suppressed: list[SuppressedFinding] = []
        self.used: set[int] = set()

    def load(self, suppressions: list[Suppression], problems: dict[str, str]) -> None:
        self.loaded = True
        self.suppressions = suppressions
        self.config_problems.update(problems)

    def problem(self, key: str, message: str) -> None:
        self.config_problems.setdefault(key, message)

    def active_for(self, rule_id: str, urn: str, name: str) -> Suppression | None:
        for suppression in self.suppressions:
            if suppression.matches(rule_id, urn, name) and reason_problem(suppression.reason) is None:
                return suppression
        return None

    def record(self, suppression: Suppression, rule_id: str, urn: str, name: str, message: str) -> None:
        self.used.add(suppression.index)
        entry = SuppressedFinding(rule_id, urn, name, message, suppression.reason or "")
        if entry not in self.suppressed:
            self.suppressed.append(entry)


STATE = SuppressionState()


# --------------------------------------------------------------------------- rule metadata and factories


@dataclass(frozen=True)
class RuleInfo:
    """What the README and the runner say about a rule."""

    rule_id: str
    kind: str  # "resource" | "stack"
    enforcement_level: EnforcementLevel
    cdk_nag: str
    summary: str


RULES: dict[str, RuleInfo] = {}


def config_value(rule_id: str, config: Mapping[str, Any] | None, key: str, default: Any, kind: type) -> Any:
    """A rule setting from its config, or the default (recorded as a config problem) when it has the wrong type."""
    if not config or key not in config:
        return default
    value = plain(config[key], key)
    if kind is list and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    if kind is int and isinstance(value, int | float) and not isinstance(value, bool) and value == int(value):
        return int(value)
    STATE.problem(f"{rule_id}.{key}", f"policy config for {rule_id!r}: {key} = {value!r} is not a valid "
                                      f"{'list of strings' if kind is list else kind.__name__}; using {default!r}")
    return default


def _check_config(rule_id: str, config: Mapping[str, Any] | None, schema: PolicyConfigSchema | None) -> None:
    """Record config keys this rule does not know (the CLI's schema check ignores extra keys)."""
    known = set(schema.properties) if schema else set()
    for key in config or {}:
        if key not in known:
            allowed = ", ".join(sorted(known)) or "none besides enforcementLevel"
            STATE.problem(f"{rule_id}.{key}", f"policy config for {rule_id!r} has an unknown key {key!r} "
                                              f"(known: {allowed}); it is ignored")


class TypedResourcePolicy(ResourceValidationPolicy):
    """A resource policy that reports only on `resource_types` (None: on every type); for any other type its
    validation only checks its config (`_check_config`), so a runner that has checked the config once may skip it."""

    resource_types: frozenset[str] | None = None


def resource_rule(rule_id: str, description: str, check: ResourceCheck, *, types: Iterable[str] | None = None,
                  enforcement_level: EnforcementLevel = EnforcementLevel.MANDATORY,
                  severity: Severity = Severity.HIGH, cdk_nag: str = "—", remediation: str = "",
                  config_schema: PolicyConfigSchema | None = None) -> ResourceValidationPolicy:
    """A `ResourceValidationPolicy` whose `check(args)` yields one message per finding."""
    wanted = frozenset(types) if types is not None else None

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        _check_config(rule_id, args.get_config(), config_schema)
        if wanted is not None and args.resource_type not in wanted:
            return
        for message in check(args):
            suppression = STATE.active_for(rule_id, args.urn, args.name)
            if suppression is not None:
                STATE.record(suppression, rule_id, args.urn, args.name, message)
                continue
            report_violation(message, None)

    RULES[rule_id] = RuleInfo(rule_id, "resource", enforcement_level, cdk_nag, description)
    policy = TypedResourcePolicy(name=rule_id, description=description, validate=validate,
                                 enforcement_level=enforcement_level, severity=severity,
                                 remediation_steps=remediation or None, config_schema=config_schema)
    policy.resource_types = wanted
    return policy


def stack_rule(rule_id: str, description: str, check: StackCheck, *,
               enforcement_level: EnforcementLevel = EnforcementLevel.MANDATORY,
               severity: Severity = Severity.HIGH, cdk_nag: str = "—", remediation: str = "",
               config_schema: PolicyConfigSchema | None = None) -> StackValidationPolicy:
    """A `StackValidationPolicy` whose `check(args)` yields `(resource, message)` per finding."""

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        _check_config(rule_id, args.get_config(), config_schema)
        for resource, message in check(args):
            suppression = STATE.active_for(rule_id, resource.urn, resource.name)
            if suppression is not None:
                STATE.record(suppression, rule_id, resource.urn, resource.name, message)
                continue
            report_violation(message, resource.urn)

    RULES[rule_id] = RuleInfo(rule_id, "stack", enforcement_level, cdk_nag, description)
    return StackValidationPolicy(name=rule_id, description=description, validate=validate,
                                 enforcement_level=enforcement_level, severity=severity,
                                 remediation_steps=remediation or None, config_schema=config_schema)


def each_resource(resources: Iterable[PolicyResource],
                  check: Callable[[PolicyResource], Iterable[str]]) -> Iterator[tuple[PolicyResource, str]]:
    """Run `check` on each resource; a resource with unknown values is skipped and the unknown re-raised last."""
    unknown: UnknownValueError | None = None
    for resource in resources:
        try:
            messages = list(check(resource))
        except UnknownValueError as error:
            unknown = unknown or error
            continue
        for message in messages:
            yield resource, message
    if unknown is not None:
        raise unknown


def of_type(args: StackValidationArgs, *types: str) -> list[PolicyResource]:
    return [r for r in args.resources if r.resource_type in types]


def referenced(resource: PolicyResource, prop_name: str, candidates: Iterable[PolicyResource],
               *match_props: str) -> list[PolicyResource]:
    """Resources among `candidates` that `resource.<prop_name>` refers to.

    First by the dependency the program recorded for that property (`property_dependencies`), then
    by value: the property equals one of the candidate's `match_props` outputs (e.g. `bucket`, `id`).
    """
    candidates = list(candidates)
    by_dependency = [c for c in resource.property_dependencies.get(prop_name, []) if c in candidates]
    if by_dependency:
        return by_dependency
    value = prop(resource.props, prop_name)
    if value in (None, ""):
        return []
    found = []
    for candidate in candidates:
        for name in match_props:
            try:
                if name in candidate.props and plain(candidate.props[name]) == value:
                    found.append(candidate)
                    break
            except UnknownValueError:
                continue
    return found
