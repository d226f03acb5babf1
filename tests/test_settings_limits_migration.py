"""Settings saved before they were checked are brought within limits by a migration, so no
stored value crashes the next sync (terms of 99,999,999,999 days did, with OverflowError)."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("connections", "0015_unmatched_item")]
AFTER = [("connections", "0016_settings_within_limits")]


@pytest.mark.django_db(transaction=True)
def test_out_of_range_settings_move_to_the_nearest_allowed_value():
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    executor.migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE).apps
        firm = old.get_model("clients", "Firm").objects.create(name="F", slug="f")
        Client = old.get_model("clients", "Client")
        SyncSettings = old.get_model("connections", "SyncSettings")
        bad = SyncSettings.objects.create(
            client=Client.objects.create(firm=firm, name="Bad", slug="bad"),
            payment_terms_days=2_000_000_000,  # SQLite kept 99,999,999,999
            schedule_minutes=0,
            stale_after_days=0,
            books_currency="usd",
        )
        good = SyncSettings.objects.create(
            client=Client.objects.create(firm=firm, name="Good", slug="good"),
            payment_terms_days=45,
            schedule_minutes=30,
            stale_after_days=120,
            books_currency="CAD",
        )
        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)
        new = executor.loader.project_state(AFTER).apps.get_model("connections", "SyncSettings")
        fixed, kept = new.objects.get(pk=bad.pk), new.objects.get(pk=good.pk)
        assert (fixed.payment_terms_days, fixed.schedule_minutes, fixed.stale_after_days) == (
            365,
            5,
            1,
        )
        assert fixed.books_currency == "USD"
        assert (kept.payment_terms_days, kept.schedule_minutes, kept.stale_after_days) == (
            45,
            30,
            120,
        )
        assert kept.books_currency == "CAD"
    finally:
        MigrationExecutor(connection).migrate(leaves)
