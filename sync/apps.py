from django.apps import AppConfig


class SyncConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "sync"
    verbose_name = "Sync engine"

    def ready(self) -> None:
        from connections import set_aside

        from .company_change import SyncSetAside

        set_aside.register(SyncSetAside())
