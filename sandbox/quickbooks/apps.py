from django.apps import AppConfig


class QuickBooksSandboxConfig(AppConfig):
    name = "sandbox.quickbooks"
    label = "sandbox_quickbooks"
    verbose_name = "Sandbox: Intuit QuickBooks Online"
