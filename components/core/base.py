"""The base every pattern component derives from: one place for the conventions.

- type token `serverless-patterns:index:<ClassName>`;
- children are created with `self.child_opts()` (so `parent=self`, and the providers given
  to the component, e.g. `providers={"aws": account_b}`, flow to every child; so does the
  component's `depends_on`, which Pulumi itself does not pass down);
- one tag set (`self.tags`) for every taggable child;
- `self.env`: account, Region and partition of the component's own provider, for ARNs;
- outputs are typed class attributes with docstrings (`api_url: pulumi.Output[str]`), the surface the
  schema of the component package is inferred from; `self.finish(outputs)` sets them from the
  camelCase mapping the component builds, keeps that mapping as `self.outputs` (what a program
  exports) and calls `register_outputs` last.
"""

import inspect
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, get_args, get_origin

import pulumi
import pulumi_aws as aws
from pulumi.provider.experimental.util import camel_case

from serverless_patterns.core.args import Validator
from serverless_patterns.core.naming import child_name, standard_tags, type_token

T = TypeVar("T")


@dataclass(frozen=True)
class AwsEnv:
    """Account, Region and partition seen through a given provider."""

    account_id: pulumi.Output[str]
    region: pulumi.Output[str]
    partition: pulumi.Output[str]
    dns_suffix: pulumi.Output[str]
    _shared: dict[Any, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def of(cls, resource: pulumi.Resource, provider: aws.Provider | None = None) -> "AwsEnv":
        opts = pulumi.InvokeOutputOptions(parent=resource, provider=provider)
        identity = aws.get_caller_identity_output(opts=opts)
        region = aws.get_region_output(opts=opts)
        partition = aws.get_partition_output(opts=opts)
        return cls(identity.account_id, region.region, partition.partition, partition.dns_suffix)

    def once(self, key: Hashable, make: Callable[[], T]) -> T:
        """`make()` the first time `key` is asked for through this provider, the same value after that (for
        what only the provider decides, such as a data source's answer)."""
        if key not in self._shared:
            self._shared[key] = make()
        value: T = self._shared[key]
        return value

    def arn(self, service: str, resource: pulumi.Input[str], *, region: bool = True,
            account: bool = True) -> pulumi.Output[str]:
        """An ARN in this account and Region (`region=False`/`account=False` for global services like IAM, S3)."""
        return pulumi.Output.concat("arn:", self.partition, ":", service, ":", self.region if region else "", ":",
                                    self.account_id if account else "", ":", resource)


#: The invoke whose provider `AwsEnv.of` resolves (all three of its invokes are `aws:index` functions).
_AWS_INVOKE = "aws:index/getCallerIdentity:getCallerIdentity"


class PatternComponent(pulumi.ComponentResource):
    """Base class of the pattern components (and of the shared `PythonFunction`)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # The package schema takes descriptions from `__doc__` as is: dedent them, or Markdown shows code blocks.
        super().__init_subclass__(**kwargs)
        if cls.__doc__:
            cls.__doc__ = inspect.cleandoc(cls.__doc__)

    def __init__(self, name: str, tags: Mapping[str, str] | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        cls = type(self).__name__
        super().__init__(type_token(cls), name, None, opts)
        self.component_name = name
        self.validator = Validator(cls)
        self.tags = standard_tags(cls, name, tags)
        self._env: AwsEnv | None = None
        parent = opts.parent if opts is not None else None
        self._parent_pattern = parent if isinstance(parent, PatternComponent) else None
        # Pulumi does not pass a component's depends_on to its children; the library does, so
        # `depends_on=[x]` on a component means "build nothing of it before x".
        deps = opts.depends_on if opts is not None else None
        self._inherited_depends_on: list[Any] = [] if deps is None else (
            list(deps) if isinstance(deps, (list, tuple)) else [deps])

    @property
    def env(self) -> AwsEnv:
        """Account, Region and partition of this component's AWS provider. A component inside another pattern
        component that reaches AWS through the same provider shares that one's: the same three invokes would
        answer the same (a plan of `dev` makes 48 fewer, and so does every `pulumi preview` and `up`)."""
        if self._env is None:
            parent = self._parent_pattern
            if parent is not None and parent.get_provider(_AWS_INVOKE) is self.get_provider(_AWS_INVOKE):
                self._env = parent.env
            else:
                self._env = AwsEnv.of(self)
        return self._env

    def child_name(self, suffix: str) -> str:
        return child_name(self.component_name, suffix)

    def child_opts(self, **kwargs: Any) -> pulumi.ResourceOptions:
        """Options for a child: parented here, and depending on whatever the component depends on."""
        extra = kwargs.pop("depends_on", None)
        extra = [] if extra is None else (list(extra) if isinstance(extra, (list, tuple)) else [extra])
        depends_on = [*self._inherited_depends_on, *extra]
        return pulumi.ResourceOptions(parent=self, depends_on=depends_on or None, **kwargs)

    def finish(self, outputs: Mapping[str, Any]) -> None:
        """Publish the outputs (last step of `__init__`): as the typed attributes the class declares, and as
        `self.outputs`, the camelCase mapping the program exports. Keys and declarations must match."""
        declared = declared_outputs(type(self))
        unknown = sorted(set(outputs) - set(declared))
        missing = sorted(k for k, (_, optional) in declared.items() if k not in outputs and not optional)
        if unknown or missing:
            raise TypeError(f"{type(self).__name__}: outputs {unknown} are not declared as class attributes; "
                            f"declared outputs {missing} were not given")
        for key, (attr, _) in declared.items():
            value = outputs.get(key)
            current = getattr(self, attr, None)
            if current is not None and current is not value:
                raise TypeError(f"{type(self).__name__}.{attr} already holds another value than output '{key}'")
            setattr(self, attr, value)
        self.outputs: dict[str, Any] = dict(outputs)
        self.register_outputs(self.outputs)


def declared_outputs(cls: type) -> dict[str, tuple[str, bool]]:
    """camelCase output name -> (attribute, optional), from the public class annotations of `cls` and its
    bases below `ComponentResource`: the same annotations Pulumi's analyzer turns into the schema's outputs."""
    found: dict[str, tuple[str, bool]] = {}
    for klass in reversed(cls.__mro__):
        if klass in (object, pulumi.Resource, pulumi.ComponentResource):
            continue
        for attr, annotation in inspect.get_annotations(klass).items():
            if not attr.startswith("_"):
                optional = get_origin(annotation) is not None and type(None) in get_args(annotation)
                found[camel_case(attr)] = (attr, optional)
    return found
