"""Answers which platform team and stack this is (a health check for the platform's routing)."""

import os

from aws_lambda_powertools import Logger

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict, context: object) -> dict:
    return {"team": os.environ["TEAM"], "stack": os.environ["STACK"], "status": "ok"}
