"""Attacks on the sync settings page's customer matching (decision 0026): odd numbers, odd
text, damaged kept figures, another firm, a contractor, no CSRF token. Each is refused in
words (or ignored) and nothing is saved; the page never fails."""

import pytest
from django.test import Client as DjangoClient

from sync.client_matching import binned
from sync.linkage import Model
from sync.models import LearntMatching, SyncSettings

from .test_sync_settings_page import form_data, url


@pytest.fixture
def learnt(two_firms) -> LearntMatching:
    return LearntMatching.objects.create(
        client=two_firms.client_a,
        model=Model.default(0.004).to_dict(),
        partner_share=0.9,
        books_records=240,
        crm_records=230,
        vocabulary={"abbreviations": {}, "legal_forms": []},
        best_pairs=binned([0.999] * 200 + [0.95] * 10 + [0.5] * 20),
    )


def saved_settings(two_firms) -> dict:
    kept = SyncSettings.for_client(two_firms.client_a).__dict__
    return {k: v for k, v in kept.items() if k not in ("_state", "updated_at")}


@pytest.mark.parametrize(
    "fields",
    [
        {"link_sure_percent": "NaN"},
        {"link_sure_percent": "sNaN"},
        {"review_from_percent": "nan"},
        {"link_sure_percent": "Infinity"},
        {"link_sure_percent": "-Infinity"},
        {"review_from_percent": "inf"},
        {"link_sure_percent": "1e309"},
        {"link_sure_percent": "1e-400"},
        {"review_from_percent": "-5"},
        {"link_sure_percent": "101"},
        {"link_sure_percent": "95", "review_from_percent": "96"},
        {"link_sure_percent": "9" * 400},
        {"match_abbreviations": "Htg = Heating\n" * 10_000},
        {"match_abbreviations": "H" * 10_000 + " = Heating"},
        {"match_legal_forms": "Kft\n" * 101},
        {"match_abbreviations": "🔥 = Fire"},
        {"match_legal_forms": "<script>alert(1)</script>"},
        {"match_abbreviations": "<img src=x onerror=alert(1)> = x"},
    ],
)
def test_odd_thresholds_and_words_are_refused_and_the_page_still_shows(
    client, two_firms, learnt, fields
):
    client.force_login(two_firms.owner_a)
    before = saved_settings(two_firms)
    response = client.post(url(two_firms), form_data(**fields))
    assert response.status_code == 200, (fields, response.status_code)
    assert b"errorlist" in response.content or b"error" in response.content
    assert b"<script>alert(1)</script>" not in response.content
    assert b"<img src=x" not in response.content
    assert saved_settings(two_firms) == before


@pytest.mark.parametrize(
    "fields", [{"link_sure_percent": "90\x00"}, {"match_legal_forms": "Kft\x00"}]
)
def test_a_nul_character_is_refused_before_the_form(client, two_firms, learnt, fields):
    client.force_login(two_firms.owner_a)
    before = saved_settings(two_firms)
    response = client.post(url(two_firms), form_data(**fields))
    assert response.status_code == 400
    assert saved_settings(two_firms) == before


def test_legal_forms_in_another_script_and_crlf_lines_are_kept_one_per_line(client, two_firms):
    client.force_login(two_firms.owner_a)
    posted = form_data(match_legal_forms="Kft\r\nש״מ\r\n\r\n", link_sure_percent="٩٥")
    assert client.post(url(two_firms), posted).status_code == 302
    kept = SyncSettings.for_client(two_firms.client_a)
    assert kept.match_legal_forms == "Kft\nש״מ"
    assert kept.link_sure_percent == 95  # Arabic-Indic digits read as the number they are


def test_a_contractor_or_viewer_cannot_change_matching_and_no_csrf_token_is_refused(
    client, two_firms
):
    client.force_login(two_firms.viewer_a)
    assert client.post(url(two_firms), form_data(link_sure_percent="50")).status_code == 403
    strict = DjangoClient(enforce_csrf_checks=True)
    strict.force_login(two_firms.owner_a)
    assert strict.post(url(two_firms), form_data(link_sure_percent="50")).status_code == 403
    assert SyncSettings.for_client(two_firms.client_a).link_sure_percent == 90


@pytest.mark.parametrize(
    "best_pairs",
    [
        "not a list",
        [[1, 2]],
        [["a", "b", "c"]],
        [None],
        {"bin": 1},
        [[999, 1e308, 1e308], [999, 1e308, 1e308]],
    ],
)
def test_damaged_kept_figures_leave_the_page_working(client, two_firms, learnt, best_pairs):
    learnt.best_pairs = best_pairs
    learnt.save()
    client.force_login(two_firms.owner_a)
    page = client.get(url(two_firms))
    assert page.status_code == 200


def test_a_typographic_apostrophe_or_hebrew_gershayim_does_not_split_a_name():
    from sync.linkage.names import words

    assert words("O\u2019Brien Plumbing") == words("O'Brien Plumbing") == ["obrien", "plumbing"]
    assert words("שלום בנייה בע״מ") == ["שלום", "בנייה", "בעמ"]


@pytest.mark.parametrize(
    "damage",
    [
        {"model": {"fingerprint": None}},
        {"model": []},
        {"model": "x" * 100_000},
        {"model_m": [[0.5] * 100_000]},
        {"model_prior": True},
        {"model_prior": 1e308},
        {"partner_share": float("nan")},
        {"partner_share": float("inf")},
        {"partner_share": -1.0},
        {"partner_share": 1e-300},  # every record would read as new: duplicates
    ],
    ids=str,
)
def test_a_damaged_kept_model_is_ignored_by_runs_and_named_on_the_page(
    client, two_firms, learnt, damage
):
    """Runs fall back to the priors (decision 0026); the page does not fail."""
    from sync import learnt as kept_weights

    model = dict(learnt.model)
    if "model" in damage:
        learnt.model = damage["model"]
    elif "model_m" in damage:
        learnt.model = model | {"m": damage["model_m"]}
    elif "model_prior" in damage:
        learnt.model = model | {"prior": damage["model_prior"]}
    else:
        learnt.partner_share = damage["partner_share"]
    learnt.save()

    row, usable = kept_weights.stored(two_firms.client_a)
    assert row is not None and usable is None
    client.force_login(two_firms.owner_a)
    page = client.get(url(two_firms))
    assert page.status_code == 200
    assert "are not used" in page.content.decode()


def test_a_user_of_no_firm_and_an_accountant_cannot_change_matching(client, two_firms):
    """Contractors have no staff account: a logged-in user outside the firm is one."""
    from .factories import UserFactory

    for user in (UserFactory(email="contractor@roofs.example"), two_firms.accountant_a):
        client.force_login(user)
        answer = client.post(url(two_firms), form_data(link_sure_percent="50"))
        assert answer.status_code in (302, 403, 404), user
        assert SyncSettings.for_client(two_firms.client_a).link_sure_percent == 90
