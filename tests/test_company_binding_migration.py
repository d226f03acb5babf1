"""The migration that binds one company to one client leaves clients that already shared a
company in a state the new constraint accepts: the latest holder keeps it, the others are
revoked with a note their staff read on the client page."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("connections", "0010_syncrun_latest_status")]
AFTER = [("connections", "0011_company_binding")]


@pytest.mark.django_db(transaction=True)
def test_the_latest_holder_of_a_shared_company_keeps_it():
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    executor.migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE).apps
        firm = old.get_model("clients", "Firm").objects.create(name="F", slug="f")
        Client = old.get_model("clients", "Client")
        Connection = old.get_model("connections", "Connection")
        now = timezone.now()
        earlier, later = (
            Connection.objects.create(
                client=Client.objects.create(firm=firm, name=name, slug=name.lower()),
                system="quickbooks",
                status="active",
                external_id="913",
                connected_at=now - timedelta(days=days),
            )
            for name, days in (("Earlier", 9), ("Later", 1))
        )
        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)
        new = executor.loader.project_state(AFTER).apps.get_model("connections", "Connection")
        assert new.objects.get(pk=later.pk).status == "active"
        moved = new.objects.get(pk=earlier.pk)
        assert moved.status == "revoked" and "Another client" in moved.last_error
    finally:
        MigrationExecutor(connection).migrate(leaves)
