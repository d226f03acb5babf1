from django.apps import AppConfig


class ReconciliationConfig(AppConfig):
    name = "reconciliation"
    verbose_name = "Reconciliation"

    def ready(self) -> None:
        from connections import set_aside

        from . import totals  # noqa: F401 - connects the signals that keep OpenTotals
        from .company_change import FindingsSetAside

        set_aside.register(FindingsSetAside())

        from sync.signals import books_invoices_changed

        from .light_checks import duplicates_in_changes

        books_invoices_changed.connect(duplicates_in_changes, dispatch_uid="light-duplicates")
