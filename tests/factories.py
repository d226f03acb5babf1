"""factory-boy factories, one per model."""

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
