"""RFC 9457 rendering (ledgr.api.problem)."""

from __future__ import annotations

import json

from ledgr.api.problem import PROBLEM_JSON, problem_body, problem_response
from ledgr.errors import OperationRejected, TooLarge


def test_problem_body_has_rfc9457_members_and_extensions() -> None:
    error = OperationRejected("stale prev", rule="prev-mismatch", title="ignored", status=200)
    body = problem_body(error, "/v1/operations")
    assert body == {"type": "https://ledgr.dev/problems/operation-rejected", "title": "Operation rejected",
                    "status": 422, "detail": "stale prev", "instance": "/v1/operations",
                    "code": "operation-rejected", "rule": "prev-mismatch"}


def test_problem_response_content_type_status_and_version_header() -> None:
    resp = problem_response(TooLarge("body over 1 MiB", limit=1_048_576), "/v1/credentials/issue",
                            headers={"X-Extra": "1"})
    assert resp.status == 413
    assert resp.content_type == PROBLEM_JSON
    assert resp.headers["API-Version"] == "1.0.0" and resp.headers["X-Extra"] == "1"
    assert resp.text is not None
    assert json.loads(resp.text)["limit"] == 1_048_576
