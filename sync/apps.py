from django.apps import AppConfig


class SyncConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "sync"
    verbose_name = "Sync engine"

    def ready(self) -> None:
        from connections import set_aside

        from .company_change import SyncSetAside

        set_aside.register(SyncSetAside())

        from syncfirm import metrics

        from .metrics import SyncCollector

        if not any(isinstance(c, SyncCollector) for c in metrics.scrape_collectors):
            metrics.scrape_collectors.append(SyncCollector())
