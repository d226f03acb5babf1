"""Views and API code may read tenant models only through `.for_firm(...)` or the helpers in
`clients.tenancy`; a bare `Client.objects.get(...)` in a view fails here."""

import re
from pathlib import Path

from django.apps import apps

ROOT = Path(__file__).resolve().parent.parent
SHELL_FILES = ("views.py", "api.py", "viewsets.py", "serializers.py")


def tenant_model_names() -> list[str]:
    return sorted(m.__name__ for m in apps.get_models() if hasattr(m, "firm_lookup"))


def shell_modules() -> list[Path]:
    found = []
    for app in ("clients", "connections", "reconciliation", "questions", "notices"):
        for path in (ROOT / app).rglob("*.py"):
            if path.name in SHELL_FILES or "views" in path.parent.name:
                found.append(path)
    return found


def unscoped_uses(source: str, models: list[str]) -> list[str]:
    pattern = re.compile(
        rf"\b({'|'.join(models)})\.objects\.(?!for_firm\b)\w+"
        rf"|get_object_or_404\(\s*({'|'.join(models)})\b"
    )
    return [m.group(0) for m in pattern.finditer(source)]


def test_it_knows_the_tenant_models():
    assert {"Client", "Membership", "StaffInvitation", "AuditEntry"} <= set(tenant_model_names())


def test_it_finds_no_unscoped_query_in_views():
    models = tenant_model_names()
    offenders = {
        str(path.relative_to(ROOT)): uses
        for path in shell_modules()
        if (uses := unscoped_uses(path.read_text(), models))
    }
    assert offenders == {}, f"unscoped tenant queries in views: {offenders}"


def test_it_would_catch_a_bare_get():
    source = "client = Client.objects.get(slug=slug)\nok = Client.objects.for_firm(f).get()"
    assert unscoped_uses(source, ["Client"]) == ["Client.objects.get"]
