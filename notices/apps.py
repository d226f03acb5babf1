from django.apps import AppConfig


class NoticesConfig(AppConfig):
    name = "notices"
    verbose_name = "Notices"

    def ready(self) -> None:
        from connections.signals import invitation_completed
        from sync.signals import health_told

        from .connected import tell_staff
        from .health import tell_health

        invitation_completed.connect(tell_staff, dispatch_uid="notices.connected")
        health_told.connect(tell_health, dispatch_uid="notices.health")
