"""Schemathesis against the server's own OpenAPI schema: a bounded number of generated requests per endpoint,
none of which may get a 5xx."""

from __future__ import annotations

import pytest

from tests.serving.test_app import image_run  # noqa: F401  (the served run, trained once per module)

schemathesis = pytest.importorskip("schemathesis")
pytestmark = pytest.mark.slow
EXAMPLES = 20  # per endpoint: bounded, so the suite stays fast


def test_no_generated_request_gets_a_server_error(image_run):  # noqa: F811
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error

    from medtransfer.serving.app import create_app

    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(image_run[0]))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/predict", "/v2/models/{name}/infer", "/model-card"}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def no_server_error(case):
            case.call_and_validate(checks=[not_a_server_error])

        no_server_error()
