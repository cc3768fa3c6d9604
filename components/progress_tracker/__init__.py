"""ProgressTracker: live Step Functions progress pushed to browsers over an API Gateway WebSocket API.

What it builds (one component):

- a WebSocket API (`$request.body.action`) with `$connect` (optionally behind a REQUEST Lambda
  authorizer that verifies a JWT), `$disconnect`, `$default` (names the valid actions), `start`
  and `resume`, two-way routes for the actions, and a stage with a configurable name, access
  logs and default-route throttling;
- one DynamoDB table (on demand, PITR, SSE, TTL) for connections, their sessions and the
  executions they follow, and the latest progress of each execution (so `resume` works);
- `ReportProgress`, an EventBridge bus and rule that deliver progress events to it with
  retries and an SQS dead-letter queue;
- the demo order workflow, reporting in the configured mode (direct, lambda or eventbridge),
  unless `workflow_arn` names the caller's own workflow.

Other programs add reporting to their own definitions with `components.progress_tracker.reporting`
(pure Python) and give their state machine role `tracker.reporting_statements(mode)`.
"""

from serverless_patterns.progress_tracker.args import ProgressTrackerArgs
from serverless_patterns.progress_tracker.component import ProgressTracker, event_pattern
from serverless_patterns.progress_tracker.config import from_config

__all__ = ["ProgressTracker", "ProgressTrackerArgs", "event_pattern", "from_config"]
