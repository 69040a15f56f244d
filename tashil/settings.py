"""Tashil settings. Every value that differs between machines is read here from
the environment, and nowhere else.

TASHIL_ENV=production turns on the production mode: it refuses to start without
TASHIL_SECRET_KEY and TASHIL_ALLOWED_HOSTS, and passes `manage.py check --deploy`.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("TASHIL_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


ENVIRONMENT = os.environ.get("TASHIL_ENV", "development")
PRODUCTION = ENVIRONMENT == "production"

SECRET_KEY = os.environ.get("TASHIL_SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("TASHIL_SECRET_KEY must be set when TASHIL_ENV=production.")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"

DEBUG = env_bool("TASHIL_DEBUG", not PRODUCTION)
ALLOWED_HOSTS = env_list(
    "TASHIL_ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver"
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("TASHIL_ALLOWED_HOSTS must be set when TASHIL_ENV=production.")
CSRF_TRUSTED_ORIGINS = env_list("TASHIL_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    # Only for its templates and static files: the API docs page then serves
    # Swagger UI from this site instead of a CDN, as the CSP requires.
    "ninja",
    "django_tasks_db",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "tashil.core",
    "tashil.accounts",
    "tashil.geo",
    "tashil.offices",
    "tashil.agencies",
    "tashil.notifications",
    "tashil.demands",
    "tashil.registry",
    "tashil.system",
    "tashil.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "tashil.core.middleware.PersianFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tashil.core.middleware.NoStoreMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "tashil.accounts.middleware.TwoFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "tashil.urls"
WSGI_APPLICATION = "tashil.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "tashil" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "tashil.accounts.context_processors.navigation",
            ],
            "builtins": ["tashil.core.templatetags.tashil"],
        },
    }
]

# --- Database: SQLite (WAL) under var/ by default, PostgreSQL via DATABASE_URL.
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "tashil.sqlite3",
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Login throttle. Failures count per (account, address) pair, per address and
# per account within the window. A pair gets LOGIN_THROTTLE_ATTEMPTS free tries,
# then must wait 2^n seconds after its n-th failure (capped): growing delays,
# never a lock that someone at another address could set off. An address
# (an office behind NAT shares one) gets more room across all accounts, and
# failures on one account from everywhere only space tries a few seconds apart.
LOGIN_THROTTLE_ATTEMPTS = int(os.environ.get("TASHIL_LOGIN_THROTTLE_ATTEMPTS", "3"))
LOGIN_THROTTLE_ADDRESS_ATTEMPTS = int(
    os.environ.get("TASHIL_LOGIN_THROTTLE_ADDRESS_ATTEMPTS", "30")
)
LOGIN_THROTTLE_ACCOUNT_ATTEMPTS = int(
    os.environ.get("TASHIL_LOGIN_THROTTLE_ACCOUNT_ATTEMPTS", "50")
)
LOGIN_THROTTLE_ACCOUNT_DELAY = int(os.environ.get("TASHIL_LOGIN_THROTTLE_ACCOUNT_DELAY", "5"))
LOGIN_THROTTLE_MAX_DELAY = int(os.environ.get("TASHIL_LOGIN_THROTTLE_MAX_DELAY", "900"))
LOGIN_THROTTLE_WINDOW_SECONDS = int(os.environ.get("TASHIL_LOGIN_THROTTLE_WINDOW", "3600"))

# Two-factor login (TOTP with one-time recovery codes, django-otp). In
# production it is required of national administrators and province managers;
# a province may require it of everyone working in it (accounts.ProvinceSecurity).
TWO_FACTOR_REQUIRED_ROLES = (
    ["national_admin", "province_manager"]
    if env_bool("TASHIL_TWO_FACTOR_REQUIRED", PRODUCTION)
    else []
)
TWO_FACTOR_ISSUER = os.environ.get("TASHIL_TWO_FACTOR_ISSUER", "Tashil")
# Seconds between the password step and the code step before starting over.
TWO_FACTOR_PENDING_SECONDS = 300
OTP_TOTP_ISSUER = TWO_FACTOR_ISSUER
# accounts.throttle spaces failed codes per account and address; django-otp's
# own per-device lock would let one wrong code refuse the right one after it.
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0

# Reverse proxies in front of Tashil that append to X-Forwarded-For. With 0
# the socket address is the client; behind one proxy set 1, or every resident
# would share the proxy's address in the login throttle and the rate limits.
TRUSTED_PROXY_COUNT = int(os.environ.get("TASHIL_TRUSTED_PROXY_COUNT", "0"))

# --- Language and time: Persian first, Jalali shown, Gregorian UTC stored.
LANGUAGE_CODE = "fa"
LANGUAGES = [("fa", _("Persian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tehran"
USE_I18N = True
USE_TZ = True

# --- Static files: vendored from npm into var/vendor, no CDN at run time.
# scripts/copy_assets.mjs writes them in the checkout, whatever TASHIL_VAR_DIR is.
VENDOR_DIR = BASE_DIR / "var" / "vendor"
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("TASHIL_STATIC_ROOT", VAR_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "tashil" / "static", ("vendor", VENDOR_DIR)]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Outside production, WhiteNoise serves straight from the finders, so no
# collectstatic step is needed for `make run` or the browser tests.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = DEBUG
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = Path(os.environ.get("TASHIL_MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"

# Map tiles are optional: with no tile server the map still draws GeoJSON layers.
MAP_TILE_URL = os.environ.get("TASHIL_MAP_TILE_URL", "")
MAP_TILE_ATTRIBUTION = os.environ.get("TASHIL_MAP_TILE_ATTRIBUTION", "")


def tile_source(url: str) -> str | None:
    """The CSP source that lets the browser load tiles from `url`, a Leaflet
    URL template: https://{s}.tiles.example.ir/{z}/{x}/{y}.png gives
    https://*.tiles.example.ir. None for no tile server or tiles on this site."""
    if not url or (url.startswith("/") and not url.startswith("//")):
        return None
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    if host.startswith("{s}."):
        host = "*." + host[4:]
    if not host or "{" in host or "}" in host or parts.scheme not in ("http", "https", ""):
        raise ImproperlyConfigured(
            "TASHIL_MAP_TILE_URL must be an http(s) URL whose host is fixed or starts with {s}."
        )
    return f"{parts.scheme}://{host}" if parts.scheme else host


MAP_TILE_SOURCE = tile_source(MAP_TILE_URL)

# --- Content-Security-Policy, the same in development and production: scripts,
# styles, fonts and requests only from this site, no inline script, handler or
# style, never in a frame. Images also from data: URIs (Bootstrap's icons) and
# the tile server. See docs/architecture.md, "Content-Security-Policy".
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:", *([MAP_TILE_SOURCE] if MAP_TILE_SOURCE else [])],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
X_FRAME_OPTIONS = "DENY"

# --- Background work: django.tasks; database backend by default, RQ at scale.
TASKS_BACKEND = os.environ.get("TASHIL_TASKS_BACKEND", "db")
if TASKS_BACKEND == "immediate":
    TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
elif TASKS_BACKEND == "rq":
    TASKS = {"default": {"BACKEND": "django_tasks_rq.backend.RQBackend", "QUEUES": ["default"]}}
    # For its worker command: manage.py rqworker default. RQ's own job class
    # cannot run a django.tasks task; django-tasks-rq's can.
    INSTALLED_APPS.append("django_rq")
    RQ = {"JOB_CLASS": "django_tasks_rq.Job"}
    RQ_QUEUES = {"default": {"URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")}}
else:
    TASKS = {"default": {"BACKEND": "django_tasks_db.backend.DatabaseBackend"}}

# --- Household imports: what an uploaded spreadsheet may hold. The upload is
# checked against the sizes its zip directory declares before anything is
# unpacked; the worker then reads it in a child process held to the memory and
# time below, so a hostile file ends that child only.
IMPORT_LIMITS = {
    "upload_mb": int(os.environ.get("TASHIL_IMPORT_UPLOAD_MB", "50")),
    "unpacked_mb": int(os.environ.get("TASHIL_IMPORT_UNPACKED_MB", "500")),
    "shared_strings_mb": int(os.environ.get("TASHIL_IMPORT_SHARED_STRINGS_MB", "64")),
    "zip_ratio": int(os.environ.get("TASHIL_IMPORT_ZIP_RATIO", "200")),
    "zip_members": int(os.environ.get("TASHIL_IMPORT_ZIP_MEMBERS", "1000")),
    "rows": int(os.environ.get("TASHIL_IMPORT_ROWS", "1048576")),
    "columns": int(os.environ.get("TASHIL_IMPORT_COLUMNS", "200")),
    "cell_chars": int(os.environ.get("TASHIL_IMPORT_CELL_CHARS", "32767")),
    "reader_memory_mb": int(os.environ.get("TASHIL_IMPORT_READER_MEMORY_MB", "1024")),
    "reader_seconds": int(os.environ.get("TASHIL_IMPORT_READER_SECONDS", "300")),
}

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
        }
    }

# --- Notifications: SMS first, email second. The default SMS backend only
# records messages in the database; set the HTTP gateway for real delivery.
SMS_BACKEND = os.environ.get("TASHIL_SMS_BACKEND", "tashil.notifications.backends.LogSmsBackend")
SMS_HTTP_URL = os.environ.get("TASHIL_SMS_HTTP_URL", "")
SMS_HTTP_TOKEN = os.environ.get("TASHIL_SMS_HTTP_TOKEN", "")
SMS_HTTP_SENDER = os.environ.get("TASHIL_SMS_HTTP_SENDER", "")
SMS_HTTP_TIMEOUT = int(os.environ.get("TASHIL_SMS_HTTP_TIMEOUT", "10"))
_SMTP_OPTIONS = {
    "host": os.environ.get("TASHIL_EMAIL_HOST", "localhost"),
    "port": int(os.environ["TASHIL_EMAIL_PORT"]) if os.environ.get("TASHIL_EMAIL_PORT") else None,
    "username": os.environ.get("TASHIL_EMAIL_USER") or None,
    "password": os.environ.get("TASHIL_EMAIL_PASSWORD") or None,
    # starttls (submission, usually 587), ssl (usually 465) or none.
    "use_tls": os.environ.get("TASHIL_EMAIL_SECURITY", "starttls") == "starttls",
    "use_ssl": os.environ.get("TASHIL_EMAIL_SECURITY") == "ssl",
    "timeout": int(os.environ.get("TASHIL_EMAIL_TIMEOUT", "10")),
}
_EMAIL_BACKEND = os.environ.get(
    "TASHIL_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
MAILERS = {
    "default": {
        "BACKEND": _EMAIL_BACKEND,
        "OPTIONS": _SMTP_OPTIONS if _EMAIL_BACKEND.endswith("smtp.EmailBackend") else {},
    }
}
DEFAULT_FROM_EMAIL = os.environ.get("TASHIL_FROM_EMAIL", "tashil@localhost")

# --- Demands: SLA and escalation.
# A referral is "at risk" once this share of its working days is used.
SLA_AT_RISK_FRACTION = float(os.environ.get("TASHIL_SLA_AT_RISK_FRACTION", "0.8"))
# Rungs of the escalation ladder: working days past the due date at which the
# next rung is notified. Rung 1 (the liaison) is reminded when at risk.
ESCALATION_LADDER = [
    ("liaison", 0),
    ("office_manager", 0),
    ("province_manager", 5),
    ("governorate", 10),
]
# Public pages that show one resident's demand, sent with Cache-Control:
# no-store like every answer to a signed-in user (core.middleware.NoStoreMiddleware).
NO_STORE_PATHS = [r"^/track(/|$)", r"^/submit/done/"]
# Where the public site sends residents (tracking links in SMS).
PUBLIC_BASE_URL = os.environ.get("TASHIL_PUBLIC_BASE_URL", "http://127.0.0.1:8000")
# Writes through /api/v1/ (POSTs) per API key or signed-in user per minute;
# beyond it the API answers 429 with Retry-After.
API_WRITES_PER_CLIENT = (int(os.environ.get("TASHIL_API_WRITES_PER_MINUTE", "60")), 60)

# --- Periodic jobs, enqueued by `manage.py scheduler` (core.scheduler): each
# runs once per period of `every` seconds, however many schedulers run.
SCHEDULER_INTERVAL_SECONDS = int(os.environ.get("TASHIL_SCHEDULER_INTERVAL", "30"))
SCHEDULED_JOBS = {
    "escalate_referrals": {
        "every": int(os.environ.get("TASHIL_ESCALATION_EVERY_MINUTES", "10")) * 60,
        "task": "tashil.demands.escalation.escalate_referrals_task",
    },
    "remove_old_exports": {
        "every": 3600,
        "task": "tashil.core.retention.remove_old_exports_task",
    },
    "remove_old_import_files": {
        "every": 3600,
        "task": "tashil.registry.retention.remove_old_import_files_task",
    },
}
# Days after which finished exports and uploaded import files are deleted; 0 keeps them.
RETENTION_EXPORT_DAYS = int(os.environ.get("TASHIL_RETENTION_EXPORT_DAYS", "7"))
RETENTION_IMPORT_DAYS = int(os.environ.get("TASHIL_RETENTION_IMPORT_DAYS", "30"))

# --- Working calendar defaults (data in the database overrides these).
# Python weekday numbers: Monday=0 ... Thursday=3, Friday=4.
DEFAULT_WEEKEND_DAYS = [3, 4]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("TASHIL_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Production hardening; `manage.py check --deploy` is clean with these.
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("TASHIL_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("TASHIL_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
