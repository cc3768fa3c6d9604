"""The repo root as a plugin, started the way the Python language host's RunPlugin starts it
(`python <plugin dir> <engine address>` with the plugin's virtualenv; pulumi/pulumi
sdk/python/cmd/pulumi-language-python/main.go): it must serve the package over gRPC, not run the program."""

import json
import subprocess
import sys
from pathlib import Path

import grpc
import yaml
from google.protobuf import empty_pb2
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from serverless_patterns import provider

ROOT = Path(__file__).resolve().parents[2]


def test_plugin_yaml_runs_this_folder_with_python() -> None:
    plugin = yaml.safe_load((ROOT / "PulumiPlugin.yaml").read_text())
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert plugin["runtime"]["name"] == "python"
    # Same toolchain and virtualenv as the program, so `pulumi install` sets up both at once.
    assert plugin["runtime"]["options"] == project["runtime"]["options"]


def test_started_as_a_plugin_it_serves_the_schema() -> None:
    process = subprocess.Popen([sys.executable, str(ROOT), "127.0.0.1:1"], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline().decode().strip())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = provider_pb2_grpc.ResourceProviderStub(channel)
            served = json.loads(stub.GetSchema(provider_pb2.GetSchemaRequest(version=0), timeout=60).schema)
            info = stub.GetPluginInfo(empty_pb2.Empty(), timeout=60)
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert served == provider.schema()
    assert info.version == provider.package_version()
