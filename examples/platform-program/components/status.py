"""`StatusFunction`: the platform's health endpoint function, packaged from this program's `lambdas/status`."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
from serverless_patterns.core.function import FunctionSettings, PythonFunction

import lambdas


class StatusFunction(pulumi.ComponentResource):
    """A Lambda function that reports which platform and stack answered; built with the library's conventions."""

    def __init__(self, name: str, *, team: str, settings: FunctionSettings | None = None,
                 tags: Mapping[str, str] | None = None, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("platform:index:StatusFunction", name, None, opts)
        self.function = PythonFunction(
            name,
            code=lambdas.FOLDER / "status",
            service="platform-status",
            environment={"TEAM": team, "STACK": pulumi.get_stack()},
            settings=settings,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self))
        self.arn = self.function.arn
        self.register_outputs({"arn": self.arn})
