"""Field maps are data: CRM properties → customer fields (pure)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.mapping import (
    DEFAULT_COMPANY_MAP,
    DEFAULT_CONTACT_MAP,
    FieldMapError,
    map_record,
)


def test_it_maps_a_homeowner_contact():
    mapped = map_record(
        {
            "firstname": " Ann ",
            "lastname": "Lee",
            "email": "ann@home.example",
            "mobilephone": "512 555 0134",
        },
        DEFAULT_CONTACT_MAP,
    )
    assert mapped["display_name"] == "Ann Lee"
    assert mapped["phone"] == "512 555 0134", "first_of falls back to the mobile number"
    assert mapped["city"] == ""


def test_it_maps_a_company():
    mapped = map_record({"name": "Cedar Roofing", "zip": "78701"}, DEFAULT_COMPANY_MAP)
    assert (mapped["display_name"], mapped["company_name"], mapped["postal_code"]) == (
        "Cedar Roofing",
        "Cedar Roofing",
        "78701",
    )


def test_it_follows_a_clients_own_map():
    mapped = map_record(
        {"legal_name": "Cedar LLC", "name": "Cedar"}, {"display_name": {"from": ["legal_name"]}}
    )
    assert mapped == {"display_name": "Cedar LLC"}


@pytest.mark.parametrize(
    "bad", [{"x": {}}, {"x": {"from": "name"}}, {"x": {"first_of": [""]}}, {"x": "name"}]
)
def test_it_refuses_a_malformed_map_with_the_field_named(bad):
    with pytest.raises(FieldMapError, match="x:"):
        map_record({}, bad)


@given(
    st.dictionaries(
        st.text(max_size=20), st.one_of(st.none(), st.text(max_size=200), st.integers())
    )
)
def test_it_maps_any_properties_without_raising(properties):
    mapped = map_record(properties, DEFAULT_CONTACT_MAP)
    assert set(mapped) == set(DEFAULT_CONTACT_MAP)
    assert all(isinstance(v, str) for v in mapped.values())
