"""The demo firm: who logs in and which contractors it serves. Used by `seed_demo`."""

DEMO_FIRM = {"slug": "demo", "name": "Demo Bookkeeping"}
DEMO_PEOPLE = [
    {"email": "owner@demo.test", "role": "owner", "first_name": "Olivia", "last_name": "Owner"},
    {
        "email": "accountant@demo.test",
        "role": "accountant",
        "first_name": "Adam",
        "last_name": "Ledger",
    },
]
DEMO_CLIENTS = [
    {"slug": "hartley-roofing", "name": "Hartley Roofing", "timezone": "America/Chicago"},
    {"slug": "bluewater-plumbing", "name": "Bluewater Plumbing", "timezone": "America/Los_Angeles"},
    {"slug": "oakridge-builders", "name": "Oakridge Builders", "timezone": "America/New_York"},
    {"slug": "northside-electric", "name": "Northside Electric", "timezone": "America/Denver"},
    # Its books are in Xero: the same sync and reconciliation on the other ledger.
    {
        "slug": "summit-landscaping",
        "name": "Summit Landscaping",
        "timezone": "America/Phoenix",
        "books": "xero",
    },
    # Runs Jobber, whose own integration posts its invoices to QuickBooks: syncfirm audits.
    {
        "slug": "cascade-heating",
        "name": "Cascade Heating & Air",
        "timezone": "America/Chicago",
        "crm": "jobber",
    },
]

# Left unconnected by `make demo` so the contractor invitation flow can be tried.
PENDING_CLIENT = "northside-electric"
