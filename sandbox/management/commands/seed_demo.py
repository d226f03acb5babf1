import os

from allauth.account.models import EmailAddress
from django.core.management.base import BaseCommand
from django.db import transaction

from clients.models import Client, Firm, Membership, User
from sandbox.demo import DEMO_CLIENTS, DEMO_FIRM, DEMO_PEOPLE


class Command(BaseCommand):
    help = "Create (or bring up to date) the demo firm, its staff and clients. Safe to re-run."

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        password = os.environ.get("DEMO_PASSWORD") or "demo"
        firm, _ = Firm.objects.update_or_create(
            slug=DEMO_FIRM["slug"], defaults={"name": DEMO_FIRM["name"]}
        )
        users = []
        for person in DEMO_PEOPLE:
            user, _ = User.objects.update_or_create(
                email=person["email"],
                defaults={"first_name": person["first_name"], "last_name": person["last_name"]},
            )
            user.set_password(password)
            user.save(update_fields=["password"])
            EmailAddress.objects.update_or_create(
                user=user, email=user.email, defaults={"verified": True, "primary": True}
            )
            Membership.objects.update_or_create(
                firm=firm, user=user, defaults={"role": person["role"]}
            )
            users.append(user)
        accountant = users[1]
        for spec in DEMO_CLIENTS:
            client, _ = Client.objects.update_or_create(
                firm=firm,
                slug=spec["slug"],
                defaults={"name": spec["name"], "timezone": spec["timezone"]},
            )
            client.assigned_staff.add(accountant)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo firm '{firm.slug}' ready: {len(DEMO_CLIENTS)} clients, "
                f"logins {', '.join(p['email'] for p in DEMO_PEOPLE)}."
            )
        )
