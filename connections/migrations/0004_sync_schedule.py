from django.db import migrations

SCHEDULE_NAME = "Batched customer sync of clients that are due"


def create_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=SCHEDULE_NAME,
        defaults={
            "func": "connections.tasks.sync_due_clients",
            "schedule_type": "I",  # every `minutes`
            "minutes": 1,
            "repeats": -1,
        },
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=SCHEDULE_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("connections", "0003_sync_engine")]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
