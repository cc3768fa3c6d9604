"""JSON Schema checks shared by handlers: validators generated once (at import or on first use), strings trimmed,
the first error named.

A function's archive holds this module next to its handler when its code imports it (`lambdas/shared/`,
`serverless_patterns.core.packaging.shared_files`). The schemas stay with the handlers that own them, as data
(JSON Schema draft 7); fastjsonschema turns each into a Python validator, the library Powertools' own Validation
utility is built on (https://docs.powertools.aws.dev/lambda/python/latest/utilities/validation/). Lambda gets it
from the Powertools layer, built with every extra (`aws-lambda-powertools[all]`). Why not pydantic: importing it
costs about 0.4x a bare `import boto3` on each cold start (README, Benchmarks).

Each validator is generated once (`compiled`), rather than on every request as Powertools' `validate()` does (it
calls `fastjsonschema.validate`): at import for a handler that checks every request it gets (the cost is the same
either way, and init is where it belongs), or on first use for a route that not every request takes, so a cold
start that never checks a body (a listing, a usage query) neither imports fastjsonschema nor generates code.
fastjsonschema stops at the first error, so one error is reported, as `Invalid`.
"""

from __future__ import annotations

from typing import Any

DRAFT = "http://json-schema.org/draft-07/schema#"


class Invalid(ValueError):
    """Data its schema refuses: `path`, the first invalid field below the document (empty: the document itself),
    and `text`, what is wrong with it in fastjsonschema's words without the field's name."""

    def __init__(self, path: list[str], text: str) -> None:
        super().__init__(f"{'.'.join(path) or 'data'}: {text}")
        self.path, self.text = path, text


class Validator:
    """Checks data against one schema and returns it with missing fields that have a `default` filled in, or
    raises `Invalid`. Its code is generated once: when it is made, or on its first check (`on_first_use`)."""

    def __init__(self, schema: dict[str, Any], *, on_first_use: bool = False) -> None:
        self.schema = schema
        self._check: Any = None
        if not on_first_use:
            self._generate()

    def _generate(self) -> Any:
        import fastjsonschema

        try:
            self._check = fastjsonschema.compile(self.schema)
        except fastjsonschema.JsonSchemaDefinitionException as error:
            # A defect of the schema, not of the data: never answered as the client's bad request.
            raise RuntimeError(f"the schema cannot be compiled: {error}") from error
        return self._check

    def __call__(self, data: Any) -> Any:
        import fastjsonschema

        check = self._check or self._generate()
        try:
            return check(data)
        except fastjsonschema.JsonSchemaValueException as error:
            raise Invalid(*_field_and_text(error)) from None


def compiled(schema: dict[str, Any], *, on_first_use: bool = False) -> Validator:
    """The validator of `schema`, its code generated now or, with `on_first_use`, on its first check (for a
    route not every request takes: a cold start that never checks pays nothing)."""
    return Validator(schema, on_first_use=on_first_use)


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


def _field_and_text(error: Any) -> tuple[list[str], str]:
    """The path of fastjsonschema's invalid field below the document and what is wrong with it, in its words
    without the field's name."""
    path = [str(part) for part in (error.path or ["data"])[1:]]
    text = error.message.removeprefix(error.name or "data").strip()
    if error.rule == "oneOf" and isinstance(error.definition, dict):
        # fastjsonschema says only how many branches matched: name the fields the branches require.
        names = [name for branch in error.definition.get("oneOf", []) for name in branch.get("required", [])]
        path, text = [" or ".join(names)], "give exactly one"
    return path, text
