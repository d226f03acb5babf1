"""factory-boy factories, one per model."""

from datetime import timedelta

import factory
from django.utils import timezone

from clients.models import (
    AuditEntry,
    Client,
    Firm,
    Membership,
    Role,
    StaffInvitation,
    User,
    hash_token,
)

TEST_PASSWORD = "correct-horse-battery-9"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["email"]
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class FirmFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Firm

    name = factory.Sequence(lambda n: f"Firm {n} Bookkeeping")
    slug = factory.Sequence(lambda n: f"firm-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    firm = factory.SubFactory(FirmFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.ACCOUNTANT


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    firm = factory.SubFactory(FirmFactory)
    name = factory.Sequence(lambda n: f"Contractor {n} LLC")
    slug = factory.Sequence(lambda n: f"contractor-{n}")
    timezone = "America/Chicago"


class StaffInvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffInvitation

    class Params:
        token = factory.Sequence(lambda n: f"invitation-token-{n}")

    firm = factory.SubFactory(FirmFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.test")
    role = Role.ACCOUNTANT
    token_hash = factory.LazyAttribute(lambda o: hash_token(o.token))
    created_at = factory.LazyFunction(timezone.now)


class AuditEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AuditEntry

    firm = factory.SubFactory(FirmFactory)
    actor = factory.SubFactory(UserFactory)
    action = "client.update"
    object_type = "clients.Client"
    object_id = "1"


class ConnectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "connections.Connection"

    client = factory.SubFactory(ClientFactory)
    system = "quickbooks"
    status = "active"
    external_id = factory.Sequence(lambda n: str(9130000000 + n))
    external_name = "Sandbox Company"
    access_token = factory.Sequence(lambda n: f"access-token-{n}")
    refresh_token = factory.Sequence(lambda n: f"refresh-token-{n}")
    access_expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=1))
    connected_at = factory.LazyFunction(timezone.now)


class ContractorInvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "connections.ContractorInvitation"

    client = factory.SubFactory(ClientFactory)
    email = "contractor@example.test"
    systems = ["quickbooks", "hubspot"]
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))


class WebhookDeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "connections.WebhookDelivery"

    system = "quickbooks"
    account_id = "9130000000"
    body = '{"eventNotifications": []}'
    body_sha256 = factory.Sequence(lambda n: f"{n:064x}")
    signature = factory.Sequence(lambda n: f"signature-{n}")
