"""Run the pack offline over a `CapturedStack`, the way `pulumi preview --policy-pack policies` does.

The pack's own policy objects go through pulumi-policy's analyzer servicer in-process
(`_PolicyAnalyzerServicer.Configure`, `Analyze` per resource with its inputs, `AnalyzeStack` with
every resource's outputs, parents and dependencies), with protobuf requests built from the
captured resources. So deserialisation, unknown-value handling, enforcement levels and policy
config behave as under the CLI. The config is reconciled as the CLI does (`ReconcilePolicyPackConfig`:
policy defaults, then `all`, then per-policy entries).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from google.protobuf import json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2 as proto
from pulumi_policy import EnforcementLevel, Policy
from pulumi_policy.deserialize import serialize_properties
from pulumi_policy.policy import _PolicyAnalyzerServicer

from serverless_patterns.policies.core import STATE, SuppressedFinding, TypedResourcePolicy
from serverless_patterns.policies.pack import PACK_ENFORCEMENT_LEVEL, PACK_NAME, PACK_VERSION, POLICIES
from serverless_patterns.policies.suppressions import CONFIG_POLICY, SUPPRESSION_POLICY

if TYPE_CHECKING:
    from serverless_patterns.offline import CapturedResource, CapturedStack

LEVELS = {proto.ADVISORY: "advisory", proto.MANDATORY: "mandatory", proto.REMEDIATE: "remediate",
          proto.DISABLED: "disabled"}
TO_PROTO = {v: k for k, v in LEVELS.items()}


@dataclass(frozen=True)
class Violation:
    """One diagnostic of the pack, attached to the resource it is about."""

    policy_name: str
    enforcement_level: str
    message: str
    urn: str
    resource_type: str
    resource_name: str
    description: str = ""

    def __str__(self) -> str:
        return f"[{self.enforcement_level}] {self.policy_name} on {self.resource_type} {self.resource_name!r}: " \
               f"{self.message}"


@dataclass
class Analysis:
    """Everything one run found: violations (incl. preview advisories) and findings suppressed with a reason."""

    violations: list[Violation] = field(default_factory=list)
    suppressed: list[SuppressedFinding] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds spent in Configure, in the Analyze calls (resource policies) and in AnalyzeStack."""

    @property
    def mandatory(self) -> list[Violation]:
        return [v for v in self.violations if v.enforcement_level == "mandatory"]


def analyze(stack: CapturedStack, config: Mapping[str, Any] | None = None,
            policies: list[Policy] | None = None) -> list[Violation]:
    """The pack's violations over `stack` (config: the `--policy-pack-config` JSON as a dict)."""
    return run(stack, config, policies).violations


def run(stack: CapturedStack, config: Mapping[str, Any] | None = None,
        policies: list[Policy] | None = None, *, share_conversions: bool = True) -> Analysis:
    """Like `analyze`, and also returns the findings that suppressions (with reasons) silenced.

    `share_conversions=False` runs pulumi-policy's servicer exactly as it is (see `converted_once`)."""
    policies = policies if policies is not None else POLICIES
    STATE.reset()
    servicer = _PolicyAnalyzerServicer(PACK_NAME, PACK_VERSION, policies, PACK_ENFORCEMENT_LEVEL)
    analysis = Analysis()
    stack_resource = (stack.stack_urn, "pulumi:pulumi:Stack", f"{stack.project}-{stack.stack}")
    started = time.perf_counter()
    request, problems = configure_request(policies, config)
    servicer.Configure(request, None)
    analysis.timings["configure"] = time.perf_counter() - started
    for problem in problems:
        analysis.violations.append(Violation(CONFIG_POLICY, "mandatory", problem, *stack_resource))

    started = time.perf_counter()
    by_urn = {r.urn: r for r in stack.resources}
    providers: dict[str, proto.AnalyzerProviderResource | None] = {}
    with converted_once(share_conversions, servicer) as shared:
        for index, resource in enumerate(stack.resources):
            response = shared.analyze(servicer, analyze_request(resource, by_urn, providers),
                                      every_policy=index == 0, provider=providers.get(resource.provider))
            for diagnostic in response.diagnostics:
                analysis.violations.append(_violation(diagnostic, resource.urn, resource.type, resource.name))

        analysis.timings["resource policies"] = time.perf_counter() - started

        started = time.perf_counter()
        stack_request = proto.AnalyzeStackRequest(resources=[stack_resource_message(r, by_urn, providers)
                                                             for r in stack.resources])
        response = shared.analyze_stack(
            servicer, shared.stack_request(stack_request, [providers.get(r.provider) for r in stack.resources]))
    for diagnostic in response.diagnostics:
        target = by_urn.get(diagnostic.urn)
        if target is not None:
            analysis.violations.append(_violation(diagnostic, target.urn, target.type, target.name))
        else:
            analysis.violations.append(_violation(diagnostic, *stack_resource))
    analysis.timings["stack policies"] = time.perf_counter() - started
    analysis.suppressed = list(STATE.suppressed)
    return analysis


class _ReadOnce:
    """A protobuf message whose fields are read from it once and then kept (a read-only view).

    pulumi-policy's `AnalyzeStack` reads every resource's fields (type, URN, name, options, parent,
    dependencies, property dependencies) once per stack policy; through this view each is read from the
    message once. Methods (`HasField`) go to the message itself.
    """

    def __init__(self, message: Any, **fields: Any) -> None:
        self.__dict__.update(fields)
        self.__dict__["_message"] = message

    def __getattr__(self, name: str) -> Any:  # only for names not read yet
        value = getattr(self.__dict__["_message"], name)
        if not callable(value):
            self.__dict__[name] = value
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"a read-only view of a {type(self.__dict__['_message']).__name__}")


@dataclass(frozen=True)
class _Sharing:
    """What `converted_once` shares; `stack_request` is the stack request as the servicer should read it, and
    `analyze` runs `Analyze` with the policies that can report on the request's resource type."""

    enabled: bool
    _by_type: dict[str, list[Policy]] = field(default_factory=dict)

    def analyze(self, servicer: _PolicyAnalyzerServicer, request: proto.AnalyzeRequest, *,
                every_policy: bool = False, provider: proto.AnalyzerProviderResource | None = None
                ) -> proto.AnalyzeResponse:
        """`servicer.Analyze(request)`, past the policies that report only on other types.

        A `TypedResourcePolicy` does nothing for another type but check its config, which records the same
        config problems on every call; so the first call (`every_policy`) runs every policy, and each later call
        only the policies that can report on its type, in the pack's order. Guarded: the servicer's list of
        policies is swapped only while it is the list it was built with. `provider` is the message the
        request's provider was copied from, shared by every resource of that provider (`_ReadOnce`), so its
        properties are converted once per provider.
        """
        policies = getattr(servicer, "_PolicyAnalyzerServicer__policies", None)
        message: Any = _ReadOnce(request, provider=provider) if self.enabled and provider is not None else request
        if not self.enabled or every_policy or not isinstance(policies, list):
            response: proto.AnalyzeResponse = servicer.Analyze(message, None)
            return response
        subset = self._by_type.get(request.type)
        if subset is None:
            subset = self._by_type[request.type] = [
                p for p in policies if not isinstance(p, TypedResourcePolicy) or p.resource_types is None
                or request.type in p.resource_types]
        servicer._PolicyAnalyzerServicer__policies = subset  # type: ignore[attr-defined]
        try:
            response = servicer.Analyze(message, None)
        finally:
            servicer._PolicyAnalyzerServicer__policies = policies  # type: ignore[attr-defined]
        return response

    def analyze_stack(self, servicer: _PolicyAnalyzerServicer, request: Any) -> proto.AnalyzeResponse:
        """`servicer.AnalyzeStack(request)`, with the stack's resources built once for all stack policies.

        pulumi-policy rebuilds every `PolicyResource` (properties, options, provider, parent, dependencies)
        for each stack policy; here they are built once, before the first stack policy that runs, and every
        stack policy gets its own list of the same read-only resources (`_shared_stack_analysis`). Guarded:
        only while the servicer's `AnalyzeStack` is the one this was written against (`_STACK_ANALYSIS`),
        otherwise pulumi-policy's own runs.
        """
        if not self.enabled or not _stack_analysis_shareable(servicer):
            response: proto.AnalyzeResponse = servicer.AnalyzeStack(request, None)
            return response
        return _shared_stack_analysis(servicer, request)

    def stack_request(self, request: proto.AnalyzeStackRequest,
                      providers: Sequence[proto.AnalyzerProviderResource | None] = ()) -> Any:
        """The request with each resource read once; `providers[i]` (if given) is the message resource i's
        provider was copied from, shared by the resources of that provider."""
        if not self.enabled:
            return request
        shared = list(providers) or [None] * len(request.resources)
        resources = tuple(_ReadOnce(r, propertyDependencies=dict(r.propertyDependencies),
                                    dependencies=tuple(r.dependencies),
                                    **({"provider": provider} if provider is not None else {}))
                          for r, provider in zip(request.resources, shared, strict=True))
        return _ReadOnce(request, resources=resources)


#: `code_signature` of pulumi-policy's `_PolicyAnalyzerServicer.AnalyzeStack` (names, locals, constants), in the
#: versions `_shared_stack_analysis` follows (1.20 and 1.21, the same code): any other body runs as it ships.
_STACK_ANALYSIS = (
    frozenset({
        "ADVISORY", "AnalyzeDiagnostic", "AnalyzeResponse", "DISABLED", "EnforcementLevel",
        "IntermediateStackResource", "MANDATORY", "MessageToDict", "PolicyNotApplicable", "PolicyResource",
        "REMEDIATE", "StackValidationArgs", "StackValidationPolicy", "Task", "UnknownValueError",
        "_NotApplicableError", "_PolicyAnalyzerServicer", "_PolicyAnalyzerServicer__policies",
        "_PolicyAnalyzerServicer__policy_pack_name", "_PolicyAnalyzerServicer__policy_pack_version",
        "_PolicyAnalyzerServicer__stack_tags", "_configure_runtime_settings", "_create_report_violation",
        "_get_enforcement_level", "_get_policy_config", "_get_provider_resource", "_get_resource_options",
        "_map_enforcement_level", "append", "asyncio", "close", "dependencies", "description",
        "deserialize_properties", "diagnostics", "isawaitable", "isinstance", "items", "json_format", "list",
        "message", "name", "new_event_loop", "not_applicable", "parent", "properties", "propertyDependencies",
        "property_dependencies", "proto", "reason", "resource", "resources", "run_until_complete", "severity",
        "type", "unknown_checking_proxy", "urn", "urns", "validate"}),
    ("self", "request", "_context", "response", "policy", "enforcement_level", "report_violation",
     "intermediates", "r", "deserialized", "props", "opts", "provider", "resource", "property_dependencies",
     "k", "v", "urns_to_resources", "i", "d", "deps", "resources", "config", "args", "result", "loop", "task",
     "e"),
    (None, ("loop",), "can't run policy '", "' from policy pack '", "@v", "' during preview: ", "",
     ("policyName", "policyPackName", "policyPackVersion", "message", "urn", "description", "enforcementLevel"),
     ("policy_name", "reason")),
)


def _stack_analysis_shareable(servicer: _PolicyAnalyzerServicer) -> bool:
    """True while the servicer's `AnalyzeStack` is the one `_shared_stack_analysis` follows."""
    from serverless_patterns.offline.mocks import code_signature

    return (code_signature(getattr(type(servicer), "AnalyzeStack", None)) == _STACK_ANALYSIS
            and isinstance(getattr(servicer, "_PolicyAnalyzerServicer__policies", None), list))


def _shared_stack_analysis(servicer: _PolicyAnalyzerServicer, request: Any) -> proto.AnalyzeResponse:
    """pulumi-policy's `AnalyzeStack` (1.20, 1.21), with the resources built once for every stack policy.

    Step for step as it ships: the runtime settings, then for each policy its enforcement level (disabled and
    non-stack policies skipped, remediate treated as mandatory), its violation reporter and config, the
    resources with parents and dependencies linked as objects, the validation (awaited on a fresh loop when a
    coroutine) and the same diagnostics for unknown values and `not_applicable` for inapplicable policies.
    The one difference: the `PolicyResource`s are built before the first stack policy runs rather than for
    each (their properties are read-only proxies, and each policy gets its own list).
    """
    from pulumi_policy import policy as servicer_module

    sdk: Any = servicer_module  # the names its AnalyzeStack uses, from its own module
    servicer._configure_runtime_settings()
    response: proto.AnalyzeResponse = sdk.proto.AnalyzeResponse()
    shared: list[Any] | None = None
    name = servicer._PolicyAnalyzerServicer__policy_pack_name  # type: ignore[attr-defined]
    version = servicer._PolicyAnalyzerServicer__policy_pack_version  # type: ignore[attr-defined]
    for policy in servicer._PolicyAnalyzerServicer__policies:  # type: ignore[attr-defined]
        level = servicer._get_enforcement_level(policy)
        if level == sdk.EnforcementLevel.DISABLED or not isinstance(policy, sdk.StackValidationPolicy):
            continue
        if level == sdk.EnforcementLevel.REMEDIATE:
            level = sdk.EnforcementLevel.MANDATORY
        report_violation = servicer._create_report_violation(response, policy.name, policy.description, level,
                                                             policy.severity)
        if shared is None:
            shared = _stack_resources(servicer, request, sdk)
        args = sdk.StackValidationArgs(list(shared), servicer._get_policy_config(policy.name),
                                       servicer._PolicyAnalyzerServicer__stack_tags)  # type: ignore[attr-defined]
        try:
            result = policy.validate(args, report_violation)
            if sdk.isawaitable(result):
                loop = sdk.asyncio.new_event_loop()
                task = sdk.asyncio.Task(result, loop=loop)
                loop.run_until_complete(task)
                loop.close()
        except sdk.UnknownValueError as error:
            response.diagnostics.append(sdk.proto.AnalyzeDiagnostic(
                policyName=policy.name, policyPackName=name, policyPackVersion=version,
                message=(f"can't run policy '{policy.name}' from policy pack '{name}@v{version}' during preview: "
                         f"{error.message}"),
                urn="", description=policy.description,
                enforcementLevel=servicer._map_enforcement_level(sdk.EnforcementLevel.ADVISORY)))
        except sdk._NotApplicableError as error:
            response.not_applicable.append(sdk.proto.PolicyNotApplicable(policy_name=policy.name,
                                                                         reason=error.reason or ""))
    return response


def _stack_resources(servicer: _PolicyAnalyzerServicer, request: Any, sdk: Any) -> list[Any]:
    """The request's resources as pulumi-policy's `AnalyzeStack` builds them for a stack policy."""
    built: list[tuple[Any, str, list[str], dict[str, list[str]]]] = []
    for r in request.resources:
        props = sdk.unknown_checking_proxy(sdk.deserialize_properties(sdk.json_format.MessageToDict(r.properties)))
        resource = sdk.PolicyResource(r.type, props, r.urn, r.name, servicer._get_resource_options(r),
                                      servicer._get_provider_resource(r), None, [], {})
        built.append((resource, r.parent, list(r.dependencies),
                      {k: list(v.urns) for k, v in r.propertyDependencies.items()}))
    by_urn = {resource.urn: resource for resource, _, _, _ in built}
    for resource, parent, dependencies, property_dependencies in built:
        if parent is not None and parent in by_urn:
            resource.parent = by_urn[parent]
        resource.dependencies.extend(by_urn[d] for d in dependencies if d in by_urn)
        for key, urns in property_dependencies.items():
            resource.property_dependencies[key] = [by_urn[d] for d in urns if d in by_urn]
    return [resource for resource, _, _, _ in built]


@contextmanager
def converted_once(enabled: bool = True, servicer: _PolicyAnalyzerServicer | None = None) -> Iterator[_Sharing]:
    """Convert each resource's protobuf properties once, not once per policy.

    pulumi-policy's servicer converts the same message inside its loop over policies: 29 policies run
    `json_format.MessageToDict(request.properties)`, `deserialize_properties` over that dict and
    `unknown_checking_proxy` over the result 29 times each, for every resource; and, given the `servicer`,
    its `_get_resource_options` and `_get_provider_resource` too. Here each step runs once per message and
    the policies share its result; `AnalyzeStack` also reads each resource's fields once (`_ReadOnce`)
    instead of once per stack policy. The proxies are read-only (a `Sequence` and a `Mapping` whose items
    are checked for unknown values on access), the options and provider objects are only read by the
    policies, so no policy can see what another did. The findings are identical with and without this
    (tests/policies/conftest.py compares them on every analysis the policy tests run). Guarded: if
    pulumi-policy stops calling these names, nothing changes.
    """
    from pulumi_policy import policy as servicer_module

    json_format = getattr(servicer_module, "json_format", None)
    convert = getattr(json_format, "MessageToDict", None)
    deserialize = getattr(servicer_module, "deserialize_properties", None)
    proxy = getattr(servicer_module, "unknown_checking_proxy", None)
    if not enabled or convert is None or not callable(deserialize) or not callable(proxy):
        yield _Sharing(False)
        return

    from serverless_patterns.offline.engine import cached_by_identity as once

    patched = {"json_format": SimpleNamespace(**{**vars(json_format), "MessageToDict": once(convert)}),
               "deserialize_properties": once(deserialize), "unknown_checking_proxy": once(proxy)}
    saved = {name: getattr(servicer_module, name) for name in patched}
    for name, value in patched.items():
        setattr(servicer_module, name, value)
    # The servicer's own per-message readers, on this servicer only (instance attributes shadow its methods).
    readers = [name for name in ("_get_resource_options", "_get_provider_resource")
               if servicer is not None and callable(getattr(servicer, name, None))]
    for name in readers:
        setattr(servicer, name, once(getattr(servicer, name)))
    try:
        yield _Sharing(True)
    finally:
        for name, value in saved.items():
            setattr(servicer_module, name, value)
        for name in readers:
            delattr(servicer, name)


def configure_request(policies: list[Policy], config: Mapping[str, Any] | None
                      ) -> tuple[proto.ConfigureAnalyzerRequest, list[str]]:
    """Reconcile `config` with the policies' defaults as the CLI does; also list what is wrong with it."""
    problems: list[str] = []
    names = {p.name for p in policies}
    given: dict[str, Any] = dict(config or {})
    if "suppressions" in given:
        # Shorthand: a top-level suppressions list belongs to the suppression policy.
        listed = given.pop("suppressions")
        owner = dict(given.get(SUPPRESSION_POLICY) or {}) if isinstance(given.get(SUPPRESSION_POLICY), Mapping) \
            else {}
        owner["suppressions"] = list(owner.get("suppressions", [])) + (listed if isinstance(listed, list)
                                                                        else [listed])
        given[SUPPRESSION_POLICY] = owner

    levels: dict[str, str] = {}
    properties: dict[str, dict[str, Any]] = {}
    for policy in policies:
        level = policy.enforcement_level or PACK_ENFORCEMENT_LEVEL
        levels[policy.name] = level.value
        defaults = {k: v["default"] for k, v in (policy.config_schema.properties if policy.config_schema else {})
                    .items() if "default" in v}
        properties[policy.name] = defaults

    all_level = given.pop("all", None)
    if all_level is not None:
        all_value = all_level.get("enforcementLevel") if isinstance(all_level, Mapping) else all_level
        if _valid_level(all_value):
            levels = dict.fromkeys(levels, str(all_value))
        else:
            problems.append(f"policy pack config 'all': {all_value!r} is not an enforcement level "
                            f"(advisory, mandatory, remediate, disabled)")
    for key, value in given.items():
        if key not in names:
            problems.append(f"policy pack config names the unknown policy {key!r}; this pack's policies are: "
                            f"{', '.join(sorted(names))}")
            continue
        if isinstance(value, str):
            value = {"enforcementLevel": value}
        if not isinstance(value, Mapping):
            problems.append(f"policy pack config for {key!r} must be an enforcement level or an object, got {value!r}")
            continue
        value = dict(value)
        level = value.pop("enforcementLevel", None)
        if level is not None:
            if _valid_level(level):
                levels[key] = level
            else:
                problems.append(f"policy pack config for {key!r}: {level!r} is not an enforcement level "
                                f"(advisory, mandatory, remediate, disabled)")
        properties[key].update(value)

    request = proto.ConfigureAnalyzerRequest()
    for name in names:
        entry = proto.PolicyConfig(enforcementLevel=TO_PROTO[levels[name]])
        if properties[name]:
            entry.properties.update(properties[name])
        request.policyConfig[name].CopyFrom(entry)
    return request, problems


def _valid_level(level: Any) -> bool:
    return level in {e.value for e in EnforcementLevel}


_PLAIN = (str, bool, int, float, type(None))


def _wire(value: Any) -> Any:
    """pulumi-policy's `serialize_properties`, with plain values (exactly `dict`, `list`, `str`, numbers, booleans,
    None) copied as it copies them, without its dozen `isinstance` checks each; anything else (assets, archives,
    secrets, proxies, subclasses) goes to pulumi-policy itself."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is dict:
        return {key: _wire(item) for key, item in value.items()}
    if kind is list:
        return [_wire(item) for item in value]
    return serialize_properties(value)


def _struct(values: Mapping[str, Any]) -> struct_pb2.Struct:
    """`values` as the engine sends them: pulumi-policy's wire form (assets, secrets, unknowns; `_wire`) in a `Struct`.

    `Struct.update` builds the same message as `json_format.ParseDict` from the JSON values `serialize_properties`
    returns, without ParseDict's per-value bookkeeping (tests/policies/test_policies_pack.py compares both on
    every resource of the `dev` and `example` stacks); anything it refuses goes through ParseDict, which names
    what is wrong."""
    wire = _wire(dict(values))
    message = struct_pb2.Struct()
    try:
        message.update(wire)
    except (ValueError, TypeError, AttributeError):
        return json_format.ParseDict(wire, struct_pb2.Struct())
    return message


def _options(resource: CapturedResource) -> proto.AnalyzerResourceOptions:
    return proto.AnalyzerResourceOptions(parent=resource.parent or "")


def _provider(resource: CapturedResource, by_urn: Mapping[str, CapturedResource],
              cache: dict[str, proto.AnalyzerProviderResource | None] | None = None
              ) -> proto.AnalyzerProviderResource | None:
    """The resource's explicit provider as the engine describes it (built once per provider with a `cache`)."""
    if not resource.provider:
        return None
    if cache is not None and resource.provider in cache:
        return cache[resource.provider]
    provider = by_urn.get(resource.provider.rsplit("::", 1)[0])
    message = None if provider is None else proto.AnalyzerProviderResource(
        type=provider.type, properties=_struct(provider.inputs), urn=provider.urn, name=provider.name)
    if cache is not None:
        cache[resource.provider] = message
    return message


def analyze_request(resource: CapturedResource, by_urn: Mapping[str, CapturedResource],
                    providers: dict[str, proto.AnalyzerProviderResource | None] | None = None
                    ) -> proto.AnalyzeRequest:
    """What the engine sends for one resource: its inputs."""
    request = proto.AnalyzeRequest(type=resource.type, properties=_struct(resource.inputs), urn=resource.urn,
                                   name=resource.name, options=_options(resource))
    provider = _provider(resource, by_urn, providers)
    if provider is not None:
        request.provider.CopyFrom(provider)
    return request


def stack_resource_message(resource: CapturedResource, by_urn: Mapping[str, CapturedResource],
                           providers: dict[str, proto.AnalyzerProviderResource | None] | None = None
                           ) -> proto.AnalyzerResource:
    """What the engine sends for one resource at stack analysis: outputs, parent, dependencies."""
    props = dict(resource.outputs or resource.component_outputs or resource.inputs)
    if resource.custom and resource.id and "id" not in props:
        props["id"] = resource.id  # provider state carries the id, as the AWS provider's outputs do
    message = proto.AnalyzerResource(
        type=resource.type, properties=_struct(props), urn=resource.urn, name=resource.name,
        options=_options(resource), parent=resource.parent or "", dependencies=list(resource.dependencies))
    for key, urns in resource.property_dependencies.items():
        message.propertyDependencies[key].urns.extend(urns)
    provider = _provider(resource, by_urn, providers)
    if provider is not None:
        message.provider.CopyFrom(provider)
    return message


def _violation(diagnostic: Any, urn: str, typ: str, name: str) -> Violation:
    message = diagnostic.message
    description = diagnostic.description
    if description and message.startswith(description + "\n"):
        message = message[len(description) + 1:]
    return Violation(policy_name=diagnostic.policyName, enforcement_level=LEVELS.get(diagnostic.enforcementLevel,
                                                                                     "advisory"),
                     message=message, urn=urn, resource_type=typ, resource_name=name, description=description)


def load_config(path: str | Path) -> dict[str, Any]:
    """A `--policy-pack-config` file (JSON), as the CLI reads it; an empty file is no config."""
    text = Path(path).read_text()
    if not text.strip():
        return {}
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a policy pack config is a JSON object keyed by policy name")
    return data


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m serverless_patterns.policies.runner [-s dev] [-C .] [--policy-pack-config F]`: the pack, offline."""
    from serverless_patterns.offline import run_program

    parser = argparse.ArgumentParser(prog="python -m serverless_patterns.policies.runner",
                                     description="Run the policy pack over a stack offline (no CLI, no cloud).")
    parser.add_argument("--stack", "-s", default="dev")
    parser.add_argument("--project-dir", "-C", default=".")
    parser.add_argument("--policy-pack-config", dest="config", help="JSON config, as for pulumi --policy-pack-config")
    args = parser.parse_args(argv)
    config = load_config(args.config) if args.config else None
    analysis = run(run_program(args.project_dir, args.stack), config)
    for violation in analysis.violations:
        print(violation)
    for finding in analysis.suppressed:
        print(f"[suppressed] {finding.rule_id} on {finding.name!r}: {finding.reason}")
    print(f"{len(analysis.mandatory)} mandatory, {len(analysis.violations) - len(analysis.mandatory)} advisory, "
          f"{len(analysis.suppressed)} suppressed")
    return 1 if analysis.mandatory else 0


if __name__ == "__main__":
    sys.exit(main())
