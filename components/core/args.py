"""Argument validation shared by every component.

Components validate their TypedDict args when they are built, so a bad value fails
`pulumi preview` (and the offline plan) with one message naming the component, the
field, the value and what is allowed, instead of an AWS error minutes into `pulumi up`.
"""

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NoReturn, TypeVar, cast

import pulumi

from serverless_patterns.core.limits import ApiLimit

T = TypeVar("T")

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL_RE = re.compile(rf"^[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]+@{_LABEL}(?:\.{_LABEL})+$")
ACCOUNT_ID_RE = re.compile(r"^\d{12}$")
REGION_RE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")


class ComponentArgsError(ValueError):
    """The one error type for invalid component arguments and stack config."""

    def __init__(self, component: str, field: str, value: Any, allowed: str) -> None:
        self.component = component
        self.field = field
        self.value = value
        self.allowed = allowed
        super().__init__(f"{component}: invalid value for '{field}': {value!r}. Allowed: {allowed}.")


class Validator:
    """Checks plain (already known) argument values for one component.

    Values that are still `pulumi.Output`s cannot be inspected at construction time;
    every check lets them through unchanged, and AWS validates them at deploy time.
    """

    def __init__(self, component: str) -> None:
        self.component = component

    def fail(self, field: str, value: Any, allowed: str) -> NoReturn:
        raise ComponentArgsError(self.component, field, value, allowed)

    @staticmethod
    def is_unknown(value: Any) -> bool:
        return isinstance(value, pulumi.Output)

    def check(self, field: str, value: T, ok: Callable[[T], bool], allowed: str) -> T:
        if not self.is_unknown(value) and not ok(value):
            self.fail(field, value, allowed)
        return value

    def required(self, args: Mapping[str, Any], field: str, prefix: str = "") -> Any:
        if args.get(field) is None:
            self.fail(prefix + field, None, "a value is required")
        return args[field]

    def string(self, field: str, value: Any, *, pattern: str | None = None, allowed: str | None = None,
               min_len: int = 1, max_len: int = 1024) -> Any:
        def ok(v: Any) -> bool:
            return (isinstance(v, str) and min_len <= len(v) <= max_len
                    and (pattern is None or re.fullmatch(pattern, v) is not None))
        return self.check(field, value, ok, allowed or f"a string of {min_len} to {max_len} characters"
                          + (f" matching {pattern}" if pattern else ""))

    def integer(self, field: str, value: Any, *, minimum: int | None = None, maximum: int | None = None) -> Any:
        def ok(v: Any) -> bool:
            return (isinstance(v, int) and not isinstance(v, bool)
                    and (minimum is None or v >= minimum) and (maximum is None or v <= maximum))
        if minimum is not None and maximum is not None:
            allowed = f"a whole number from {minimum} to {maximum}"
        elif minimum is not None:
            allowed = f"a whole number of at least {minimum}"
        else:
            allowed = "a whole number"
        return self.check(field, value, ok, allowed)

    def integer_for(self, field: str, value: Any, *limits: ApiLimit) -> Any:
        """A whole number every API it reaches accepts: the intersection of their ranges, each named."""
        minimum = max(limit.minimum for limit in limits)
        maximum = min(limit.maximum for limit in limits)

        def ok(v: Any) -> bool:
            return isinstance(v, int) and not isinstance(v, bool) and minimum <= v <= maximum
        return self.check(field, value, ok, f"a whole number from {minimum} to {maximum}; it reaches "
                          + " and ".join(str(limit) for limit in limits))

    def number(self, field: str, value: Any, *, minimum: float | None = None, exclusive_minimum: float | None = None,
               maximum: float | None = None) -> Any:
        def ok(v: Any) -> bool:
            return (isinstance(v, (int, float)) and not isinstance(v, bool)
                    and (minimum is None or v >= minimum)
                    and (exclusive_minimum is None or v > exclusive_minimum)
                    and (maximum is None or v <= maximum))
        parts = []
        if minimum is not None:
            parts.append(f">= {minimum}")
        if exclusive_minimum is not None:
            parts.append(f"> {exclusive_minimum}")
        if maximum is not None:
            parts.append(f"<= {maximum}")
        return self.check(field, value, ok, "a number" + (" " + " and ".join(parts) if parts else ""))

    def boolean(self, field: str, value: Any) -> Any:
        return self.check(field, value, lambda v: isinstance(v, bool), "true or false")

    def choice(self, field: str, value: Any, choices: Iterable[Any]) -> Any:
        options = list(choices)
        return self.check(field, value, lambda v: v in options, "one of " + ", ".join(repr(c) for c in options))

    def email(self, field: str, value: Any) -> Any:
        return self.check(field, value, lambda v: isinstance(v, str) and EMAIL_RE.fullmatch(v) is not None,
                          "an email address such as 'team@example.org'")

    def account_id(self, field: str, value: Any) -> Any:
        return self.check(field, value, lambda v: isinstance(v, str) and ACCOUNT_ID_RE.fullmatch(v) is not None,
                          "a 12-digit AWS account id as a string, e.g. '111111111111'")

    def region(self, field: str, value: Any) -> Any:
        return self.check(field, value, lambda v: isinstance(v, str) and REGION_RE.fullmatch(v) is not None,
                          "an AWS Region code such as 'eu-west-1'")

    def list_of(self, field: str, value: Any, *, min_items: int = 0, max_items: int | None = None,
                unique: bool = False) -> list[Any]:
        if self.is_unknown(value):
            return cast(list[Any], value)
        if not isinstance(value, (list, tuple)):
            self.fail(field, value, "a list")
        if len(value) < min_items or (max_items is not None and len(value) > max_items):
            bound = f"at most {max_items}" if max_items is not None else "any number of"
            self.fail(field, value, f"a list of at least {min_items} and {bound} items")
        if unique:
            seen: set[Any] = set()
            for item in value:
                if not self.is_unknown(item) and item in seen:
                    self.fail(field, item, "unique items (this one appears more than once)")
                seen.add(item)
        return list(value)

    def mapping(self, field: str, value: Any, *, known: Iterable[str] | None = None) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            self.fail(field, value, "an object (a mapping of keys to values)")
        if known is not None:
            allowed = sorted(known)
            for key in value:
                if key not in allowed:
                    self.fail(f"{field}.{key}" if field else key, value[key],
                              "no such key; known keys are " + ", ".join(allowed))
        return value
