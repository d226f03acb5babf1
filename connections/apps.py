from django.apps import AppConfig


class ConnectionsConfig(AppConfig):
    name = "connections"
    verbose_name = "Connections and sync"

    def ready(self) -> None:
        from .sync import health

        health.connect()  # changes forget the dashboard's cached figures
