"""Every GraphQL document the Jobber adapter sends is valid against the schema the Jobber
emulator serves: a name corrected on one side and not the other fails here, not in a
client's sync. (Both follow api-facts E4; the real schema may differ from both.)"""

import pytest
from graphql import parse, validate

from connections.jobber import oauth, schema
from sandbox.jobber.schema import schema as emulated

DOCUMENTS = {
    "clients": schema.CLIENTS.document,
    "invoices": schema.INVOICES.document,
    "jobs": schema.JOBS.document,
    "account": schema.ACCOUNT,
    "more lines": schema.MORE_LINES,
    "clients by id": schema.by_ids("client", 3),
    "invoices by id": schema.by_ids("invoice", 2),
    "disconnect": oauth.DISCONNECT,
}


@pytest.mark.parametrize("name", DOCUMENTS)
def test_it_sends_only_documents_the_schema_accepts(name):
    assert validate(emulated._schema, parse(DOCUMENTS[name])) == []


def test_a_page_of_invoices_stays_well_inside_the_cost_bucket():
    from sandbox.jobber.ratelimit import requested_cost

    for listing in (schema.CLIENTS, schema.INVOICES, schema.JOBS):
        cost = requested_cost(parse(listing.document), None, {"first": listing.page_size})
        assert cost <= 5000, (listing.root, cost)  # half of Jobber's 10,000 points
