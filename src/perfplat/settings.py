"""Django settings for perfplat, read from the environment.

Every setting a deployment may change is an environment variable; the defaults give a working
local platform on SQLite in the current directory.
"""

import os
import tempfile
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return default if value in (None, "") else int(value)


DEBUG = env_bool("DEBUG", False)
# The development key and host names are only for local use: `perfplat serve` refuses them
# unless DEBUG is on (perfplat.deployment.checks), so production sets SECRET_KEY and
# ALLOWED_HOSTS.
DEVELOPMENT_SECRET_KEY = "perfplat-local-development-key-change-me-in-production"  # noqa: S105
SECRET_KEY = os.environ.get("SECRET_KEY", "").strip() or DEVELOPMENT_SECRET_KEY
ALLOWED_HOSTS_GIVEN = bool(os.environ.get("ALLOWED_HOSTS", "").strip())
ALLOWED_HOSTS = [
    h.strip()
    for h in (
        os.environ.get("ALLOWED_HOSTS", "").strip() or "127.0.0.1,localhost,testserver"
    ).split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_tasks",
    "django_tasks_db",
    "perfplat.accounts",
    "perfplat.registry",
    "perfplat.audit",
    "perfplat.datasets",
    "perfplat.kpis",
    "perfplat.metrics",
    "perfplat.dashboards",
    # the dashboard editor, publishing pages, assessment snapshots, readiness (issue 7)
    "perfplat.publishing",
    "perfplat.frontend",
    # the public pages (issue 6)
    "perfplat.public",
    # spreadsheet uploads (issue 5, item 4)
    "perfplat.uploads",
    "perfplat.manage",
    # collectors, the scheduler, freshness notifications (issue 8)
    "perfplat.collectors",
    "perfplat.notifications",
    # the journey beacon (issue 17)
    "perfplat.beacon",
    # feedback from the public: the phase banner and "Is this dashboard useful?" (issue 16)
    "perfplat.feedback",
]

MIDDLEWARE = [
    # First: answers /beacon/... itself, so no cookie is read or set for those requests and
    # counting an event costs as little as possible (perfplat.beacon.middleware).
    "perfplat.beacon.middleware.BeaconMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "perfplat.errors.JsonErrorMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "perfplat.accounts.two_factor.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Content-Security-Policy on every answer (django-csp): see CONTENT_SECURITY_POLICY.
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into its lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "perfplat.urls"
WSGI_APPLICATION = "perfplat.wsgi.application"
# The API answers its own 404s; a trailing-slash redirect would turn a POST into a GET.
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def database_settings(url: str) -> dict:
    config = dj_database_url.parse(url, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets readers work while one writer writes; IMMEDIATE transactions take the write
        # lock up front so two writers queue on busy_timeout instead of failing to upgrade.
        config["OPTIONS"] = {
            "init_command": (
                "PRAGMA journal_mode=WAL;"
                "PRAGMA synchronous=NORMAL;"
                "PRAGMA busy_timeout=30000;"
                "PRAGMA cache_size=-65536;"
                "PRAGMA temp_store=MEMORY;"
            ),
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        }
        config["CONN_MAX_AGE"] = None
        # The test database is a file, as in use, not Django's shared in-memory one: there,
        # threads (the live server, the scheduler) share one connection and its savepoints,
        # and lock whole tables instead of waiting their turn.
        config["TEST"] = {
            "NAME": os.path.join(tempfile.gettempdir(), f"perfplat-test-{os.getpid()}.sqlite3")
        }
    elif config["ENGINE"] == "django.db.backends.postgresql":
        # The planner cannot estimate how many groups a JSON field has; with the default 4 MB
        # it sorts aggregations on disk instead of hashing them in memory (twice as slow).
        work_mem = os.environ.get("PERFPLAT_PG_WORK_MEM", "32MB")
        config.setdefault("OPTIONS", {})["options"] = f"-c work_mem={work_mem}"
    return config


def cache_settings(choice: str, redis_url: str) -> dict:
    """The shared cache of query results and pages. PERFPLAT_CACHE: "memory" (each process its
    own: fine for one process, and still correct for several, as entries are keyed by data set
    versions), "database" (a table in the platform's database, shared by every process: run
    `perfplat migrate`, which creates it) or "redis" (the server at REDIS_URL, shared by every
    app server). Unset, it is "redis" when REDIS_URL is set and "memory" otherwise."""
    choice = choice or ("redis" if redis_url else "memory")
    if choice == "memory":
        return {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "perfplat",
            "OPTIONS": {"MAX_ENTRIES": 20_000},
        }
    if choice == "database":
        return {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "perfplat_cache",
            "OPTIONS": {"MAX_ENTRIES": 50_000},
        }
    if choice == "redis":
        if not redis_url:
            raise ValueError(
                "PERFPLAT_CACHE=redis needs REDIS_URL (such as redis://127.0.0.1:6379/0)"
            )
        return {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            # A Redis that is down or slow must not hold pages up: public.caching computes
            # without the cache when it fails.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    if choice.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError("Give Redis's address as REDIS_URL, and PERFPLAT_CACHE=redis or nothing")
    raise ValueError(f"PERFPLAT_CACHE must be memory, database or redis, not {choice!r}")


CACHES = {
    "default": cache_settings(
        os.environ.get("PERFPLAT_CACHE", "").strip(), os.environ.get("REDIS_URL", "").strip()
    )
}

DATABASE_URL = os.environ.get("DATABASE_URL", "sqlite:///" + str(Path.cwd() / "perfplat.sqlite3"))
DATABASES = {"default": database_settings(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
# Only needed for `collectstatic` (e.g. behind a CDN): by default static files are served
# straight from the apps' static folders, so `make run` needs no collectstatic step.
STATIC_ROOT = os.environ.get("STATIC_ROOT") or None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First, so a locked-out account is refused before its password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/manage/sign-in"
# Two-factor sign-in (accounts.two_factor): platform and organisation admins must use it.
PERFPLAT_TWO_FACTOR_REQUIRED = env_bool("PERFPLAT_TWO_FACTOR_REQUIRED", True)
# The name authenticator apps show beside the codes.
OTP_TOTP_ISSUER = "Performance Platform"
LOGIN_REDIRECT_URL = "/manage/"

# Sign-in throttling: after AXES_FAILURE_LIMIT failures for one email address from one IP
# address, that account is locked from that address for AXES_COOLOFF_MINUTES.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15) / 60
# Account and address together: locking an account everywhere would let anyone lock anyone
# out for ever by guessing wrong from anywhere, and locking an address would lock out a whole
# office (many civil servants sign in from one).
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# A locked-out sign-in answers the GOV.UK sign-in page with the lockout message, status 429.
AXES_LOCKOUT_CALLABLE = "perfplat.manage.views.auth.locked_out"

# The console backend prints whole emails, password links included, so it is only the
# default in development (DEBUG; `make run` chooses it for the demo); elsewhere an email
# without a server to send it is logged without its body (notifications.backends).
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND") or (
    "django.core.mail.backends.smtp.EmailBackend"
    if "EMAIL_HOST" in os.environ
    else "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "perfplat.notifications.backends.UnsentEmailBackend"
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "perfplat <noreply@perfplat.invalid>")

SESSION_COOKIE_HTTPONLY = True


def https_settings(environ) -> dict:
    """PERFPLAT_HTTPS=true (the site is served over HTTPS): cookies are sent only over HTTPS
    and browsers are told to use HTTPS for PERFPLAT_HSTS_SECONDS (a year by default; 0 turns
    HSTS off). PERFPLAT_PROXY_SSL_HEADER names the header a TLS-terminating proxy sets to
    "https" (such as X-Forwarded-Proto): only then is that header believed, since any client
    can send it; without a proxy nothing is needed."""
    https = environ.get("PERFPLAT_HTTPS", "").strip().lower() in {"1", "true", "yes", "on"}
    hsts = environ.get("PERFPLAT_HSTS_SECONDS", "")
    header = environ.get("PERFPLAT_PROXY_SSL_HEADER", "").strip()
    return {
        "SESSION_COOKIE_SECURE": https,
        "CSRF_COOKIE_SECURE": https,
        "SECURE_HSTS_SECONDS": (int(hsts) if hsts else 365 * 24 * 3600) if https else 0,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": False,
        "SECURE_PROXY_SSL_HEADER": (
            ("HTTP_" + header.upper().replace("-", "_"), "https") if header else None
        ),
    }


globals().update(https_settings(os.environ))
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600)
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "perfplat.manage.views.auth.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
# No page may be framed (clickjacking), except the embed pages (perfplat.public.embeds), which
# lift both this header and the policy's frame-ancestors.
X_FRAME_OPTIONS = "DENY"
# Scripts, styles, images and fonts come from this site only: no inline script or style, no
# other origin. SVG charts are inline markup with presentation attributes, which the policy
# allows; data: images are GOV.UK Frontend's (in its CSS).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# perfplat's own settings
# Largest request body, after gzip decompression, that the write API accepts.
PERFPLAT_MAX_BODY_BYTES = env_int("PERFPLAT_MAX_BODY_BYTES", 50 * 1024 * 1024)
# Cache-Control max-age of a data set's read API responses when it sets none of its own.
PERFPLAT_DEFAULT_CACHE_MAX_AGE = env_int("PERFPLAT_DEFAULT_CACHE_MAX_AGE", 60)
# Public pages: Cache-Control max-age of pages and their CSV/JSON twins, and how long cached
# query results are kept (their keys hold data set versions, so they never go stale; this only
# bounds memory).
PERFPLAT_PAGE_CACHE_MAX_AGE = env_int("PERFPLAT_PAGE_CACHE_MAX_AGE", 60)
PERFPLAT_PUBLIC_CACHE = "default"
PERFPLAT_PUBLIC_CACHE_SECONDS = env_int("PERFPLAT_PUBLIC_CACHE_SECONDS", 24 * 3600)
# Spreadsheet uploads: the largest file accepted, and the size (bytes or rows) above which a
# file is checked and committed by the background worker instead of in the request.
PERFPLAT_MAX_UPLOAD_BYTES = env_int("PERFPLAT_MAX_UPLOAD_BYTES", 20 * 1024 * 1024)
PERFPLAT_UPLOAD_BACKGROUND_BYTES = env_int("PERFPLAT_UPLOAD_BACKGROUND_BYTES", 1024 * 1024)
PERFPLAT_UPLOAD_BACKGROUND_ROWS = env_int("PERFPLAT_UPLOAD_BACKGROUND_ROWS", 5000)
# A workbook (XLSX, XLS, ODS) is read in a child process that may use this much more memory
# and this many seconds (ingest.spreadsheet_limits); past either, the file is refused.
PERFPLAT_SPREADSHEET_MEMORY_BYTES = env_int("PERFPLAT_SPREADSHEET_MEMORY_BYTES", 2 * 1024**3)
PERFPLAT_SPREADSHEET_SECONDS = env_int("PERFPLAT_SPREADSHEET_SECONDS", 60)

# Collectors (perfplat.collectors): each pull gives up after this many seconds, and stops
# reading a response at this many bytes. Addresses on private networks and this machine are
# refused (server-side request forgery) unless PERFPLAT_COLLECTORS_ALLOW_PRIVATE is true.
PERFPLAT_COLLECTOR_TIMEOUT = float(os.environ.get("PERFPLAT_COLLECTOR_TIMEOUT", "10"))
PERFPLAT_COLLECTOR_MAX_BYTES = env_int("PERFPLAT_COLLECTOR_MAX_BYTES", 10 * 1024 * 1024)
PERFPLAT_COLLECTORS_ALLOW_PRIVATE = env_bool("PERFPLAT_COLLECTORS_ALLOW_PRIVATE", False)
# The scheduler: a failed job is tried again after 30 s, 60 s, 120 s, ... up to this many
# seconds; the freshness check runs this often.
PERFPLAT_RETRY_BASE_SECONDS = env_int("PERFPLAT_RETRY_BASE_SECONDS", 30)
PERFPLAT_RETRY_MAX_SECONDS = env_int("PERFPLAT_RETRY_MAX_SECONDS", 15 * 60)
PERFPLAT_FRESHNESS_CHECK_SECONDS = env_int("PERFPLAT_FRESHNESS_CHECK_SECONDS", 60)
# A task still running on a worker that has not beaten for this long was abandoned (the worker
# was killed): it is marked failed and its work recovers (collectors.scheduler).
PERFPLAT_WORKER_TIMEOUT_SECONDS = env_int("PERFPLAT_WORKER_TIMEOUT_SECONDS", 60)
# Where people reach the platform: the links in notification emails start with it.
PERFPLAT_BASE_URL = os.environ.get("PERFPLAT_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# GOV.UK Notify, for EMAIL_BACKEND=perfplat.notifications.backends.NotifyEmailBackend: an API
# key, and an email template whose subject is ((subject)) and whose body is ((body)).
NOTIFY_API_KEY = os.environ.get("NOTIFY_API_KEY", "")
NOTIFY_TEMPLATE_ID = os.environ.get("NOTIFY_TEMPLATE_ID", "")
NOTIFY_BASE_URL = os.environ.get("NOTIFY_BASE_URL", "https://api.notifications.service.gov.uk")

# The journey beacon (perfplat.beacon.counting): each process stores its counts this often (and
# when it stops), writes them into the services' completion data sets at most this often, and
# reads the services' beacon settings (steps, origins) again at most this often.
PERFPLAT_BEACON_FLUSH_SECONDS = float(os.environ.get("PERFPLAT_BEACON_FLUSH_SECONDS", "1"))
PERFPLAT_BEACON_DATA_SET_SECONDS = float(os.environ.get("PERFPLAT_BEACON_DATA_SET_SECONDS", "60"))
PERFPLAT_BEACON_CONFIG_SECONDS = float(os.environ.get("PERFPLAT_BEACON_CONFIG_SECONDS", "5"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# A new user's "choose your password" link, and a reset link, work for 3 days.
PASSWORD_RESET_TIMEOUT = 3 * 24 * 3600

# Background work (uploads, collectors, notifications) runs as django-tasks in the database:
# `perfplat worker` runs them; no other server is needed.
TASKS = {
    "default": {
        "BACKEND": os.environ.get("PERFPLAT_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

# --- Production topology (issue 18): read replicas and deployment behind nginx --------------
# docs/deploying.md shows the whole topology; perfplat.deployment holds the code.
INSTALLED_APPS.append("perfplat.deployment")

# DATABASE_REPLICA_URLS: comma-separated URLs of PostgreSQL streaming replicas of DATABASE_URL.
# Public pages, the read API and the KPI API read from one that is up and no more than
# PERFPLAT_REPLICA_MAX_LAG_SECONDS behind (each process checks a replica at most every
# PERFPLAT_REPLICA_CHECK_SECONDS); everything else, and anything after a write, reads the
# primary (perfplat.deployment.replicas).
DATABASE_REPLICA_URLS = [
    url.strip() for url in os.environ.get("DATABASE_REPLICA_URLS", "").split(",") if url.strip()
]
for number, replica_url in enumerate(DATABASE_REPLICA_URLS, start=1):
    replica = database_settings(replica_url)
    # A replica that does not answer is skipped, so waiting long for it only delays pages.
    replica.setdefault("OPTIONS", {})["connect_timeout"] = 2
    # Tests run against the primary's test database; a replica has none of its own.
    replica["TEST"] = {"MIRROR": "default"}
    DATABASES[f"replica_{number}"] = replica
DATABASE_ROUTERS = ["perfplat.deployment.replicas.ReplicaRouter"]
PERFPLAT_REPLICA_MAX_LAG_SECONDS = float(os.environ.get("PERFPLAT_REPLICA_MAX_LAG_SECONDS", "10"))
PERFPLAT_REPLICA_CHECK_SECONDS = float(os.environ.get("PERFPLAT_REPLICA_CHECK_SECONDS", "5"))
# Someone who has just changed something (a POST with a session) reads the primary for a while,
# so they see their change on the public pages at once.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware"),
    "perfplat.deployment.replicas.PinToPrimaryMiddleware",
)

# Behind nginx, which ends TLS and redirects http:// to https:// for every address
# (docs/deploying.md), Django need not redirect too; the app servers listen on loopback or a
# private network only.
SILENCED_SYSTEM_CHECKS = ["security.W008"]
# HSTS for the platform's own host name only: it usually lives under a domain (such as a
# department's) whose other hosts it cannot speak for, nor put on browsers' preload list.
SILENCED_SYSTEM_CHECKS += ["security.W005", "security.W021"]
