"""Signals the layers below the pages send, so the pages' caches can listen without the
engine importing them."""

from django.dispatch import Signal

# A firm's figures changed without a model being saved (a bare `.update()`); `firm_id`.
figures_changed = Signal()
