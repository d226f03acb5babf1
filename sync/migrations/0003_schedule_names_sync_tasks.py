"""The scheduled pull's task moved from connections.tasks to sync.tasks with the engine."""

from django.db import migrations

OLD, NEW = "connections.tasks.sync_due_clients", "sync.tasks.sync_due_clients"


def rename(old: str, new: str):
    def run(apps, schema_editor):
        apps.get_model("django_q", "Schedule").objects.filter(func=old).update(func=new)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0002_tables_named_for_sync"),
        ("connections", "0004_sync_schedule"),
        ("django_q", "0018_task_success_index"),
    ]

    operations = [migrations.RunPython(rename(OLD, NEW), rename(NEW, OLD))]
