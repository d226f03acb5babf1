"""The client's sync settings as a form: direction, which CRM records are customers, who owns
each field, the field map (a row per field, the CRM's own properties offered), and the
income account, picked from the books' own list."""

import pycountry
from django import forms
from django.core import validators

from clients.forms import say_length_limits

from . import field_map_form, matching_form
from .books_choices import BooksChoices, CrmChoices
from .invoicing import doc_number
from .mapping import field_label
from .models import (
    ACCOUNTING,
    CRM,
    DEFAULT_FIELD_OWNERS,
    REVIEW,
    IssuedInvoiceChanges,
    JobReference,
    LearntMatching,
    PaymentRule,
    Posting,
    SyncSettings,
)

OWNER_CHOICES = [
    (CRM, "CRM wins"),
    (ACCOUNTING, "Accounting system wins"),
    (REVIEW, "Ask a person"),
]
# (field, least, most, unit): payment terms up to a year, a pull at most every 5 minutes
# (the providers' rate limits) and at least daily, stale receivables from a day to 3 years.
LIMITS = (
    ("payment_terms_days", 0, 365, "days"),
    ("schedule_minutes", 5, 1440, "minutes"),
    ("stale_after_days", 1, 1095, "days"),
)


class SyncSettingsForm(forms.ModelForm):
    class Meta:
        model = SyncSettings
        fields = [
            "customer_direction",
            "crm_source",
            "schedule_minutes",
            "invoices_on",
            "posting",
            "payment_rule",
            "job_reference",
            "job_tracking_category",
            "issued_invoice_changes",
            "invoice_number_pattern",
            "payment_terms_days",
            "income_account",
            "unmatched_item",
            "books_currency",
            "sales_tax",
            "stale_after_days",
            "report_contractor_email",
            *matching_form.FIELDS,
        ]
        labels = {
            "customer_direction": "Customers: direction",
            "crm_source": "Which CRM records are customers",
            "schedule_minutes": "Batched pull every (minutes)",
            "invoices_on": "Invoice closed-won deals and write payment status back",
            "posting": "Who posts the CRM's invoices to the books",
            "issued_invoice_changes": "When a won deal changes after it was invoiced",
            "invoice_number_pattern": "Invoice number pattern",
            "payment_terms_days": "Payment terms (days)",
            "income_account": "Income account for new products",
            "unmatched_item": "A product the books do not have",
            "books_currency": "Currency of the books",
            "sales_tax": "The books charge sales tax",
            "stale_after_days": "Stale receivable after (days)",
            "report_contractor_email": "Contractor's email for the monthly report",
        }

    def __init__(
        self, *args, books: BooksChoices, crm: CrmChoices, learnt: LearntMatching | None = None,
        **kwargs,
    ):  # fmt: skip
        super().__init__(*args, **kwargs)
        self.books, self.crm, self.learnt = books, crm, learnt
        # Bounds a person would recognise, and no value that can crash a sync (terms of
        # 99,999,999,999 days overflowed the due date).
        for name, least, most, unit in LIMITS:
            field = self.fields[name]
            field.min_value, field.max_value = least, most
            field.widget.attrs.update(min=least, max=most)
            field.error_messages.update(
                min_value=f"At least {least} {unit}.", max_value=f"At most {most} {unit}."
            )
            field.validators = [v for v in field.validators if not hasattr(v, "limit_value")]
            field.validators += [
                validators.MinValueValidator(least, f"At least {least} {unit}."),
                validators.MaxValueValidator(most, f"At most {most} {unit}."),
            ]
        if crm.bills:
            self.fields["posting"].required = True
            self.fields["posting"].choices = Posting.choices
            # The CRM's own invoices stand for deals: say so in its words.
            named = crm.crm or "the CRM"
            self._speak_of_issued_invoices(named)
            self._job_fields(named)
        else:  # a sales CRM's won deals are always syncfirm's to invoice; no jobs, and a
            # deal carries syncfirm's payment status instead of payments
            for name in ("posting", "payment_rule", "job_reference", "job_tracking_category"):
                del self.fields[name]
        self.fields["income_account"] = self._income_account_field()
        self.fields["unmatched_item"] = self._unmatched_item_field()
        if crm.bills:
            self.fields["unmatched_item"].help_text = (
                f"A {named} invoice line whose product (by SKU, then name) the books lack. "
                "Billed as one of the books' items, the line's description names the product."
            )
        field_map_form.add_fields(self, self.instance.field_map or {}, crm)
        owners = {**DEFAULT_FIELD_OWNERS, **(self.instance.field_owners or {})}
        for name in DEFAULT_FIELD_OWNERS:
            self.fields[f"owner_{name}"] = forms.ChoiceField(
                choices=OWNER_CHOICES,
                initial=owners[name],
                label=field_label(name),
            )
        matching_form.add_fields(self)
        say_length_limits(self)

    def _speak_of_issued_invoices(self, named: str) -> None:
        """A CRM that bills its own work has invoices, not won deals, and clients, not
        companies and contacts: each field says so in its name ("Jobber")."""
        words = {
            "invoices_on": (
                f"Post {named}'s issued invoices to the books",
                "When syncfirm posts: each issued invoice once, numbered from its "
                f"{named} number by the pattern below.",
            ),
            "posting": (
                f"Who posts {named}'s invoices to the books",
                f"syncfirm posts them, or another integration (such as {named}'s own) does and "
                "syncfirm only audits, writing nothing unless a fix is approved. Before "
                f"switching to syncfirm, turn off {named}'s own sync to the books, or both will "
                f"post each invoice. At the switch, the {named} invoices the books lack are "
                f"posted, except those dated in the books' closed period and those already paid "
                f"in {named} whose payments are not carried to the books (kept back, each with "
                "its reason); one the books may already hold waits for you.",
            ),
            "payment_rule": (
                f"Payments between {named} and the books",
                f"When syncfirm posts {named}'s invoices: whose payments are recorded in the "
                f"other system, each once. Both ways: a payment recorded in either is recorded in "
                f"the other. From {named} to the books: payments taken in {named} are recorded "
                "in the books, and the books' own stay there (and the reverse). Not carried: "
                "each system keeps its own. A payment the other side already shows (recorded "
                "there by hand, same amount, same invoice) is matched, never recorded twice. "
                "Refunds, payments dated in the books' closed period and payments larger than "
                "what is still owed wait for you. With payments carried to the books, an "
                f"invoice already paid in {named} at the switch is posted with its payments.",
            ),
            "issued_invoice_changes": (
                f"When a {named} invoice changes after it was posted",
                f"A {named} invoice whose lines change after it was posted. A paid or partly "
                "paid invoice, one changed in the books, or one whose amount alone moved "
                "always waits for review.",
            ),
            "invoice_number_pattern": (
                "Invoice number pattern",
                f"The number of the books invoice; {{deal_id}} is {named}'s invoice number.",
            ),
        }
        for name, (label, help_text) in words.items():
            self.fields[name].label, self.fields[name].help_text = label, help_text
        self.fields["payment_rule"].choices = [
            (PaymentRule.BOTH, "Both ways"),
            (PaymentRule.CRM_TO_BOOKS, f"From {named} to the books"),
            (PaymentRule.BOOKS_TO_CRM, f"From the books to {named}"),
            (PaymentRule.NONE, "Not carried"),
        ]
        self.fields["issued_invoice_changes"].choices = [
            (IssuedInvoiceChanges.REVIEW, IssuedInvoiceChanges.REVIEW.label),
            (
                IssuedInvoiceChanges.UPDATE_UNPAID,
                f"Update the books invoice to match {named}'s while nothing is paid",
            ),
        ]
        # Its clients are the customers, whatever kind they are.
        del self.fields["crm_source"]

    def _job_fields(self, named: str) -> None:
        """Where the books file each posted invoice's job: only what the connected books
        can do is offered (a setting left from other books is shown, and refused when
        saved), and the tracking category only for books that keep categories."""
        can = self.books.job_references
        books = self.books.invoicing.name if self.books.invoicing else "the books"
        words = {
            JobReference.NOTE: JobReference.NOTE.label,
            JobReference.CLASS: f"A {books} class per job",
            JobReference.SUB_CUSTOMER: f"A {books} sub-customer per job, under the client's "
            "customer",
            JobReference.TRACKING: f"An option per job in a {books} tracking category",
        }
        current = self.instance.job_reference
        field = self.fields["job_reference"]
        offered = [(k, words[k]) for k in JobReference.values if k in can]
        if current not in can:
            offered.append((current, f"{words[current]} ({books} cannot)"))
        field.choices = offered
        field.label = f"Where the books file each {named} job"
        field.help_text = (
            f"When syncfirm posts: each invoice of one {named} job is filed under it, named "
            f"“Job #57 - its title” and created once; the note always names the jobs too. "
            "Invoices already posted are not filed again."
        )
        self._cannot_file = f"{books} cannot file jobs that way; pick one of: " + ", ".join(
            words[k] for k in JobReference.values if k in can
        )
        field.error_messages["invalid_choice"] = self._cannot_file + "."
        if JobReference.TRACKING in can:
            category = self.fields["job_tracking_category"]
            category.label = "Tracking category of the jobs"
            category.help_text = (
                f"The {books} tracking category whose options are the jobs; created when the "
                "books lack it."
            )
        else:
            del self.fields["job_tracking_category"]

    def clean_job_reference(self) -> str:
        kind = self.cleaned_data["job_reference"]
        if kind not in self.books.job_references:
            raise forms.ValidationError(self._cannot_file + ".")
        return kind

    def clean_job_tracking_category(self) -> str:
        name = " ".join((self.cleaned_data.get("job_tracking_category") or "").split())
        if not name:
            raise forms.ValidationError("Name the tracking category of the jobs.")
        active, most = self.books.tracking_categories, self.books.tracking_limit
        # Creating the category would fail on every invoice: say so while it can be changed.
        if (
            self.cleaned_data.get("job_reference") == JobReference.TRACKING
            and active is not None
            and most is not None
            and name.casefold() not in {c.casefold() for c in active}
            and len(active) >= most
        ):
            books = self.books.invoicing.name if self.books.invoicing else "The books"
            raise forms.ValidationError(
                f"{books} keeps at most {most} active tracking categories, and these books "
                f"have {len(active)}: {', '.join(active)}. Name one of them, archive one in "
                f"{books}, or file jobs in the note."
            )
        return name

    def _income_account_field(self) -> forms.ChoiceField:
        """A choice among the books' income accounts. When the books cannot be read, the
        current choice is shown and kept (the field is disabled: a post cannot change it)."""
        current = self.instance.income_account
        label = self.Meta.labels["income_account"]
        if not self.books.readable:
            return forms.ChoiceField(
                choices=[(current, current)],
                disabled=True,
                label=label,
                help_text="Kept as it is until the books can be read.",
            )
        names = list(self.books.income_accounts)
        choices = [(name, name) for name in names]
        if current not in names:
            choices.insert(0, (current, f"{current} (not in the books)"))
        return forms.ChoiceField(
            choices=choices,
            label=label,
            help_text="Products the books do not have yet are created in this account; "
            "the list is the books' own income accounts.",
            error_messages={
                "invalid_choice": "There is no income account called “%(value)s” in the "
                "books; pick one from the list."
            },
        )

    def _unmatched_item_field(self) -> forms.ChoiceField:
        """Create the product (empty), or bill it as one of the books' own items. With the
        books unreadable, the current choice is kept, as for the income account."""
        current = self.instance.unmatched_item
        create = ("", "Create it in the income account above")
        named = [(current, f"Bill it as “{current}”")] if current else []
        label = self.Meta.labels["unmatched_item"]
        if not self.books.readable:
            return forms.ChoiceField(
                choices=named or [create], disabled=True, required=False, label=label
            )
        choices = [create, *((name, f"Bill it as “{name}”") for name in self.books.items)]
        if current and current not in self.books.items:
            choices.insert(1, (current, f"Bill it as “{current}” (not in the books)"))
        return forms.ChoiceField(
            choices=choices,
            required=False,
            label=label,
            help_text="A deal's line whose product (by SKU, then name) the books lack. Billed "
            "as one of the books' items, the line's description names the deal's product.",
            error_messages={
                "invalid_choice": "There is no item called “%(value)s” in the books; pick one "
                "from the list."
            },
        )

    def clean_unmatched_item(self) -> str:
        name = self.cleaned_data.get("unmatched_item") or ""
        if name and self.books.readable and name not in self.books.items:
            raise forms.ValidationError(
                f"There is no item called “{name}” in the books; pick one from the list."
            )
        return name

    @property
    def items_note(self) -> str:
        """What the page says about the books' items, when the chosen one is missing."""
        current = self.instance.unmatched_item
        if self.books.readable and current and current not in self.books.items:
            return (
                f"The books have no item called “{current}”: deals with products the books "
                "lack are held until another is picked."
            )
        return ""

    @property
    def books_note(self) -> str:
        """What the page says about the books' list, when something is wrong with it."""
        current = self.instance.income_account
        if not self.books.readable:
            return (
                "The income accounts could not be read from the books: "
                f"{self.books.problem.rstrip('.')}. The current choice, “{current}”, is kept."
            )
        if not self.books.income_accounts:
            return "The books have no income account yet: create one in the books first."
        if current not in self.books.income_accounts:
            return (
                f"The books have no income account called “{current}”: products the books "
                "lack cannot be created until one of theirs is picked."
            )
        return ""

    def clean_income_account(self) -> str:
        name = self.cleaned_data["income_account"]
        if self.books.readable and name not in self.books.income_accounts:
            raise forms.ValidationError(
                f"There is no income account called “{name}” in the books; pick one from the list."
            )
        return name

    @property
    def setting_fields(self) -> list:
        return [
            self[name]
            for name in self.Meta.fields
            if name not in matching_form.FIELDS and name in self.fields
        ]

    @property
    def matching_fields(self) -> list:
        return [self[name] for name in matching_form.FIELDS]

    @property
    def matching_note(self) -> matching_form.Note:
        return matching_form.note(self, self.learnt)

    def clean_match_abbreviations(self) -> str:
        return matching_form.clean_abbreviations(self.cleaned_data["match_abbreviations"])

    def clean_match_legal_forms(self) -> str:
        return matching_form.clean_legal_forms(self.cleaned_data["match_legal_forms"])

    def clean_invoice_number_pattern(self) -> str:
        pattern = self.cleaned_data["invoice_number_pattern"].strip()
        if "{deal_id}" not in pattern:
            raise forms.ValidationError("Put {deal_id} in it: each deal needs its own number.")
        try:
            doc_number(pattern, "9" * 12, self.books.invoicing)  # CRM ids run to 12 digits
        except (KeyError, IndexError, ValueError) as error:
            raise forms.ValidationError(f"Not a usable pattern: {error}") from error
        return pattern

    def clean_books_currency(self) -> str:
        code = self.cleaned_data["books_currency"].strip().upper()
        if pycountry.currencies.get(alpha_3=code) is None:
            raise forms.ValidationError(
                f"“{code}” is not a currency code (ISO 4217): write it like USD, CAD or EUR."
            )
        return code

    @property
    def owner_fields(self) -> list:
        return [self[f"owner_{name}"] for name in DEFAULT_FIELD_OWNERS]

    @property
    def field_map_sections(self) -> list:
        return field_map_form.sections(self, self.crm)

    @property
    def crm_note(self) -> str:
        """What the page says when the CRM's properties could not be read."""
        if self.crm.readable:
            return ""
        return (
            f"The CRM's properties could not be read: {self.crm.problem.rstrip('.')}. "
            "Property names are checked for their form only."
        )

    def clean(self) -> dict:
        cleaned = super().clean()
        matching_form.clean(self, cleaned)
        cleaned["field_map"] = field_map_form.clean(self, self.instance.field_map or {}, self.crm)
        return cleaned

    def save(self, commit: bool = True) -> SyncSettings:
        settings = super().save(commit=False)
        if "posting" in self.changed_data and settings.posting == Posting.SYNCFIRM:
            # syncfirm takes over the posting: the CRM's invoices are paired with the books'
            # again first, so what the other integration posted meanwhile is not posted twice.
            settings.invoice_baseline_at = None
        settings.field_map = self.cleaned_data["field_map"]
        settings.field_owners = {
            name: self.cleaned_data[f"owner_{name}"] for name in DEFAULT_FIELD_OWNERS
        }
        if commit:
            settings.save()
        return settings
