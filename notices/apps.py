from django.apps import AppConfig


class NoticesConfig(AppConfig):
    name = "notices"
    verbose_name = "Notices"

    def ready(self) -> None:
        from connections.signals import invitation_completed

        from .connected import tell_staff

        invitation_completed.connect(tell_staff, dispatch_uid="notices.connected")
