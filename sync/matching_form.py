"""The settings page's customer matching: the two thresholds, the client's words for names,
and what the client's last learnt run says those thresholds would do (decision 0026)."""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django import forms
from django.core import validators

from connections.naming import words_of

from .client_matching import BadLines, expected, parse_abbreviations, parse_legal_forms
from .client_matching import vocabulary as client_vocabulary
from .learnt import usable
from .linkage.matcher import FEW, SURE_UNTRAINED
from .linkage.model import StoredModelUnusable
from .models import LearntMatching

FIELDS = ("link_sure_percent", "review_from_percent", "match_abbreviations", "match_legal_forms")
LABELS = {
    "link_sure_percent": "Link without review at or above (%)",
    "review_from_percent": "Send to review at or above (%)",
    "match_abbreviations": "Abbreviations in this client's customer names",
    "match_legal_forms": "More legal forms to leave out of names",
}
HELP = {
    "link_sure_percent": "How likely (as the matcher weighs it) a CRM record and a customer in "
    "the books must be one customer to be linked without a person.",
    "review_from_percent": "Below the first threshold and at or above this, a person decides; "
    "below this, the record is a new customer.",
    "match_abbreviations": "One per line, like “Htg = Heating” or “Rfg = Roofing”: both "
    "spellings then compare as the same word. Common ones (Const, Bros, Mech, Plbg …) are "
    "known already.",
    "match_legal_forms": "One per line, like “Kft”: left out of names like Inc, LLC, Ltd and "
    "GmbH, which are known already.",
}
# field: (least, most, why the bound)
BOUNDS = {
    "link_sure_percent": (
        Decimal(50),
        Decimal("99.9"),
        "below 50 % a link without review would more often be wrong than right",
    ),
    "review_from_percent": (Decimal(1), Decimal(95), "a person cannot review every pair"),
}
MAX_TEXT = 5000
SHOWN = (Decimal(80), Decimal(90), Decimal(95), Decimal(99))


def add_fields(form: forms.ModelForm) -> None:
    for name, (least, most, why) in BOUNDS.items():
        field = form.fields[name]
        field.min_value, field.max_value = least, most
        field.widget.attrs.update(min=least, max=most, step="0.1")
        said = {
            "min_value": f"At least {least} %: {why}.",
            "max_value": f"At most {most} %.",
            "max_digits": "Write a percentage like 90 or 97.5.",
            "max_decimal_places": "At most one decimal place, like 97.5.",
            "max_whole_digits": f"At most {most} %.",
            "invalid": "Write a percentage like 90 or 97.5.",
        }
        # Django fills in %(limit_value)s: a plain "%" is written "%%" for it.
        said = {key: text.replace("%", "%%") for key, text in said.items()}
        field.error_messages.update(said)
        field.validators = [
            validators.MinValueValidator(least, said["min_value"]),
            validators.MaxValueValidator(most, said["max_value"]),
        ]
    for name in ("match_abbreviations", "match_legal_forms"):
        field = form.fields[name]
        field.widget = forms.Textarea(attrs={"rows": 4})
        field.max_length = MAX_TEXT
        field.validators.append(
            validators.MaxLengthValidator(
                MAX_TEXT, "At most %(limit_value)d characters; this has %(show_value)d."
            )
        )
    for name in FIELDS:
        form.fields[name].label, form.fields[name].help_text = LABELS[name], HELP[name]


def _lines_checked(text: str, parse) -> str:
    try:
        parse(text)
    except BadLines as error:
        raise forms.ValidationError(error.problems) from error
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def clean_abbreviations(text: str) -> str:
    return _lines_checked(text, parse_abbreviations)


def clean_legal_forms(text: str) -> str:
    return _lines_checked(text, parse_legal_forms)


def clean(form: forms.ModelForm, cleaned: dict) -> None:
    sure, review = cleaned.get("link_sure_percent"), cleaned.get("review_from_percent")
    if sure is not None and review is not None and review >= sure:
        form.add_error(
            "review_from_percent",
            f"Review must start below the link without review ({sure} %): a record between "
            "the two goes to a person.",
        )


@dataclass(frozen=True)
class Row:
    threshold: Decimal
    linked: int
    precision: str
    review: str
    current: bool


@dataclass(frozen=True)
class Note:
    """What the page says beside the thresholds."""

    text: str
    rows: tuple[Row, ...] = ()


def _percent(share: float) -> str:
    return f"{share * 100:.1f}\u00a0%"  # kept on one line with its number


def _number(value, fallback: Decimal, field: str) -> Decimal:
    """The threshold as typed when it is one the form accepts, else the saved one: "NaN"
    parses as a Decimal that cannot be compared, "Infinity" as one no bin holds."""
    least, most, _ = BOUNDS[field]
    try:
        typed = Decimal(str(value)) if value not in (None, "") else fallback
    except InvalidOperation:
        return fallback
    return typed if typed.is_finite() and least <= typed <= most else fallback


def note(form: forms.ModelForm, learnt: LearntMatching | None) -> Note:
    """The last learnt run's expectations for the thresholds on the page (as typed, when
    they are numbers), or why there are none yet."""
    settings = form.instance
    words = words_of([settings.client_id])[settings.client_id]
    sure = _number(
        form["link_sure_percent"].value(), settings.link_sure_percent, "link_sure_percent"
    )
    review = _number(
        form["review_from_percent"].value(), settings.review_from_percent, "review_from_percent"
    )
    if review >= sure:  # refused as typed: the saved thresholds are what runs use
        sure, review = settings.link_sure_percent, settings.review_from_percent
    strict = max(sure, Decimal(str(round(SURE_UNTRAINED * 100, 1))))
    untrained = f"Until then a link without review needs at least {strict} %"
    if learnt is None:
        return Note(
            "No run has learnt this client's matching yet: that takes a run with at least "
            f"{FEW} records on each side (the historical import, usually). {untrained}, and "
            "what a threshold would do cannot be told before."
        )
    try:
        usable(learnt)  # what runs read: the page names the weights they ignore
    except StoredModelUnusable:
        return Note(
            "The weights learnt on "
            f"{learnt.learnt_at:%-d %B %Y} were for an older way of comparing records and "
            f"are not used; the next run with at least {FEW} records on each side learns "
            f"them again. {untrained}."
        )
    now = expected(learnt.best_pairs, sure, review)
    text = (
        f"Learnt on {learnt.learnt_at:%-d %B %Y} from {words.customers(learnt.books_records)} "
        f"and {learnt.crm_records:,} CRM records. At these thresholds that run "
        f"would have linked {now.sure:,} record(s) without review"
        + (f", expected to be {_percent(now.precision)} right" if now.precision is not None else "")
        + f", and sent {now.review:,} ({_percent(now.review_share)}) to review."
    )
    _, words_now = client_vocabulary(settings.match_abbreviations, settings.match_legal_forms)
    if learnt.vocabulary != words_now:
        text += (
            " The client's words for names have changed since: its weights are still used, "
            f"and these figures are from the words of then until a run with {FEW} records or "
            "more on each side learns again."
        )
    rows = []
    for threshold in sorted({*SHOWN, sure}):
        if threshold <= review:
            continue
        at = expected(learnt.best_pairs, threshold, review)
        rows.append(
            Row(
                threshold,
                at.sure,
                _percent(at.precision) if at.precision is not None else "none linked",
                f"{at.review:,} ({_percent(at.review_share)})",
                threshold == sure,
            )
        )
    return Note(text, tuple(rows))
