"""Xero contacts through xero-python: create, update, unique names, archive, list filters."""

import time
from datetime import UTC, datetime

import pytest
from xero_python.accounting import Contact, Contacts
from xero_python.exceptions import AccountingBadRequestException, NotFoundException

from tests.sandbox.conftest import sandbox_db

pytestmark = sandbox_db


def create(xero, *names: str, **fields) -> list[Contact]:
    made = xero.create_contacts(
        xero.tenant, Contacts(contacts=[Contact(name=n, **fields) for n in names])
    )
    return made.contacts


def test_it_creates_reads_and_updates_a_contact(xero):
    (ann,) = create(xero, "Ann Lee", email_address="ann@example.com", contact_number="HS-1")
    assert ann.contact_status == "ACTIVE" and ann.updated_date_utc is not None
    got = xero.get_contact(xero.tenant, ann.contact_id).contacts[0]
    assert (got.name, got.email_address, got.contact_number) == (
        "Ann Lee",
        "ann@example.com",
        "HS-1",
    )
    xero.update_contact(
        xero.tenant, ann.contact_id, Contacts(contacts=[Contact(email_address="ann@lee.test")])
    )
    again = xero.get_contact(xero.tenant, "HS-1").contacts[0]  # by ContactNumber too
    assert again.email_address == "ann@lee.test" and again.name == "Ann Lee"


def test_it_refuses_a_second_active_contact_with_the_same_name(xero):
    create(xero, "Ann Lee")
    with pytest.raises(AccountingBadRequestException) as refused:
        create(xero, "ann lee")
    assert "must be unique across all active contacts" in refused.value.reason
    assert len(xero.get_contacts(xero.tenant).contacts) == 1


def test_it_hides_archived_contacts_unless_asked_and_frees_their_name(xero):
    (ann,) = create(xero, "Ann Lee")
    xero.update_contact(
        xero.tenant, ann.contact_id, Contacts(contacts=[Contact(contact_status="ARCHIVED")])
    )
    assert xero.get_contacts(xero.tenant).contacts == []
    archived = xero.get_contacts(xero.tenant, include_archived=True).contacts
    assert [c.contact_status for c in archived] == ["ARCHIVED"]
    assert create(xero, "Ann Lee")[0].contact_id != ann.contact_id


def test_it_filters_with_where_and_if_modified_since(xero):
    create(xero, "Ann Lee", "Bob Stone", "Annette Ray")
    found = xero.get_contacts(xero.tenant, where='Name.StartsWith("Ann")', order="Name DESC")
    assert [c.name for c in found.contacts] == ["Annette Ray", "Ann Lee"]
    time.sleep(1.1)
    since = datetime.now(UTC)
    create(xero, "Cara Diaz")
    changed = xero.get_contacts(xero.tenant, if_modified_since=since)
    assert [c.name for c in changed.contacts] == ["Cara Diaz"]


def test_it_pages_with_page_and_page_size(xero):
    create(xero, *[f"Customer {n:02d}" for n in range(5)])
    first = xero.get_contacts(xero.tenant, page=1, page_size=2)
    last = xero.get_contacts(xero.tenant, page=3, page_size=2)
    assert [c.name for c in first.contacts] == ["Customer 00", "Customer 01"]
    assert [c.name for c in last.contacts] == ["Customer 04"]
    assert (first.pagination.page_count, first.pagination.item_count) == (3, 5)


def test_it_answers_404_for_an_unknown_contact(xero):
    with pytest.raises(NotFoundException):
        xero.get_contact(xero.tenant, "00000000-0000-0000-0000-000000000000")
