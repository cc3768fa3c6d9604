"""Suppressions with written reasons, and the checks on the pack's own configuration.

Suppressions live in the config of the `policy-suppression-requires-reason` policy (pulumi-policy
gives each policy only its own config)::

    {"policy-suppression-requires-reason": {"suppressions": [
        {"ruleId": "iam-no-wildcard-resources", "resource": "legacy-policy",
         "reason": "X-Ray group ARNs are not known before the group exists (SEC-123)"}]}}

That policy is the first of the pack, so it loads the suppressions before any rule runs on the
same resource; it reports suppressions without a real reason on the resource they target (they
are not honoured). `policy-config-valid` (a stack policy, last) reports malformed entries, unknown
rule ids and unknown config keys of any rule; `policy-suppression-unused` (advisory) reports
suppressions that match no resource or no longer silence anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from serverless_patterns.policies.core import RULES, STATE, RuleInfo, Suppression, plain, reason_problem

SUPPRESSION_POLICY = "policy-suppression-requires-reason"
CONFIG_POLICY = "policy-config-valid"
UNUSED_POLICY = "policy-suppression-unused"
UNSUPPRESSIBLE = frozenset({SUPPRESSION_POLICY, CONFIG_POLICY, UNUSED_POLICY})
SUPPRESSION_KEYS = ("ruleId", "resource", "reason")

SUPPRESSION_SCHEMA = PolicyConfigSchema(properties={
    "suppressions": {
        "type": "array",
        "description": "Findings accepted on purpose: one rule id on one resource (URN or logical name), "
                       "each with a written reason.",
        "items": {
            "type": "object",
            "properties": {
                "ruleId": {"type": "string"},
                "resource": {"type": "string"},
                "reason": {"type": "string"},
            },
        },
    },
})


def read_suppressions(config: Mapping[str, Any] | None) -> tuple[list[Suppression], dict[str, str]]:
    """The suppressions in the policy config, and what is wrong with the config (never raises)."""
    problems: dict[str, str] = {}
    config = dict(config or {})
    for key in config:
        if key != "suppressions":
            problems[f"{SUPPRESSION_POLICY}.{key}"] = (f"policy config for {SUPPRESSION_POLICY!r} has an unknown "
                                                       f"key {key!r} (known: suppressions); it is ignored")
    raw = config.get("suppressions", [])
    if not isinstance(raw, list):
        problems["suppressions"] = f"'suppressions' must be a list of {{ruleId, resource, reason}}, got {raw!r}"
        return [], problems
    out = []
    for index, entry in enumerate(raw):
        label = f"suppression #{index + 1}"
        if not isinstance(entry, Mapping):
            problems[label] = f"{label} must be an object {{ruleId, resource, reason}}, got {entry!r}"
            continue
        unknown = sorted(set(entry) - set(SUPPRESSION_KEYS))
        if unknown:
            problems[f"{label}.keys"] = (f"{label} has unknown key(s) {', '.join(unknown)} "
                                         f"(known: {', '.join(SUPPRESSION_KEYS)}); it is not applied")
            continue
        rule_id, resource = entry.get("ruleId"), entry.get("resource")
        if not isinstance(rule_id, str) or not isinstance(resource, str) or not rule_id or not resource:
            problems[label] = f"{label} needs a 'ruleId' and a 'resource' (URN or logical name): {dict(entry)!r}"
            continue
        if rule_id in UNSUPPRESSIBLE:
            problems[label] = f"{label} targets {rule_id!r}, which cannot be suppressed"
            continue
        if rule_id not in RULES:
            problems[label] = (f"{label} names the unknown rule id {rule_id!r}; known rule ids: "
                               f"{', '.join(sorted(set(RULES) - UNSUPPRESSIBLE))}")
            continue
        reason = entry.get("reason")
        out.append(Suppression(index, rule_id, resource, reason if isinstance(reason, str) else None))
    return out, problems


def _validate_suppressions(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    suppressions, problems = read_suppressions(plain(args.get_config() or {}))
    STATE.load(suppressions, problems)
    for suppression in suppressions:
        problem = reason_problem(suppression.reason)
        targets = suppression.resource in (args.urn, args.name) or args.urn.endswith("::" + suppression.resource)
        if problem and targets:
            report_violation(f"{suppression.describe()} targets {args.name!r} but {problem}; it is NOT applied. "
                             f"Fix: write why the finding is acceptable in 'reason', or fix the resource.", None)


def _validate_config(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    extra = plain(args.get_config() or {})
    for key in extra:
        STATE.problem(f"{CONFIG_POLICY}.{key}", f"policy config for {CONFIG_POLICY!r} has an unknown key {key!r} "
                                                f"(it takes none besides enforcementLevel); it is ignored")
    for message in STATE.config_problems.values():
        report_violation(message + ". Fix: correct the policy pack config (--policy-pack-config).", None)


def _validate_unused(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    for key in plain(args.get_config() or {}):
        STATE.problem(f"{UNUSED_POLICY}.{key}", f"policy config for {UNUSED_POLICY!r} has an unknown key {key!r} "
                                                f"(it takes none besides enforcementLevel); it is ignored")
    resources = [(r.urn, r.name) for r in args.resources]
    for suppression in STATE.suppressions:
        if not any(urn == suppression.resource or name == suppression.resource
                   or urn.endswith("::" + suppression.resource) for urn, name in resources):
            report_violation(f"{suppression.describe()} matches no resource in this stack. Fix: remove it, or name "
                             f"the resource by its URN or logical name.", None)
        elif reason_problem(suppression.reason) is None and suppression.index not in STATE.used:
            report_violation(f"{suppression.describe()} suppresses nothing: the rule finds no problem on that "
                             f"resource any more. Fix: remove the suppression.", None)


SUPPRESSION_POLICY_OBJ = ResourceValidationPolicy(
    name=SUPPRESSION_POLICY,
    description="Every suppression names one rule id and one resource and gives a written reason.",
    validate=_validate_suppressions,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    config_schema=SUPPRESSION_SCHEMA,
    remediation_steps="Add a 'reason' saying why the finding is acceptable, or fix the resource.")

CONFIG_POLICY_OBJ = StackValidationPolicy(
    name=CONFIG_POLICY,
    description="The policy pack config is well-formed: known rule ids and keys, suppressions that apply.",
    validate=_validate_config,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    remediation_steps="Fix the --policy-pack-config file: rule ids and keys are listed in policies/README.md.")

UNUSED_POLICY_OBJ = StackValidationPolicy(
    name=UNUSED_POLICY,
    description="Suppressions still apply: they match a resource and silence a finding (stale ones are noise).",
    validate=_validate_unused,
    enforcement_level=EnforcementLevel.ADVISORY,
    severity=Severity.LOW,
    remediation_steps="Remove suppressions that match no resource or no longer suppress anything.")

RULES[UNUSED_POLICY] = RuleInfo(UNUSED_POLICY, "stack", EnforcementLevel.ADVISORY, "—", UNUSED_POLICY_OBJ.description)
RULES[SUPPRESSION_POLICY] = RuleInfo(SUPPRESSION_POLICY, "resource", EnforcementLevel.MANDATORY, "—",
                                     SUPPRESSION_POLICY_OBJ.description)
RULES[CONFIG_POLICY] = RuleInfo(CONFIG_POLICY, "stack", EnforcementLevel.MANDATORY, "—",
                                CONFIG_POLICY_OBJ.description)
