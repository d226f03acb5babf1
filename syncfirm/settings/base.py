"""Settings shared by every environment, read from the environment with django-environ.

Every variable is documented in `.env.example`. A secret can also come from a file named by
`<NAME>_FILE` (Docker/Kubernetes secrets), so it never has to sit in the environment itself.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env(
    DEBUG=(bool, False),
    SANDBOX=(bool, False),
    ALLOWED_HOSTS=(list, ["127.0.0.1", "localhost"]),
    CSRF_TRUSTED_ORIGINS=(list, []),
    TIME_ZONE=(str, "UTC"),
    EMAIL_URL=(str, "consolemail://"),
    DEFAULT_FROM_EMAIL=(str, "syncfirm <noreply@syncfirm.local>"),
    REDIS_URL=(str, ""),
    Q_WORKERS=(int, 2),
    LOG_LEVEL=(str, "INFO"),
    LOG_FORMAT=(str, "plain"),
)
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def secret(name: str, default: str | None = None) -> str:
    """A secret from `NAME`, or from the file named by `NAME_FILE`; fails loudly if neither."""
    path = env.str(f"{name}_FILE", default="")
    if path:
        return Path(path).read_text().strip()
    if default is None:
        return env.str(name)
    return env.str(name, default=default)


DEBUG = env("DEBUG")
SANDBOX = env("SANDBOX")
SECRET_KEY = secret("SECRET_KEY", default="")
ALLOWED_HOSTS = env("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env("CSRF_TRUSTED_ORIGINS")

# OAuth apps registered with the providers. In sandbox mode the emulators issue tokens to
# these same ids, so the demo and the tests run the real flows (development.py sets defaults).
QUICKBOOKS_CLIENT_ID = secret("QUICKBOOKS_CLIENT_ID", default="")
QUICKBOOKS_CLIENT_SECRET = secret("QUICKBOOKS_CLIENT_SECRET", default="")
QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN = secret("QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN", default="")
HUBSPOT_APP_ID = env.str("HUBSPOT_APP_ID", default="")
HUBSPOT_CLIENT_ID = secret("HUBSPOT_CLIENT_ID", default="")
HUBSPOT_CLIENT_SECRET = secret("HUBSPOT_CLIENT_SECRET", default="")
# The developer account's key: only for registering the app's webhook subscriptions.
HUBSPOT_DEVELOPER_API_KEY = secret("HUBSPOT_DEVELOPER_API_KEY", default="")
XERO_CLIENT_ID = secret("XERO_CLIENT_ID", default="")
XERO_CLIENT_SECRET = secret("XERO_CLIENT_SECRET", default="")
# The key Xero signs webhook deliveries with (x-xero-signature).
XERO_WEBHOOK_KEY = secret("XERO_WEBHOOK_KEY", default="")
# Jobber signs webhook deliveries with the app's client secret (X-Jobber-Hmac-SHA256).
JOBBER_CLIENT_ID = secret("JOBBER_CLIENT_ID", default="")
JOBBER_CLIENT_SECRET = secret("JOBBER_CLIENT_SECRET", default="")

# Fernet keys encrypting OAuth tokens at rest, newest first (see syncfirm/crypto.py).
FIELD_ENCRYPTION_KEYS = [
    key for key in secret("FIELD_ENCRYPTION_KEYS", default="").split(",") if key.strip()
]
# Where this app is reached from outside: links in emails and OAuth redirect URIs built
# outside a request (management commands, tasks).
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000")
# Where the sandbox emulators answer (this same server) when SANDBOX is on.
SANDBOX_BASE_URL = env.str("SANDBOX_BASE_URL", default=PUBLIC_BASE_URL)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_htmx",
    "django_q",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # the docs page's assets, served from here (no CDN)
    "syncfirm",
    "api",
    "clients",
    "connections",
    "sync",
    "dashboard",
    "reconciliation",
    "questions",
    "notices",
    "sandbox",
    "sandbox.quickbooks",
    "sandbox.hubspot",
    "sandbox.xero",
    "sandbox.jobber",
]

# Covering indexes (INCLUDE) are PostgreSQL's; SQLite, the demo's database, builds them
# without the included columns, which only makes them less useful there.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

MIDDLEWARE = [
    "syncfirm.request_id.RequestIdMiddleware",
    "syncfirm.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "syncfirm.request_guard.RefuseUnusableText",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "clients.middleware.CurrentFirmMiddleware",
    "clients.mfa.RequireMfaMiddleware",
]

# Content-Security-Policy (Django's own): scripts and styles only from our static files
# (no inline code or handlers; a nonce for an inline script that truly needs one), no
# plugins, no framing. htmx's own indicator <style> is turned off (meta htmx-config in
# base.html) and its rules live in app.css. Images may be data: URIs (Pico's icons).
# Pages that need more say so with @csp_override (the API docs: api/urls.py).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

ROOT_URLCONF = "syncfirm.urls"
WSGI_APPLICATION = "syncfirm.wsgi.application"
ASGI_APPLICATION = "syncfirm.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clients.context_processors.firm",
                "notices.context_processors.notices",
            ],
        },
    },
    {
        # Only the partials a page repeats many times (see syncfirm/jinja.py).
        "NAME": "jinja2",
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "syncfirm.jinja.environment"},
    },
]

# SQLite is the embedded default so `make demo` needs nothing installed; production and the
# test suite use PostgreSQL through DATABASE_URL.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'syncfirm.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", 0)


def sandbox_database(default: dict) -> dict:
    """The sandbox emulators' own database: SANDBOX_DATABASE_URL, else beside the app's."""
    if env.str("SANDBOX_DATABASE_URL", default=""):
        return {**env.db("SANDBOX_DATABASE_URL"), "CONN_MAX_AGE": 60}
    config = dict(default)
    # The emulators answer many small calls; reopening a connection for each costs more
    # than the call (SQLite especially), so connections persist for a minute.
    config["CONN_MAX_AGE"] = 60
    if config["ENGINE"].endswith("sqlite3"):
        config["NAME"] = str(BASE_DIR / "var" / "sandbox.sqlite3")
    else:
        config["NAME"] = f"{config['NAME']}_sandbox"
    return config


# The emulators' state lives apart from the app's tables (see sandbox.routers).
DATABASES["sandbox"] = sandbox_database(DATABASES["default"])
# SQLite (the demo's embedded default) is written by the web server, the workers and the
# sync at once: WAL lets readers go on during a write, IMMEDIATE takes the write lock at
# the start of a transaction (no lock upgrade to deadlock on), and writers queue for up
# to 30 s instead of failing with "database is locked".
SQLITE_OPTIONS = {
    "timeout": 30,
    "transaction_mode": "IMMEDIATE",
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}
for _config in DATABASES.values():
    if _config["ENGINE"].endswith("sqlite3"):
        _config["OPTIONS"] = {**SQLITE_OPTIONS, **_config.get("OPTIONS", {})}
DATABASE_ROUTERS = ["sandbox.routers.SandboxRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "clients.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "account_login"

# django-allauth: email is the login; there are no usernames.
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="mandatory")
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_RATE_LIMITS = {
    # Failed logins per IP and per account; allauth answers 429 past these.
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    # Answers to questions from emailed links (questions/views.py), per IP.
    "contractor_answer": "20/h/ip",
}
ACCOUNT_ADAPTER = "clients.adapters.AccountAdapter"
MFA_ADAPTER = "clients.adapters.MFAAdapter"  # TOTP secrets encrypted at rest
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "syncfirm"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}


def mailers_from_url(url_config: dict) -> dict:
    """Django 6.1's MAILERS from django-environ's parsed EMAIL_URL (smtp://, consolemail://)."""
    backend = url_config["EMAIL_BACKEND"]
    options = {}
    if backend.endswith("smtp.EmailBackend"):
        options = {
            "host": url_config.get("EMAIL_HOST") or "localhost",
            "port": url_config.get("EMAIL_PORT") or 25,
            "username": url_config.get("EMAIL_HOST_USER") or "",
            "password": url_config.get("EMAIL_HOST_PASSWORD") or "",
            "use_tls": bool(url_config.get("EMAIL_USE_TLS")),
            "use_ssl": bool(url_config.get("EMAIL_USE_SSL")),
        }
    elif backend.endswith("filebased.EmailBackend"):
        options = {"file_path": url_config.get("EMAIL_FILE_PATH")}
    return {"default": {"BACKEND": backend, "OPTIONS": options}}


MAILERS = mailers_from_url(env.email_url("EMAIL_URL"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

REDIS_URL = env("REDIS_URL")
# How long the dashboard may reuse a firm's figures; any change made through the app
# clears them at once (dashboard/cache.py). 0 turns the cache off.
DASHBOARD_CACHE_SECONDS = env.int("DASHBOARD_CACHE_SECONDS", default=5)

CACHES = (
    {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    if REDIS_URL
    else {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
)

# django-q2: the ORM broker by default (nothing to install); Redis when REDIS_URL is set, so
# many qcluster processes on many machines can share the work.
Q_CLUSTER = {
    "name": "syncfirm",
    "workers": env("Q_WORKERS"),
    "timeout": 600,
    "retry": 900,
    "max_attempts": 1,
    "catch_up": False,
    "label": "Background tasks",
    **({"redis": REDIS_URL} if REDIS_URL else {"orm": "default"}),
}

# Days a new API token lasts unless its creator picks another span (1-365).
API_TOKEN_DAYS = env.int("API_TOKEN_DAYS", default=90)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # JSON bodies: one object, storable, not absurdly nested (api/parsers.py), else a 400.
    "DEFAULT_PARSER_CLASSES": [
        "api.parsers.ObjectJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "syncfirm API",
    "DESCRIPTION": "Clients, connections (status only), sync runs, conflicts, findings and "
    "reconciliations of the caller's firm. Token authentication: "
    "`Authorization: Token <key>` (a personal token from your account's API tokens page; "
    "it expires); `X-Firm: <firm slug>` when you belong to several firms.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

if env("LOG_FORMAT") not in ("plain", "json"):
    raise ImproperlyConfigured("LOG_FORMAT is plain or json.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        # One JSON object per line (python-json-logger), for a log collector.
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "filters": {
        "redact_secrets": {"()": "syncfirm.logfilters.RedactSecrets"},
        "request_id": {"()": "syncfirm.request_id.RequestIdFilter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": env("LOG_FORMAT"),
            "filters": ["redact_secrets", "request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL")},
    "loggers": {
        # Django's own defaults put an unfiltered console handler and the admin emails
        # (tracebacks) on "django"; naming it here replaces them with the redacting one.
        "django": {"handlers": ["console"], "level": env("LOG_LEVEL"), "propagate": False},
        # runserver's one line per request: through the redacting handler, at LOG_LEVEL.
        "django.server": {"handlers": ["console"], "level": env("LOG_LEVEL"), "propagate": False},
        # These log request lines, headers and tokens at DEBUG; never let them.
        "urllib3": {"level": "WARNING"},
        "requests_oauthlib": {"level": "WARNING"},
        "oauthlib": {"level": "WARNING"},
        "intuitlib": {"level": "WARNING"},
    },
}


# /metrics answers a scraper holding this Bearer token; unset, the page does not exist.
METRICS_TOKEN = secret("METRICS_TOKEN", default="")

# Errors to Sentry through its SDK when a DSN is given; nothing personal is sent.
SENTRY_DSN = secret("SENTRY_DSN", default="")
if SENTRY_DSN:
    import sentry_sdk

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
        send_default_pii=False,
    )
