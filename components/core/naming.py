"""Naming and tagging conventions shared by every component."""

from __future__ import annotations

import re
from collections.abc import Mapping

from serverless_patterns.core.args import Validator

#: The package part of every component's type token (`<package>:index:<ClassName>`).
PACKAGE = "serverless-patterns"

#: Tag keys the library sets itself; user tags may not override them.
MANAGED_TAG_KEYS = ("managed-by", "pattern", "component")

_TAG_KEY_RE = r"^[\w .:/=+\-@]{1,128}$"
_TAG_VALUE_RE = r"^[\w .:/=+\-@]{0,256}$"


def type_token(class_name: str) -> str:
    """Pulumi type token; `index` keeps the door open to multi-language component packages."""
    return f"{PACKAGE}:index:{class_name}"


def pattern_slug(class_name: str) -> str:
    """`GlacierRestore` -> `glacier-restore`: the value of the `pattern` tag."""
    return re.sub(r"(?<!^)(?=[A-Z])", "-", class_name).lower()


def child_name(component_name: str, suffix: str) -> str:
    """Logical name of a component's child; it carries the component name, as Pulumi's URN rules ask."""
    return f"{component_name}-{suffix}"


def standard_tags(component: str, name: str, user_tags: Mapping[str, str] | None = None) -> dict[str, str]:
    """Tags every taggable child gets: the user's tags plus the library's own."""
    v = Validator(component)
    tags: dict[str, str] = {}
    for key, value in (user_tags or {}).items():
        v.string("tags", key, pattern=_TAG_KEY_RE, allowed="tag keys of 1-128 letters, digits, spaces or _.:/=+-@")
        v.string(f"tags.{key}", value, pattern=_TAG_VALUE_RE, min_len=0,
                 allowed="tag values of 0-256 letters, digits, spaces or _.:/=+-@")
        if key in MANAGED_TAG_KEYS:
            v.fail("tags", key, "a key other than " + ", ".join(MANAGED_TAG_KEYS) + " (the library sets those)")
        tags[key] = value
    tags.update({"managed-by": "pulumi", "pattern": pattern_slug(component), "component": name})
    return tags
