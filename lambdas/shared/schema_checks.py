"""JSON Schema checks shared by handlers: validators compiled once, strings trimmed, the first error named.

A function's archive holds this module next to its handler when its code imports it (`lambdas/shared/`,
`serverless_patterns.core.packaging.shared_files`). The schemas stay with the handlers that own them, as data
(JSON Schema draft 7); fastjsonschema turns each into a Python validator, the library Powertools' own Validation
utility is built on (https://docs.powertools.aws.dev/lambda/python/latest/utilities/validation/). Lambda gets it
from the Powertools layer, built with every extra (`aws-lambda-powertools[all]`). Why not pydantic: importing it
costs about 0.4x a bare `import boto3` on each cold start (README, Benchmarks).

Each handler compiles its schemas once, at import (`compiled`), rather than calling Powertools' `validate()`,
which calls `fastjsonschema.validate` and so generates and compiles the validator's code again on every request.
fastjsonschema stops at the first error, so one error is reported: `field_and_text` names it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import fastjsonschema

DRAFT = "http://json-schema.org/draft-07/schema#"

Validator = Callable[[Any], Any]
#: What a validator raises for data that does not match its schema.
Invalid = fastjsonschema.JsonSchemaValueException


def compiled(schema: dict[str, Any]) -> Validator:
    """The validator of `schema`, generated once (missing fields with a `default` are filled in)."""
    return fastjsonschema.compile(schema)  # type: ignore[no-any-return]


def stripped(value: Any) -> Any:
    """`value` with every string in it trimmed of surrounding whitespace (in lists and objects too), so a
    blank string meets the schema's `minLength` as the empty string it is."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list):
        return [stripped(item) for item in value]
    if isinstance(value, dict):
        return {key: stripped(item) for key, item in value.items()}
    return value


def field_and_text(error: Invalid) -> tuple[list[str], str]:
    """The path of the invalid field below the document (empty: the document itself) and what is wrong with it,
    in fastjsonschema's words without the field's name."""
    path = [str(part) for part in (error.path or ["data"])[1:]]
    text = error.message.removeprefix(error.name or "data").strip()
    if error.rule == "oneOf" and isinstance(error.definition, dict):
        # fastjsonschema says only how many branches matched: name the fields the branches require.
        names = [name for branch in error.definition.get("oneOf", []) for name in branch.get("required", [])]
        path, text = [" or ".join(names)], "give exactly one"
    return path, text
