"""schemathesis against the API's own OpenAPI schema: generated requests, valid and not, to
every operation, as an accountant of firm A with data in both firms; none may answer 500."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings

from api.tokens import do_create_api_token
from syncfirm.wsgi import application

from .test_api import finding


@pytest.fixture
def wsgi_in_test_transaction(db):
    """The WSGI app in-process, as Django's test client runs it: the test's transaction
    stays open across requests (the request signals would close its connection)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield application
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_the_api_never_answers_a_server_error(wsgi_in_test_transaction, two_firms):
    finding(two_firms.client_a)
    finding(two_firms.client_b, "missing_invoice")
    _, key = do_create_api_token(two_firms.accountant_a, "schemathesis")
    schema = schemathesis.openapi.from_wsgi("/api/schema/", wsgi_in_test_transaction)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12
    errors, seen = [], {}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=12,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,  # the same requests every run: a failure repeats
        )
        def call(case):
            response = case.call(headers={"Authorization": f"Token {key}"})
            seen[response.status_code] = seen.get(response.status_code, 0) + 1
            if response.status_code >= 500:
                errors.append(f"{case.method} {case.formatted_path} → {response.status_code}")

        call()
    assert errors == []
    assert seen.get(200, 0) > len(operations)  # real answers, not only refusals
