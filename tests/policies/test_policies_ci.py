"""The documented CI workflow and the parity table say what the repository does."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from serverless_patterns.policies.core import RULES
from serverless_patterns.policies.pack import RULE_IDS

ROOT = Path(__file__).resolve().parents[2]
_YAML = re.compile(r"```yaml\n(# \.github/workflows/policy\.yml\n.*?)```", re.S)


def _workflows() -> list[str]:
    blocks = []
    for readme in (ROOT / "README.md", ROOT / "policies" / "README.md"):
        found = _YAML.findall(readme.read_text())
        assert len(found) == 1, readme
        blocks += found
    return blocks


def test_both_readmes_show_the_same_workflow() -> None:
    top, pack = _workflows()
    assert top == pack


def _run_lines(job: dict[str, Any]) -> list[str]:
    return [step["run"] for step in job["steps"] if "run" in step]


def test_the_pull_request_gate_is_the_offline_plan_without_credentials() -> None:
    workflow = yaml.safe_load(_workflows()[0])
    assert "pull_request" in workflow[True]  # YAML 1.1 reads the `on` key as True
    gate = workflow["jobs"]["offline-plan"]
    assert "if" not in gate and _run_lines(gate) == ["make plan"]
    assert "secrets." not in yaml.safe_dump(gate) and "id-token" not in yaml.safe_dump(gate)
    plan = re.search(r"^plan: .*\n\t(.*)$", (ROOT / "Makefile").read_text(), re.M)
    assert plan and plan.group(1) == "$(BIN)/python -m serverless_patterns.offline.plan --stack $(STACK)"
    assert (ROOT / "components" / "offline" / "plan.py").exists()


def test_the_preview_job_runs_only_on_trusted_branches_with_the_pack() -> None:
    job = yaml.safe_load(_workflows()[0])["jobs"]["preview"]
    assert job["needs"] == "offline-plan"
    assert job["if"] == ("github.event_name == 'push' || github.event.pull_request.head.repo.full_name == "
                         "github.repository")
    [preview] = [line for line in _run_lines(job) if "pulumi preview" in line]
    assert "--policy-pack policies" in preview and "--stack dev" in preview
    assert (ROOT / "policies" / "PulumiPolicy.yaml").exists() and (ROOT / "Pulumi.dev.yaml").exists()


def test_the_parity_table_has_one_honest_row_per_rule() -> None:
    text = (ROOT / "policies" / "README.md").read_text()
    rows = re.findall(r"^\| `([a-z0-9-]+)` \| (resource|stack) \| (.*) \| (.*) \|$", text, re.M)
    assert sorted(r[0] for r in rows) == sorted(RULE_IDS)  # each rule once
    for rule_id, kind, _, cdk_nag in rows:
        info = RULES[rule_id]
        assert kind == info.kind, rule_id
        ids = set(re.findall(r"\b([A-Z]{1,4}\d{1,2})\b", cdk_nag))
        expected = set(re.findall(r"AwsSolutions-([A-Z]{1,4}\d{1,2})", info.cdk_nag))
        assert ids == expected, (rule_id, ids, expected)
