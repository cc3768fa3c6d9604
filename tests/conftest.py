"""Shared test setup: no test talks to AWS, whatever credentials the machine has."""

import gc
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from serverless_patterns.offline.engine import CapturedStack, on_capture
from serverless_patterns.offline.gate import run_gate
from serverless_patterns.offline.sfn import moto_action_lookup_without_listing

#: The collector's thresholds for the test processes. Their heap holds moto's backends, botocore's models and
#: pulumi_aws's types (hundreds of thousands of long-lived objects), and with CPython's defaults (700, 10, 10)
#: the collector ran about 3,300 young and 17 full passes over them in three of the tenant test files: a fifth
#: of their CPU. Reference counting still frees everything that is not in a cycle at once; cycles wait longer.
GC_THRESHOLDS = (20_000, 20, 20)
gc.set_threshold(*GC_THRESHOLDS)

OFFLINE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "1",
    "POWERTOOLS_METRICS_NAMESPACE": "Tests",
}


@pytest.fixture(scope="session", autouse=True)
def _offline_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Fake credentials and a default Region for boto3 (moto intercepts every call), and the repo's own
    dependency-build cache (`.build/`, keyed by the hash of the pins, so it is reused across sessions and a
    warm suite makes no pip calls). Session-scoped, so module-scoped fixtures see it too."""
    saved = dict(os.environ)
    os.environ.update(OFFLINE_ENV)
    os.environ.pop("AWS_PROFILE", None)
    os.environ.setdefault("SERVERLESS_PATTERNS_BUILD_DIR", str(Path(__file__).resolve().parents[1] / ".build"))
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(scope="session", autouse=True)
def _one_botocore_data_loader() -> Iterator[None]:
    """Every botocore session of the test run shares one data loader. moto sets `boto3.DEFAULT_SESSION` to None
    whenever a mock starts (so credentials are resolved anew), and each new session's loader would parse
    botocore's endpoint and service model JSON again (about half of a moto test's set-up). The loader only
    reads botocore's bundled data files and caches what it parsed; within one session botocore already shares
    it between clients, so sharing it between sessions changes no answer. Credentials are still resolved by
    each session."""
    import botocore.session
    from botocore.loaders import create_loader

    loaders: dict[Any, Any] = {}

    def shared_loader(search_path_string: str | None = None) -> Any:
        if search_path_string not in loaders:
            loaders[search_path_string] = create_loader(search_path_string)
        return loaders[search_path_string]

    with mock.patch.object(botocore.session, "create_loader", shared_loader):
        yield


@pytest.fixture(scope="session", autouse=True)
def _s3_urls_reloaded_only_when_their_setting_changes() -> Iterator[None]:
    """moto's S3 backend reloads `moto.s3.urls` twice on every S3 request, because the module reads the
    `MOTO_S3_CUSTOM_ENDPOINTS` environment variable when it loads (a fifth of the 2,000-object bulk test went
    to re-reading that module). Here it is reloaded only when that setting's value differs from the one the
    loaded module read, so every request still sees the URLs its environment asks for."""
    from moto import settings
    from moto.s3.models import S3Backend

    reload_url_module = S3Backend._url_module.fget
    loaded: dict[str, Any] = {}

    def url_module(backend: Any) -> Any:
        endpoints = settings.get_s3_custom_endpoints()
        if loaded.get("endpoints") != endpoints or "module" not in loaded:
            loaded["module"], loaded["endpoints"] = reload_url_module(backend), endpoints
        return loaded["module"]

    with mock.patch.object(S3Backend, "_url_module", property(url_module)):
        yield


@pytest.fixture(scope="session", autouse=True)
def _moto_user_pool_key_imported_once() -> Iterator[None]:
    """Every user pool moto creates imports the same bundled RSA private key (`jwks-private.json`, the key its
    tokens are signed with), and importing it costs 0.2 s of CPU (the private key's consistency check): a
    tenant test creates a pool each. Here that key is imported once and every pool signs with that one key
    object (the same key either way; a pool only reads it). Any other key is imported as before."""
    from moto.cognitoidp import models

    bundled = models.load_resource("cognitoidp/resources/jwks-private.json")
    import_key = models.jwk.RSAKey.import_key
    imported: dict[str, Any] = {}

    def import_once(value: Any, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs or value != bundled:
            return import_key(value, *args, **kwargs)
        if "key" not in imported:
            imported["key"] = import_key(value)
        return imported["key"]

    with mock.patch.object(models.jwk.RSAKey, "import_key", import_once):
        yield


@pytest.fixture(scope="session", autouse=True)
def _moto_action_lookup_without_listing() -> Iterator[None]:
    """moto lists every function of a response class on every request to find the action's (see
    `moto_action_lookup_without_listing`); here the one name is looked up instead, exactly as the list answers."""
    with moto_action_lookup_without_listing():
        yield


#: False while a test marked `gate_findings` runs: it builds a stack AWS would refuse on purpose.
_GATE = {"enforce": True}


def _gate_is_clean(stack: CapturedStack) -> None:
    """Every configuration a test builds passes the validation gate, as the plan requires."""
    if not _GATE["enforce"]:
        return
    report = run_gate(stack)
    if report.findings:
        shown = "\n  ".join(str(f) for f in report.findings[:10])
        raise AssertionError(f"the validation gate refuses this stack ({len(report.findings)} finding(s)):\n  {shown}"
                             "\n(mark the test `@pytest.mark.gate_findings` if it builds a refused stack on purpose)")


@pytest.fixture(scope="session", autouse=True)
def _gate_on_every_stack() -> Iterator[None]:
    remove = on_capture(_gate_is_clean)
    yield
    remove()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules marked `heavy` run first (otherwise in collection order): with `--dist loadfile
    --no-loadscope-reorder` each worker then starts on one, and the light modules fill in around them, so no
    worker finishes the run alone on a long module it was handed last."""
    items.sort(key=lambda item: item.get_closest_marker("heavy") is None)


def pytest_runtest_setup(item: pytest.Item) -> None:
    # Before any fixture of the test is set up, so module- and session-scoped stacks follow the marker too.
    _GATE["enforce"] = item.get_closest_marker("gate_findings") is None


def pytest_runtest_teardown(item: pytest.Item) -> None:
    _GATE["enforce"] = True
