"""Integration health of every connected client, recorded every 5 minutes."""

from django.db import migrations

SCHEDULE_NAME = "Integration health of connected clients"


def create_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.update_or_create(
        name=SCHEDULE_NAME,
        defaults={
            "func": "sync.tasks.check_health",
            "schedule_type": "I",  # every `minutes`
            "minutes": 5,
            "repeats": -1,
        },
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=SCHEDULE_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("sync", "0004_incidents"), ("django_q", "0018_task_success_index")]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
