"""The sandbox_generate command's refusals (writing itself is tested in test_seed_book)."""

import pytest
from django.core.management import CommandError, call_command


def test_it_refuses_too_few_invoices_for_every_planted_finding(settings):
    settings.SANDBOX = True
    with pytest.raises(CommandError, match="at least 7 invoices"):
        call_command("sandbox_generate", "--invoices", "3", "--base-url", "http://127.0.0.1:9")


def test_it_refuses_to_run_without_the_sandbox(settings):
    settings.SANDBOX = False
    with pytest.raises(CommandError, match="SANDBOX is off"):
        call_command("sandbox_generate", "--base-url", "http://127.0.0.1:9")
