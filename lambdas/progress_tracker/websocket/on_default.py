"""`$default`: any message whose `action` matches no route gets an error naming the valid actions."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import APIGatewayWebSocketEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext
from progress_protocol import VALID_ACTIONS, ProtocolError, error_reply, parse_body

logger = Logger()


@logger.inject_lambda_context
@event_source(data_class=APIGatewayWebSocketEvent)
def handler(event: APIGatewayWebSocketEvent, context: LambdaContext) -> dict[str, Any]:
    try:
        data = parse_body(event.decoded_body)
        action = data.get("action")
        if action is None:
            raise ProtocolError("missing_action", "the message has no 'action'; valid actions are "
                                + ", ".join(VALID_ACTIONS))
        raise ProtocolError("unknown_action", f"unknown action {str(action)[:64]!r}; valid actions are "
                            + ", ".join(VALID_ACTIONS))
    except ProtocolError as error:
        logger.info("rejected message", extra={"reason": error.code})
        return error_reply(error)
