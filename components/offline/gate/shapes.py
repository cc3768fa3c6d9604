"""A value against a botocore shape: member names at every depth, required members, enums, ranges, types.

Works on the raw service model (see `sources`). Values that are only known at run time (keys ending in
`.$`, JSONata `{% %}` strings) are checked for their name only.
"""

import re
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

from serverless_patterns.offline.gate.sources import POSSIBLE_VALUES

#: (path, value, rule)
Problem = tuple[str, Any, str]


def is_dynamic(value: Any) -> bool:
    return isinstance(value, str) and value.strip().startswith("{%")


def member_name(members: Mapping[str, Any], key: str) -> str | None:
    """The model's member for `key`: the same name, or the same with the first letter's case changed.

    Step Functions writes API members in PascalCase; a few APIs (CloudWatch Logs) model them camelCase.
    """
    if key in members:
        return key
    for candidate in (key[:1].lower() + key[1:], key[:1].upper() + key[1:]):
        if candidate in members:
            return candidate
    return None


def check(model: Mapping[str, Any], shape_name: str, value: Any, path: str, *,
          json_members: frozenset[str] = frozenset()) -> Iterator[Problem]:
    """Every way `value` breaks the shape `shape_name` of `model` (`json_members`: string members that also
    accept JSON, because Step Functions serialises them, named by their path without list indexes)."""
    shape = model["shapes"].get(shape_name)
    if shape is None or is_dynamic(value):
        return
    kind = shape.get("type")
    if kind == "structure":
        yield from _structure(model, shape_name, shape, value, path, json_members)
    elif kind == "list":
        if not isinstance(value, list):
            yield path, value, f"must be a list ({shape_name})"
            return
        yield from _length(shape, len(value), path, value, "items")
        for index, item in enumerate(value):
            yield from check(model, shape["member"]["shape"], item, f"{path}[{index}]", json_members=json_members)
    elif kind == "map":
        if not isinstance(value, Mapping):
            yield path, value, f"must be an object ({shape_name})"
            return
        yield from _length(shape, len(value), path, value, "entries")
        for key, item in value.items():
            clean = str(key)[:-2] if str(key).endswith(".$") else str(key)
            yield from check(model, shape["key"]["shape"], clean, f"{path}.{key}", json_members=json_members)
            if not str(key).endswith(".$"):
                yield from check(model, shape["value"]["shape"], item, f"{path}.{key}", json_members=json_members)
    elif kind == "string":
        if not isinstance(value, str):
            if _unindexed(path) in json_members and isinstance(value, Mapping | list):
                return  # Step Functions serialises JSON for this member
            yield path, value, f"must be a string ({shape_name})"
            return
        enum = shape.get("enum")
        if enum and value not in enum:
            yield path, value, f"must be one of {', '.join(enum)} ({shape_name})"
        yield from _length(shape, len(value), path, value, "characters")
        pattern = _pattern(shape.get("pattern"))
        if pattern is not None and not pattern.search(value):
            yield path, value, f"must match the pattern {pattern.pattern} ({shape_name})"
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, float) and value.is_integer())):
            yield path, value, f"must be an integer ({shape_name})"
            return
        yield from _range(shape, value, path)
        documented = documented_values(shape)
        if documented and int(value) not in documented:
            yield path, value, (f"must be one of {', '.join(map(str, sorted(documented)))} ({shape_name}, "
                                f"as its model documents)")
    elif kind in ("float", "double"):
        if not isinstance(value, int | float) or isinstance(value, bool):
            yield path, value, f"must be a number ({shape_name})"
            return
        yield from _range(shape, value, path)
    elif kind == "boolean" and not isinstance(value, bool):
        yield path, value, f"must be true or false ({shape_name})"


def _structure(model: Mapping[str, Any], shape_name: str, shape: Mapping[str, Any], value: Any, path: str,
               json_members: frozenset[str]) -> Iterator[Problem]:
    if not isinstance(value, Mapping):
        yield path, value, f"must be an object ({shape_name})"
        return
    members = shape.get("members", {})
    given: set[str] = set()
    for key, item in value.items():
        dynamic = str(key).endswith(".$")
        clean = str(key)[:-2] if dynamic else str(key)
        name = member_name(members, clean)
        where = f"{path}.{clean}" if path else clean
        if name is None:
            yield where, item, (f"{shape_name} has no member {clean!r} (members: {', '.join(sorted(members))})")
            continue
        given.add(name)
        if not dynamic:
            yield from check(model, members[name]["shape"], item, where, json_members=json_members)
    for required in shape.get("required", []):
        if required not in given:
            yield path or "(parameters)", None, f"{shape_name} requires {required!r}"
    if shape.get("union") and len(given) > 1:
        yield path, sorted(given), f"{shape_name} takes exactly one of its members"


@cache
def _pattern(text: str | None) -> re.Pattern[str] | None:
    """A shape's `pattern`, where Python's `re` reads it the same way (Java-only syntax such as `\\p{L}` is
    skipped). Smithy patterns are not implicitly anchored (Smithy IDL, "pattern trait":
    https://smithy.io/2.0/spec/constraint-traits.html#pattern-trait), so they are searched, not fully matched:
    a model's own `^...$` makes the check exact."""
    if not text:
        return None
    try:
        return re.compile(text)
    except re.error:
        return None


def documented_values(shape: Mapping[str, Any]) -> frozenset[int]:
    """Integer values a shape's own documentation lists as the only possible ones (e.g. log retention days)."""
    match = POSSIBLE_VALUES.search(str(shape.get("documentation", "")))
    return frozenset(int(n) for n in re.findall(r"\d+", match.group(1))) if match else frozenset()


def _length(shape: Mapping[str, Any], size: int, path: str, value: Any, unit: str) -> Iterator[Problem]:
    low, high = shape.get("min"), shape.get("max")
    if low is not None and size < low:
        yield path, value, f"needs at least {low} {unit}"
    if high is not None and size > high:
        yield path, value, f"allows at most {high} {unit}"


def _range(shape: Mapping[str, Any], number: float, path: str) -> Iterator[Problem]:
    low, high = shape.get("min"), shape.get("max")
    if low is not None and number < low:
        yield path, number, f"must be at least {low}"
    if high is not None and number > high:
        yield path, number, f"must be at most {high}"


def _unindexed(path: str) -> str:
    out, depth = [], 0
    for char in path:
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        elif depth == 0:
            out.append(char)
    return "".join(out)
