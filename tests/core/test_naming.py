import pytest

from serverless_patterns.core.args import ComponentArgsError
from serverless_patterns.core.naming import child_name, pattern_slug, standard_tags, type_token


def test_type_token_uses_index_module() -> None:
    assert type_token("GlacierRestore") == "serverless-patterns:index:GlacierRestore"


def test_pattern_slug_and_child_names() -> None:
    assert pattern_slug("MultiTenantApi") == "multi-tenant-api"
    assert child_name("orders", "table") == "orders-table"


def test_standard_tags_merge_user_tags_with_managed_ones() -> None:
    tags = standard_tags("GlacierRestore", "archive", {"team": "research-it"})
    assert tags == {"team": "research-it", "managed-by": "pulumi", "pattern": "glacier-restore",
                    "component": "archive"}


@pytest.mark.parametrize("tags", [{"pattern": "x"}, {"bad key!": "x"}, {"k": "v" * 300}, {"": "v"}])
def test_bad_or_reserved_tags_are_refused(tags: dict) -> None:
    with pytest.raises(ComponentArgsError):
        standard_tags("GlacierRestore", "archive", tags)
