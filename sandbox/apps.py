from django.apps import AppConfig
from django.conf import settings


class SandboxConfig(AppConfig):
    name = "sandbox"
    verbose_name = "Sandbox emulators"

    def ready(self) -> None:
        if settings.SANDBOX:
            from . import devserver

            devserver.install()
