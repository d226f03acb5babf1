"""Keeps the emulators' tables in the `sandbox` database and the app's in `default`."""

SANDBOX_DB = "sandbox"


def is_sandbox_app(app_label: str) -> bool:
    return app_label == "sandbox" or app_label.startswith("sandbox_")


class SandboxRouter:
    def db_for_read(self, model, **hints):
        return SANDBOX_DB if is_sandbox_app(model._meta.app_label) else None

    db_for_write = db_for_read

    def allow_relation(self, obj1, obj2, **hints):
        same = is_sandbox_app(obj1._meta.app_label) == is_sandbox_app(obj2._meta.app_label)
        return None if same else False

    def allow_migrate(self, db, app_label, **hints):
        return (db == SANDBOX_DB) == is_sandbox_app(app_label)
