"""What reconciliation sets aside when a client's company changes (connections/set_aside.py):
open findings are closed with a note, and every finding's identity is retired so that
neither an old dismissal nor a set-aside finding can hide the same deal's problem in the
new books."""

import hashlib

from clients.models import Client
from connections.set_aside import Change

from . import totals
from .models import Finding, FindingStatus


class FindingsSetAside:
    def counts(self, client: Client, books_changed: bool) -> dict[str, int]:
        return {
            "open_findings": Finding.objects.filter(
                client=client, status=FindingStatus.OPEN
            ).count()
        }

    def set_aside(self, change: Change) -> dict[str, list]:
        findings = Finding.objects.filter(client=change.client)
        archive = {"findings": list(findings.values("pk", "status", "fingerprint"))}
        findings.filter(status=FindingStatus.OPEN).update(
            status=FindingStatus.DISMISSED,
            decided_by=change.actor,
            decided_at=change.at,
            decision_note=change.note,
        )
        for finding in findings.only("pk", "key", "fingerprint"):
            retired = [
                hashlib.sha256(f"set-aside:{change.change_id}:{value}".encode()).hexdigest()
                for value in (finding.key, finding.fingerprint)
            ]
            Finding.objects.filter(pk=finding.pk).update(key=retired[0], fingerprint=retired[1])
        totals.refresh([change.client.pk])
        return archive
