from django.apps import AppConfig


class JobberSandboxConfig(AppConfig):
    name = "sandbox.jobber"
    label = "sandbox_jobber"
    verbose_name = "Sandbox: Jobber"
