"""Companies opened before the emulator started every company with the standard chart of
accounts get the standard accounts they lack (a name they already use, whatever its case,
is left alone: QBO names are unique). Their ids continue the company's own counter."""

from decimal import Decimal

from django.db import migrations
from django.utils import timezone

# Frozen here (not imported): a later change to the live chart must not rewrite history.
ACCOUNTS = [
    ("Checking", "Bank", "Checking", "Asset"),
    ("Accounts Receivable (A/R)", "Accounts Receivable", "AccountsReceivable", "Asset"),
    ("Undeposited Funds", "Other Current Asset", "UndepositedFunds", "Asset"),
    ("Inventory Asset", "Other Current Asset", "Inventory", "Asset"),
    ("Uncategorized Asset", "Other Current Asset", "OtherCurrentAssets", "Asset"),
    ("Accounts Payable (A/P)", "Accounts Payable", "AccountsPayable", "Liability"),
    ("Opening Balance Equity", "Equity", "OpeningBalanceEquity", "Equity"),
    ("Owner's Investment", "Equity", "OwnersEquity", "Equity"),
    ("Owner's Pay & Personal Expenses", "Equity", "PersonalExpense", "Equity"),
    ("Retained Earnings", "Equity", "RetainedEarnings", "Equity"),
    ("Services", "Income", "ServiceFeeIncome", "Revenue"),
    ("Sales of Product Income", "Income", "SalesOfProductIncome", "Revenue"),
    ("Billable Expense Income", "Income", "OtherPrimaryIncome", "Revenue"),
    ("Uncategorized Income", "Income", "OtherPrimaryIncome", "Revenue"),
    ("Discounts given", "Income", "DiscountsRefundsGiven", "Revenue"),
    ("Cost of Goods Sold", "Cost of Goods Sold", "SuppliesMaterialsCogs", "Expense"),
    ("Advertising & Marketing", "Expense", "AdvertisingPromotional", "Expense"),
    ("Bank Charges & Fees", "Expense", "BankCharges", "Expense"),
    ("Car & Truck", "Expense", "Auto", "Expense"),
    ("Contractors", "Expense", "CostOfLabor", "Expense"),
    ("Insurance", "Expense", "Insurance", "Expense"),
    ("Job Supplies", "Expense", "SuppliesMaterials", "Expense"),
    ("Legal & Professional Services", "Expense", "LegalProfessionalFees", "Expense"),
    ("Meals", "Expense", "EntertainmentMeals", "Expense"),
    ("Office Supplies & Software", "Expense", "OfficeGeneralAdministrativeExpenses", "Expense"),
    ("Rent & Lease", "Expense", "RentOrLeaseOfBuildings", "Expense"),
    ("Utilities", "Expense", "Utilities", "Expense"),
    ("Uncategorized Expense", "Expense", "OtherMiscellaneousServiceCost", "Expense"),
    ("Interest Earned", "Other Income", "InterestEarned", "Revenue"),
]


def add_standard_accounts(apps, schema_editor):
    db = schema_editor.connection.alias
    Company = apps.get_model("sandbox_quickbooks", "Company")
    Entity = apps.get_model("sandbox_quickbooks", "Entity")
    now = timezone.now()
    created = timezone.localtime(now, timezone.get_fixed_timezone(-420)).isoformat(
        timespec="seconds"
    )
    for company in Company.objects.using(db).select_for_update().order_by("pk"):
        taken = {
            name.casefold()
            for name in Entity.objects.using(db)
            .filter(company=company, entity_type="Account", deleted=False)
            .values_list("name", flat=True)
        }
        rows = []
        for name, kind, sub_type, classification in ACCOUNTS:
            if name.casefold() in taken:
                continue
            data = {
                "Name": name,
                "AccountType": kind,
                "AccountSubType": sub_type,
                "Classification": classification,
                "FullyQualifiedName": name,
                "Active": True,
                "SubAccount": False,
                "CurrencyRef": {"value": "USD", "name": "United States Dollar"},
                "CurrentBalance": Decimal("0.00"),
                "CurrentBalanceWithSubAccounts": Decimal("0.00"),
                "_created": created,
            }
            rows.append(
                Entity(
                    company=company,
                    entity_type="Account",
                    entity_id=company.next_id,
                    data=data,
                    name=name,
                    active=True,
                    last_updated=now,
                )
            )
            company.next_id += 1
        if rows:
            Entity.objects.using(db).bulk_create(rows)
            company.save(update_fields=["next_id"])


class Migration(migrations.Migration):
    dependencies = [("sandbox_quickbooks", "0003_company_settings_and_preferences")]

    operations = [migrations.RunPython(add_standard_accounts, migrations.RunPython.noop)]
