import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from serverless_patterns.offline import plan as plan_module
from serverless_patterns.offline.plan import EXIT_FAILED, EXIT_INVALID, EXIT_OK, EXIT_VIOLATIONS, main

FIXTURE = Path(__file__).parent / "fixtures" / "program"


@dataclass
class FakeViolation:
    policy_name: str
    enforcement_level: str
    message: str
    urn: str = "urn:x"
    resource_type: str = "aws:iam/rolePolicy:RolePolicy"
    resource_name: str = "r"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["-C", str(FIXTURE), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_plan_prints_tree_counts_outputs(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--no-policies")
    assert code == EXIT_OK
    assert "≡ serverless-patterns:index:PythonFunction  echo-remote" in out
    assert "        + aws:lambda/function:Function  echo-remote-fn" in out
    assert "   2  aws:lambda/function:Function" in out
    assert "homeArn: \"arn:aws:lambda:eu-central-1:444444444444:function:echo-fn-" in out


def test_json_shape(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--json", "--no-policies")
    assert code == EXIT_OK
    data = json.loads(out)
    assert set(data) == {"project", "stack", "ok", "summary", "tree", "counts", "outputs", "policy", "gate"}
    assert data["ok"] is True and data["stack"] == "dev" and data["project"] == "fixture"
    assert data["summary"]["resources"] == sum(data["counts"].values())
    function = next(n for n in data["tree"] if n["name"] == "echo")
    assert {c["name"] for c in function["children"]} == {"echo-logs", "echo-role", "echo-policy", "echo-fn"}
    assert data["policy"] == {"ran": False, "mandatory": 0, "advisory": 0, "violations": []}


def test_invalid_component_args_exit_2_without_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--stack", "other", "--no-policies")
    assert code == EXIT_INVALID
    assert err.strip() == ("error: PythonFunction: invalid value for 'memory_mb': 5. "
                           "Allowed: a whole number from 128 to 10240.")
    assert "Traceback" not in err and out == ""


def test_invalid_args_found_inside_an_apply_exit_2_with_one_line(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    # ECR's repository policy limit is only known once the policy text is: the check runs in an apply, and
    # Pulumi wraps what an apply raises in ValueErrors of its own.
    (tmp_path / "Pulumi.yaml").write_text("name: many-consumers\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  aws:region: eu-west-1\n")
    (tmp_path / "__main__.py").write_text(
        "from serverless_patterns.cross_account_ecr import CrossAccountEcr\n"
        "ids = [str(222222222222 + i) for i in range(120)]\n"
        "CrossAccountEcr('ecr', {'repository_name': 'shared/hello', 'consumer_account_ids': ids})\n")
    assert main(["-C", str(tmp_path), "--no-policies"]) == EXIT_INVALID
    err = capsys.readouterr().err
    assert err.startswith("error: CrossAccountEcr: invalid value for 'consumer_account_ids': '120 accounts")
    assert len(err.strip().splitlines()) == 1 and "While processing" not in err


def test_unknown_stack_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--stack", "prod")
    assert code == EXIT_INVALID and "no such stack config" in err


def test_program_failure_exit_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: broken\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    (tmp_path / "__main__.py").write_text("raise RuntimeError('boom')\n")
    assert main(["-C", str(tmp_path)]) == EXIT_FAILED
    err = capsys.readouterr().err
    assert "RuntimeError: boom" in err and "Traceback" not in err


def test_mandatory_violations_exit_1(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    violations = [FakeViolation("iam-no-wildcard-actions", "mandatory", "s3:* on *"),
                  FakeViolation("lambda-reserved-concurrency", "advisory", "consider a limit")]
    monkeypatch.setattr(plan_module, "run_policies", lambda stack, config=None: (True, violations))
    code, out, _ = run(capsys)
    assert code == EXIT_VIOLATIONS
    assert "[mandatory] iam-no-wildcard-actions: aws:iam/rolePolicy:RolePolicy r" in out
    assert "1 mandatory and 1 advisory violations" in out


def test_advisory_violations_alone_pass(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(plan_module, "run_policies",
                        lambda stack, config=None: (True, [FakeViolation("x", "advisory", "hint")]))
    code, out, _ = run(capsys, "--json")
    assert code == EXIT_OK
    assert json.loads(out)["policy"]["advisory"] == 1


def test_policy_pack_config_reaches_the_pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    seen = []
    monkeypatch.setattr(plan_module, "run_policies", lambda stack, config=None: (seen.append(config), (True, []))[1])
    config = tmp_path / "policy-config.json"
    config.write_text('{"lambda-tracing-active": "advisory"}')
    code, _, _ = run(capsys, "--policy-pack-config", str(config))
    assert code == EXIT_OK and seen == [{"lambda-tracing-active": "advisory"}]


def test_unreadable_policy_pack_config_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "policy-config.json"
    config.write_text("{not json")
    code, _, err = run(capsys, "--policy-pack-config", str(config))
    assert code == EXIT_INVALID and "not a usable policy pack config" in err


def test_a_broken_stack_fails_the_plan_with_the_rule_ids(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["-C", str(Path(__file__).parent / "fixtures" / "broken"), "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == EXIT_VIOLATIONS and data["ok"] is False
    found = {(v["policy_name"], v["resource_name"]) for v in data["policy"]["violations"]
             if v["enforcement_level"] == "mandatory"}
    assert found == {("iam-no-wildcard-actions", "app-policy"), ("iam-no-wildcard-resources", "app-policy"),
                     ("apigateway-method-authorized", "open")}


def test_tree_names_explicit_providers(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "--no-policies")
    assert "+ aws:lambda/function:Function  echo-remote-fn  (provider other-account)" in out
    assert "+ aws:lambda/function:Function  echo-fn\n" in out


#: Runs the plan as `python -m` does and reports whether the cyclic collector was on when the Pulumi SDK's
#: package began to load (a finder ahead of the others sees every import first).
_PROBE = """
import gc, json, runpy, sys

seen = {}

class Probe:
    def find_spec(self, name, path=None, target=None):
        if name == "pulumi" and "pulumi" not in seen:
            seen["pulumi"] = gc.isenabled()
        return None

sys.meta_path.insert(0, Probe())
sys.argv = ["plan", "--help"]
try:
    runpy.run_module("serverless_patterns.offline.plan", run_name="__main__", alter_sys=True)
except SystemExit:
    pass
print(json.dumps(seen))
"""


def test_as_a_process_the_plan_loads_the_sdk_with_the_collector_off() -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(done.stdout.splitlines()[-1]) == {"pulumi": False}


def test_imported_as_a_library_the_plan_leaves_the_collector_alone(capsys: pytest.CaptureFixture[str]) -> None:
    import gc

    main(["-C", str(FIXTURE), "--no-policies", "--no-gate", "--json"])
    assert gc.isenabled()  # as the test process had it, after importing the plan module and running it
