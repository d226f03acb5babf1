"""Companies made before every company opened with the standard chart get the standard
accounts they lack, without a second account of a name they already use."""

import importlib

import pytest
from django.db import connections
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from sandbox.routers import SANDBOX_DB

STANDARD_ACCOUNTS = [
    name
    for name, *_ in importlib.import_module(
        "sandbox.quickbooks.migrations.0004_standard_accounts_for_existing_companies"
    ).ACCOUNTS
]

BEFORE = [("sandbox_quickbooks", "0003_company_settings_and_preferences")]
AFTER = [("sandbox_quickbooks", "0004_standard_accounts_for_existing_companies")]


@pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])
def test_an_existing_company_gets_the_standard_accounts_it_lacks():
    connection = connections[SANDBOX_DB]
    executor = MigrationExecutor(connection)
    leaves = [n for n in executor.loader.graph.leaf_nodes() if n[0] == "sandbox_quickbooks"]
    executor.migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE).apps
        company = old.get_model("sandbox_quickbooks", "Company").objects.create(
            name="Old books", next_id=3
        )
        Entity = old.get_model("sandbox_quickbooks", "Entity")
        own = {"Name": "services", "AccountType": "Income", "Classification": "Revenue"}
        Entity.objects.create(
            company=company,
            entity_type="Account",
            entity_id=1,
            data=own,
            name="services",
            last_updated=timezone.now(),
        )

        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)

        new = executor.loader.project_state(AFTER).apps
        accounts = new.get_model("sandbox_quickbooks", "Entity").objects.filter(
            company_id=company.pk, entity_type="Account"
        )
        names = [a.name for a in accounts]
        assert len(names) == len(STANDARD_ACCOUNTS)  # their "services" stands for ours
        assert {n.casefold() for n in names} == {n.casefold() for n in STANDARD_ACCOUNTS}
        ids = sorted(a.entity_id for a in accounts)
        assert ids[0] == 1 and ids[1] == 3  # new ones continue the company's counter
        checking = accounts.get(name="Checking").data
        assert (checking["AccountType"], checking["Classification"]) == ("Bank", "Asset")
        refreshed = new.get_model("sandbox_quickbooks", "Company").objects.get(pk=company.pk)
        assert refreshed.next_id == 3 + len(STANDARD_ACCOUNTS) - 1
    finally:
        MigrationExecutor(connection).migrate(leaves)
