from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """The pages above the engine: the firm's dashboard and each client's page, the figures
    they show and the cache that keeps them for a few seconds."""

    name = "dashboard"

    def ready(self) -> None:
        from . import cache

        cache.connect()  # changes forget the dashboard's cached figures
