"""What the sync engine tells the layers above it, without importing them."""

from django.dispatch import Signal

# After a sync read the books' change feed: `client`, `invoices` (connections.records.Invoice,
# changed since the last sync), `accounting` (the adapter, for a check that must read more).
# Sent robustly: a receiver's failure is noted on the run, never fails the sync.
books_invoices_changed = Signal()

# After a client's integration health changed and the staff were emailed: `client`, `emails`
# (who was told), `text` (the news in one line: the subject and the first reason).
health_told = Signal()
