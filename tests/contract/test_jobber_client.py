"""Jobber's GraphQL client (connections/jobber/graphql.py) against the emulator, where the
contract suite does not reach: a mutation's userErrors, a 5xx retried then given up, a
query Jobber refuses, the account it reads, and disconnecting (appDisconnect: Jobber has
no revocation endpoint)."""

import pytest
import requests

from connections import retries
from connections.adapters import crm_adapter
from connections.flows import flow_for
from connections.jobber import graphql
from connections.jobber.adapter import JobberAdapter
from connections.refresh import access_token_for

from ..sandbox.conftest import sandbox_db

pytestmark = sandbox_db

CREATE = (
    "mutation Create($input: ClientCreateInput!) { clientCreate(input: $input) {"
    " client { id } userErrors { message path } } }"
)


@pytest.fixture
def jobber(connected, sandbox, monkeypatch):
    connection = connected("jobber")
    monkeypatch.setattr(retries, "_wait", lambda state: 0.01)
    monkeypatch.setattr("sandbox.emulation.PLAN_CACHE_SECONDS", 0)
    return connection


def test_user_errors_are_a_refusal_with_jobbers_reasons(jobber):
    answer = graphql.post(access_token_for(jobber), CREATE, {"input": {"title": "Mr"}})
    with pytest.raises(retries.ProviderError) as refused:
        graphql.raise_user_errors(answer.data["clientCreate"], "Creating a client")
    assert "first name, last name or company name" in str(refused.value)
    assert refused.value.refusal == "invalid" and "(at input)" in refused.value.detail


def test_a_5xx_is_tried_again_then_given_up_in_words(jobber, sandbox):
    from sandbox.jobber.ids import decode_id

    plan = {"system": "jobber", "account": str(decode_id(jobber.external_id)[1]),
            "error_rate": 1.0}  # fmt: skip
    requests.put(f"{sandbox}/sandbox/control/faults", json=plan, timeout=10).raise_for_status()
    with pytest.raises(retries.ProviderError, match="kept failing"):
        crm_adapter(jobber).records("companies")
    requests.put(
        f"{sandbox}/sandbox/control/faults", json={**plan, "error_rate": 0}, timeout=10
    ).raise_for_status()
    assert crm_adapter(jobber).records("companies").records == []


def test_a_query_jobber_refuses_says_why(jobber):
    with pytest.raises(retries.ProviderError, match="nickname"):
        graphql.post(access_token_for(jobber), "{ clients { nodes { nickname } } }")


def test_it_reads_the_account_it_was_connected_to(jobber):
    info = JobberAdapter(jobber).account_info()
    assert (info.external_id, info.name) == (jobber.external_id, jobber.external_name)


def test_revoking_disconnects_the_app_at_jobber(jobber, sandbox):
    from sandbox.jobber.ids import decode_id

    flow_for("jobber").revoke(jobber.refresh_token)
    account = decode_id(jobber.external_id)[1]
    state = requests.get(f"{sandbox}/sandbox/control/jobber/accounts/{account}", timeout=10)
    assert state.json()["connected"] is False
