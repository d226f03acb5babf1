"""What a new QuickBooks Online company starts with: the standard chart of accounts and the
company preferences, as data. The emulator opens every company with these (see
`store.open_company`), so a fresh sandbox company looks like a fresh real one.

The accounts are the ones QBO (US) sets up for a new service business; each carries QBO's
AccountType, its detail type (AccountSubType, the API's spelling) and the Classification
QBO derives from the type. Names are unique (QBO refuses a second account of the same name
with 6240), so callers look these up by name instead of creating them.
"""

from dataclasses import dataclass

USD = {"value": "USD", "name": "United States Dollar"}

# QBO derives an account's Classification from its AccountType.
CLASSIFICATION = {
    "Bank": "Asset",
    "Accounts Receivable": "Asset",
    "Other Current Asset": "Asset",
    "Fixed Asset": "Asset",
    "Other Asset": "Asset",
    "Accounts Payable": "Liability",
    "Credit Card": "Liability",
    "Other Current Liability": "Liability",
    "Long Term Liability": "Liability",
    "Equity": "Equity",
    "Income": "Revenue",
    "Other Income": "Revenue",
    "Cost of Goods Sold": "Expense",
    "Expense": "Expense",
    "Other Expense": "Expense",
}

# The detail type QBO picks when an account is created with only its type.
DEFAULT_SUBTYPE = {
    "Bank": "Checking",
    "Accounts Receivable": "AccountsReceivable",
    "Other Current Asset": "OtherCurrentAssets",
    "Fixed Asset": "OtherFixedAssets",
    "Other Asset": "OtherLongTermAssets",
    "Accounts Payable": "AccountsPayable",
    "Credit Card": "CreditCard",
    "Other Current Liability": "OtherCurrentLiabilities",
    "Long Term Liability": "OtherLongTermLiabilities",
    "Equity": "OwnersEquity",
    "Income": "ServiceFeeIncome",
    "Other Income": "OtherMiscellaneousIncome",
    "Cost of Goods Sold": "SuppliesMaterialsCogs",
    "Expense": "OtherMiscellaneousServiceCost",
    "Other Expense": "OtherMiscellaneousExpense",
}


@dataclass(frozen=True)
class StandardAccount:
    name: str
    account_type: str
    sub_type: str

    def body(self) -> dict:
        """The Account as QBO stores it (before ids and metadata)."""
        return {
            "Name": self.name,
            "AccountType": self.account_type,
            "AccountSubType": self.sub_type,
            "Classification": CLASSIFICATION[self.account_type],
        }


STANDARD_ACCOUNTS = (
    StandardAccount("Checking", "Bank", "Checking"),
    StandardAccount("Accounts Receivable (A/R)", "Accounts Receivable", "AccountsReceivable"),
    StandardAccount("Undeposited Funds", "Other Current Asset", "UndepositedFunds"),
    StandardAccount("Inventory Asset", "Other Current Asset", "Inventory"),
    StandardAccount("Uncategorized Asset", "Other Current Asset", "OtherCurrentAssets"),
    StandardAccount("Accounts Payable (A/P)", "Accounts Payable", "AccountsPayable"),
    StandardAccount("Opening Balance Equity", "Equity", "OpeningBalanceEquity"),
    StandardAccount("Owner's Investment", "Equity", "OwnersEquity"),
    StandardAccount("Owner's Pay & Personal Expenses", "Equity", "PersonalExpense"),
    StandardAccount("Retained Earnings", "Equity", "RetainedEarnings"),
    StandardAccount("Services", "Income", "ServiceFeeIncome"),
    StandardAccount("Sales of Product Income", "Income", "SalesOfProductIncome"),
    StandardAccount("Billable Expense Income", "Income", "OtherPrimaryIncome"),
    StandardAccount("Uncategorized Income", "Income", "OtherPrimaryIncome"),
    StandardAccount("Discounts given", "Income", "DiscountsRefundsGiven"),
    StandardAccount("Cost of Goods Sold", "Cost of Goods Sold", "SuppliesMaterialsCogs"),
    StandardAccount("Advertising & Marketing", "Expense", "AdvertisingPromotional"),
    StandardAccount("Bank Charges & Fees", "Expense", "BankCharges"),
    StandardAccount("Car & Truck", "Expense", "Auto"),
    StandardAccount("Contractors", "Expense", "CostOfLabor"),
    StandardAccount("Insurance", "Expense", "Insurance"),
    StandardAccount("Job Supplies", "Expense", "SuppliesMaterials"),
    StandardAccount("Legal & Professional Services", "Expense", "LegalProfessionalFees"),
    StandardAccount("Meals", "Expense", "EntertainmentMeals"),
    StandardAccount("Office Supplies & Software", "Expense", "OfficeGeneralAdministrativeExpenses"),
    StandardAccount("Rent & Lease", "Expense", "RentOrLeaseOfBuildings"),
    StandardAccount("Utilities", "Expense", "Utilities"),
    StandardAccount("Uncategorized Expense", "Expense", "OtherMiscellaneousServiceCost"),
    StandardAccount("Interest Earned", "Other Income", "InterestEarned"),
)


# The company preferences a new US company has. Most are read-only through the API (QBO
# documents only a small writable subset); `WRITABLE` names what a Preferences update may
# change. The company's own settings (custom transaction numbers, sales tax, home currency,
# closing date) are filled in from the company row by `store.preferences`.
DEFAULT_PREFERENCES = {
    "AccountingInfoPrefs": {
        "FirstMonthOfFiscalYear": "January",
        "UseAccountNumbers": False,
        "TaxYearMonth": "January",
        "ClassTrackingPerTxn": False,
        "ClassTrackingPerTxnLine": False,
        "TrackDepartments": False,
        "DepartmentTerminology": "Location",
        "CustomerTerminology": "Customers",
    },
    "ProductAndServicesPrefs": {
        "ForSales": True,
        "ForPurchase": True,
        "QuantityWithPriceAndRate": True,
        "QuantityOnHand": True,
    },
    "SalesFormsPrefs": {
        "AllowDeposit": True,
        "AllowDiscount": True,
        "AllowEstimates": True,
        "AllowServiceDate": False,
        "AllowShipping": False,
        "AutoApplyCredit": True,
        "AutoApplyPayments": True,
        "CustomTxnNumbers": False,
        "DefaultTerms": {"value": "3"},  # Net 30
        "EmailCopyToCompany": False,
        "ETransactionEnabledStatus": "NotApplicable",
        "ETransactionPaymentEnabled": False,
        "IPNSupportEnabled": False,
        "PrintItemWithZeroAmount": False,
        "UsingPriceLevels": False,
        "UsingProgressInvoicing": False,
    },
    "EmailMessagesPrefs": {
        "InvoiceMessage": {
            "Subject": "Invoice from [Company Name]",
            "Message": "Dear [Name],\n\nWe appreciate your business. Please find your "
            "invoice details here.\n\nHave a great day!\n[Company Name]",
        },
    },
    "VendorAndPurchasesPrefs": {
        "BillableExpenseTracking": False,
        "TrackingByCustomer": False,
    },
    "TimeTrackingPrefs": {
        "UseServices": True,
        "BillCustomers": True,
        "ShowBillRateToAll": False,
        "WorkWeekStartDate": "Monday",
        "MarkTimeEntriesBillable": True,
    },
    "TaxPrefs": {"UsingSalesTax": False, "PartnerTaxEnabled": False},
    "CurrencyPrefs": {"MultiCurrencyEnabled": False, "HomeCurrency": {"value": "USD"}},
    "ReportPrefs": {"ReportBasis": "Accrual", "CalcAgingReportFromTxnDate": False},
    "OtherPrefs": {
        "NameValue": [
            {"Name": "SalesFormsPrefs.DefaultCustomerMessage", "Value": ""},
            {"Name": "VendorAndPurchasesPrefs.POCustomField", "Value": ""},
            {"Name": "ProjectsEnabled", "Value": "false"},
        ]
    },
}

# Section → fields a Preferences update may change; anything else sent is ignored, as
# QBO does with the read-only ones a full update sends back. The closing date
# (AccountingInfoPrefs.BookCloseDate), sales tax and home currency are read-only through
# the API: in QBO they are set in the product's screens, here by the control API.
WRITABLE = {
    "AccountingInfoPrefs": {
        "ClassTrackingPerTxn",
        "ClassTrackingPerTxnLine",
        "TrackDepartments",
        "DepartmentTerminology",
    },
    "ProductAndServicesPrefs": {
        "ForSales",
        "ForPurchase",
        "QuantityWithPriceAndRate",
        "QuantityOnHand",
    },
    "SalesFormsPrefs": {
        "AllowDeposit",
        "AllowDiscount",
        "AllowEstimates",
        "AllowServiceDate",
        "AllowShipping",
        "AutoApplyCredit",
        "AutoApplyPayments",
        "CustomTxnNumbers",
        "DefaultTerms",
        "EmailCopyToCompany",
        "PrintItemWithZeroAmount",
    },
    "EmailMessagesPrefs": {"InvoiceMessage", "EstimateMessage", "SalesReceiptMessage"},
    "VendorAndPurchasesPrefs": {"BillableExpenseTracking", "TrackingByCustomer"},
    "TimeTrackingPrefs": {
        "UseServices",
        "BillCustomers",
        "ShowBillRateToAll",
        "WorkWeekStartDate",
        "MarkTimeEntriesBillable",
    },
    "ReportPrefs": {"ReportBasis"},
}
