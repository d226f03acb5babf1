"""Webhook payload rules and fault draws, without a server (pure)."""

from sandbox import emulation
from sandbox.emulation import FaultPlan
from sandbox.quickbooks import webhooks
from sandbox.quickbooks.store import Event


def test_it_draws_webhook_faults_deterministically_from_the_seed(monkeypatch):
    """Every emulator's webhooks are lost or doubled the same way (`emulation.webhook_copies`)."""
    plan = FaultPlan(seed=42, webhook_loss_rate=0.5, webhook_duplicate_rate=0.3)
    monkeypatch.setattr(emulation, "fault_plan", lambda system, account: plan)

    def run(system: str) -> list[int]:
        emulation.reset()
        return [emulation.webhook_copies(system, "realm-x") for _ in range(40)]

    first = run(emulation.QUICKBOOKS)
    assert first == run(emulation.QUICKBOOKS) == run(emulation.XERO)
    assert {0, 1, 2} == set(first)


def test_it_collapses_a_create_and_its_settling_update():
    events = [
        Event("Payment", "9", "Create", "t1"),
        Event("Invoice", "3", "Update", "t1"),
        Event("Payment", "9", "Update", "t2"),
        Event("Invoice", "4", "Update", "t2"),
        Event("Invoice", "4", "Delete", "t3"),
    ]
    assert webhooks.collapse(events) == [
        Event("Payment", "9", "Create", "t2"),
        Event("Invoice", "3", "Update", "t1"),
        Event("Invoice", "4", "Delete", "t3"),
    ]
