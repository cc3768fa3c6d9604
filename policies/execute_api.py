"""`execute-api:ManageConnections` (posting to WebSocket clients) scoped to one API's `@connections` path."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pulumi_policy import ResourceValidationArgs, Severity

from serverless_patterns.policies.core import resource_rule
from serverless_patterns.policies.coverage import IDENTITY_DOCUMENTS
from serverless_patterns.policies.iam import ROLE, _where, statements

MANAGE_CONNECTIONS = "execute-api:manageconnections"
#: arn:<partition>:execute-api:<region>:<account>:<api-id>/<stage>/<METHOD>/@connections[/<connection>]
CONNECTIONS_ARN = re.compile(r"^arn:[\w-]+:execute-api:[a-z]{2}(-[a-z]+)+-\d:\d{12}:[a-z0-9]+/[^/]+/"
                             r"(\*|GET|POST|DELETE)/@connections(/.*)?$")


def check_manage_connections(args: ResourceValidationArgs) -> Iterator[str]:
    for document, statement in statements(args, "identity"):
        if not statement.allows or not any(a.lower() == MANAGE_CONNECTIONS for a in statement.actions):
            continue
        bad = [r for r in statement.resources if not CONNECTIONS_ARN.fullmatch(r)]
        if bad or not statement.resources:
            yield (f"{_where(args, document, statement)} grants execute-api:ManageConnections on "
                   f"{', '.join(repr(r) for r in bad) or 'no Resource'}: {statement.show()}. Fix: scope it to one "
                   f"API's connections, arn:<partition>:execute-api:<region>:<account>:<api-id>/<stage>/POST/"
                   f"@connections/* (and GET/DELETE if the function reads or closes connections).")


POLICIES = [
    resource_rule(
        "execute-api-manage-connections-scoped",
        "execute-api:ManageConnections is scoped to one WebSocket API's @connections path.",
        check_manage_connections, types=set(IDENTITY_DOCUMENTS) | {ROLE}, severity=Severity.HIGH,
        remediation="Use arn:<p>:execute-api:<region>:<account>:<api-id>/<stage>/POST/@connections/*."),
]
