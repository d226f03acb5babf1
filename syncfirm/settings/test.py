"""The test suite: development settings with fast hashing and in-memory email."""

from .development import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
ACCOUNT_EMAIL_VERIFICATION = "optional"
Q_CLUSTER = {**Q_CLUSTER, "sync": True}  # noqa: F405
# Live-server threads must not keep connections open, or the test databases cannot be dropped.
DATABASES["sandbox"]["CONN_MAX_AGE"] = 0  # noqa: F405
# Pages read fresh figures; tests/test_dashboard_cache.py turns the cache on to test it.
DASHBOARD_CACHE_SECONDS = 0
