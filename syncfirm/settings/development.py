"""The demo and local development: DEBUG on, sandbox on, emails to the console."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
SANDBOX = env.bool("SANDBOX", default=True)
# A fixed key is fine here: this module is never used in production (see production.py).
SECRET_KEY = SECRET_KEY or "dev-only-insecure-key-do-not-use-in-production"  # noqa: F405
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="optional")
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}

# The sandbox emulators' own OAuth apps; real credentials come from the environment.
QUICKBOOKS_CLIENT_ID = QUICKBOOKS_CLIENT_ID or "sandbox-qbo-client"  # noqa: F405
QUICKBOOKS_CLIENT_SECRET = QUICKBOOKS_CLIENT_SECRET or "sandbox-qbo-secret"  # noqa: F405
QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN = (
    QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN or "sandbox-qbo-verifier"  # noqa: F405
)
HUBSPOT_APP_ID = HUBSPOT_APP_ID or "1160452"  # noqa: F405
HUBSPOT_CLIENT_ID = HUBSPOT_CLIENT_ID or "sandbox-hubspot-client"  # noqa: F405
HUBSPOT_CLIENT_SECRET = HUBSPOT_CLIENT_SECRET or "sandbox-hubspot-secret"  # noqa: F405
HUBSPOT_DEVELOPER_API_KEY = HUBSPOT_DEVELOPER_API_KEY or "sandbox-developer-key"  # noqa: F405
XERO_CLIENT_ID = XERO_CLIENT_ID or "sandbox-xero-client"  # noqa: F405
XERO_CLIENT_SECRET = XERO_CLIENT_SECRET or "sandbox-xero-secret"  # noqa: F405
XERO_WEBHOOK_KEY = XERO_WEBHOOK_KEY or "sandbox-xero-webhook-key"  # noqa: F405
JOBBER_CLIENT_ID = JOBBER_CLIENT_ID or "sandbox-jobber-client"  # noqa: F405
JOBBER_CLIENT_SECRET = JOBBER_CLIENT_SECRET or "sandbox-jobber-secret"  # noqa: F405
# A fixed development key; production must set FIELD_ENCRYPTION_KEYS (production.py checks).
FIELD_ENCRYPTION_KEYS = FIELD_ENCRYPTION_KEYS or [  # noqa: F405
    "ZGV2LW9ubHkta2V5LWRvLW5vdC11c2UtaW4tcHJvZCE="
]

if SANDBOX:
    # python-quickbooks' OAuth session refuses plain http:// unless this is set; the local
    # emulators speak http. Never set in production (production.py refuses SANDBOX).
    import os

    os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
