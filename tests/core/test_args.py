import pytest

from serverless_patterns.core.args import ComponentArgsError, Validator

v = Validator("Thing")


def test_error_names_component_field_value_and_allowed() -> None:
    with pytest.raises(ComponentArgsError) as raised:
        v.integer("days", 0, minimum=1, maximum=30)
    error = raised.value
    assert (error.component, error.field, error.value) == ("Thing", "days", 0)
    assert str(error) == "Thing: invalid value for 'days': 0. Allowed: a whole number from 1 to 30."


@pytest.mark.parametrize(("method", "value", "kwargs"), [
    ("integer", True, {}), ("integer", "3", {}), ("number", -1, {"minimum": 0}),
    ("number", 0, {"exclusive_minimum": 0}), ("boolean", "yes", {}), ("email", "not-an-email", {}),
    ("email", "a@b", {}), ("account_id", "12345", {}), ("account_id", 111111111111, {}),
    ("region", "europe", {}), ("string", "", {}), ("string", "ab", {"pattern": r"\d+"}),
])
def test_bad_values_are_rejected(method: str, value: object, kwargs: dict) -> None:
    with pytest.raises(ComponentArgsError):
        getattr(v, method)("f", value, **kwargs)


@pytest.mark.parametrize(("method", "value"), [
    ("email", "restores@research.example.org"), ("account_id", "111111111111"), ("region", "eu-west-1"),
    ("region", "us-gov-west-1"), ("integer", 7), ("boolean", False),
])
def test_good_values_pass_through(method: str, value: object) -> None:
    assert getattr(v, method)("f", value) == value


def test_choice_lists_the_options() -> None:
    with pytest.raises(ComponentArgsError, match="one of 'Standard', 'Bulk'"):
        v.choice("tier", "Expedited", ["Standard", "Bulk"])


def test_list_uniqueness_and_bounds() -> None:
    with pytest.raises(ComponentArgsError, match="appears more than once"):
        v.list_of("tenants", ["a", "a"], unique=True)
    with pytest.raises(ComponentArgsError, match="at least 1"):
        v.list_of("tenants", [], min_items=1)
    assert v.list_of("tenants", ("a", "b"), unique=True) == ["a", "b"]


def test_mapping_rejects_unknown_keys_with_the_known_ones() -> None:
    with pytest.raises(ComponentArgsError) as raised:
        v.mapping("settings", {"colour": 1}, known=["size", "shape"])
    assert raised.value.field == "settings.colour"
    assert "shape, size" in raised.value.allowed


def test_outputs_are_not_inspected() -> None:
    import pulumi

    unknown = pulumi.Output.from_input(0)
    assert v.integer("days", unknown, minimum=1) is unknown
