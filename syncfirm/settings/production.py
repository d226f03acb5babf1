"""Production: hardened defaults; refuses to start with unsafe values.

`manage.py check --deploy` passes with no warnings under these settings.
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env, secret

DEBUG = False
SECRET_KEY = secret("SECRET_KEY")
if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
    raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters of real randomness.")
if env.bool("SANDBOX", default=False):
    raise ImproperlyConfigured("SANDBOX must be off in production: it serves fake providers.")
SANDBOX = False
if "DATABASE_URL" not in env.ENVIRON:
    raise ImproperlyConfigured("Production needs DATABASE_URL (PostgreSQL).")

# Login rate limits (allauth) and the dashboard's figures live in the cache; a per-process
# cache would give every worker its own budget of failed logins. Production shares one.
if not REDIS_URL:  # noqa: F405
    raise ImproperlyConfigured(
        "Production needs REDIS_URL: login rate limits must be counted in a cache every "
        "process shares (redis://host:6379/0)."
    )

if not FIELD_ENCRYPTION_KEYS:  # noqa: F405
    raise ImproperlyConfigured("Production needs FIELD_ENCRYPTION_KEYS to encrypt OAuth tokens.")

ACCOUNT_EMAIL_VERIFICATION = "mandatory"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)  # noqa: F405

# One JSON object per log line unless LOG_FORMAT says plain.
LOGGING["handlers"]["console"]["formatter"] = env.str("LOG_FORMAT", default="json")  # noqa: F405
# Orchestrators probe and Prometheus scrapes over plain HTTP inside the cluster: no redirect.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
