from django.apps import AppConfig


class XeroSandboxConfig(AppConfig):
    name = "sandbox.xero"
    label = "sandbox_xero"
    verbose_name = "Sandbox: Xero Accounting"
