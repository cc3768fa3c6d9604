"""Identifiers are validated with full matches: `$` also matches before a trailing newline.

`re.match(r"^\\d{12}$", "111111111111\\n")` succeeds (https://docs.python.org/3/library/re.html:
"'$' matches at the end of the string or just before the newline at the end of the string"),
so an anchored pattern checked with `match`/`search` lets "111111111111\\n" through. This test
reads every module we ship and refuses `match`/`search` with a pattern that ends in `$`.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from serverless_patterns.core.args import Validator

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ["components", "lambdas", "policies"]


def anchored(node: ast.expr | None) -> bool:
    """A pattern literal (plain or f-string) that ends with an unescaped `$`."""
    if isinstance(node, ast.JoinedStr) and node.values:
        node = node.values[-1]
    return (isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.endswith("$")
            and not node.value.endswith("\\$"))


def compiled_names(tree: ast.AST) -> set[str]:
    """Names bound to `re.compile(<anchored pattern>)`, also as `NAME = A if c else B`."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Attribute) and node.value.func.attr == "compile"
                and node.value.args and anchored(node.value.args[0])):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def partial_matches(path: Path, compiled: set[str] | None = None, tree: ast.AST | None = None) -> list[str]:
    """`match`/`search` calls with an anchored pattern; `compiled` adds names compiled in other modules
    (`tree`: the module already parsed)."""
    tree = tree or ast.parse(path.read_text())
    compiled = compiled_names(tree) | (compiled or set())
    for node in ast.walk(tree):  # a local alias of an anchored pattern (`pattern = A if c else B`)
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.IfExp)
                and {getattr(node.value.body, "id", None), getattr(node.value.orelse, "id", None)} & compiled):
            compiled |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("match", "search") and isinstance(node.func.value, ast.Name)):
            continue
        owner = node.func.value.id
        if (owner == "re" and node.args and anchored(node.args[0])) or owner in compiled:
            found.append(f"{path}:{node.lineno} {owner}.{node.func.attr}")
    return found


def test_no_anchored_pattern_is_checked_with_match_or_search() -> None:
    trees = {p: ast.parse(p.read_text()) for folder in SHIPPED for p in (ROOT / folder).rglob("*.py")}
    assert len(trees) > 20
    everywhere = {name for tree in trees.values() for name in compiled_names(tree)}
    assert [hit for path, tree in trees.items() for hit in partial_matches(path, everywhere, tree)] == []


def test_the_scan_finds_a_partial_match(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text('import re\nA = re.compile(r"^\\d{12}$")\nA.match(x)\nre.match(r"^a$", y)\n'
                      'B = re.compile(rf"^{x}$")\np = B if c else A\np.search(z)\nOTHER.match(w)\n')
    hits = [hit.rsplit(" ", 1)[1] for hit in partial_matches(source, {"OTHER"})]
    assert sorted(hits) == ["A.match", "OTHER.match", "p.search", "re.match"]


def test_identifiers_with_a_trailing_newline_are_refused() -> None:
    v = Validator("C")
    for check, good in ((v.account_id, "111111111111"), (v.region, "eu-west-1"), (v.email, "a@example.org")):
        assert check("f", good) == good
        try:
            check("f", good + "\n")
        except ValueError:
            continue
        raise AssertionError(f"{good!r} + newline passed {check.__name__}")
    assert re.match(r"^\d{12}$", "111111111111\n")  # why: `$` matches before a final newline
