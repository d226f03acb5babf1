"""Signals connections sends, so layers above can act without connections importing them."""

from django.dispatch import Signal

# A contractor's link connected every system it names; sent once, after the commit that
# spent it; `invitation_id`.
invitation_completed = Signal()
