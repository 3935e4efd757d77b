"""One settings file; every knob comes from the environment with a safe local default.

The embedded default (no env at all) is SQLite plus Celery's filesystem broker, so the
demo runs on a machine with nothing but Python. DATABASE_URL / REDIS_URL switch the same
code to PostgreSQL and Redis.
"""

import zoneinfo
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab

from sdrcrm.schedules import ZonedCrontab

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
# The fallback key only exists so a fresh clone runs; production refuses it below.
_DEV_SECRET = "dev-insecure-key-only-for-local-demo-and-tests-change-me"
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET)
PRODUCTION = env.bool("PRODUCTION", default=False)
if PRODUCTION and SECRET_KEY == _DEV_SECRET:
    raise environ.ImproperlyConfigured("PRODUCTION=true needs SECRET_KEY from the environment")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",  # only for the migration that turned its tokens into ApiTokens
    "knox",
    "csp",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "sdrcrm",
    "leads",
    "opportunities",
    "routing",
    "scoring",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "sdrcrm.middleware.ApiBodyLimitMiddleware",
    "sdrcrm.config.PinConfigMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "sdrcrm.middleware.BrowserSessionMiddleware",  # SESSION_MIDDLEWARE, passed by for an API request with a token
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "sdrcrm.middleware.ContentSecurityPolicyMiddleware",  # django-csp's, the policy built once
]
# The browser's session, run for every request but an API request with a token (see
# sdrcrm.middleware.BrowserSessionMiddleware). The admin's checks that look for these in MIDDLEWARE
# are silenced; sdrcrm.checks checks them here instead.
SILENCED_SYSTEM_CHECKS = ["admin.E408", "admin.E409", "admin.E410"]
SESSION_MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "sdrcrm.middleware.PagesRefuseIntegrationsMiddleware",
    "sdrcrm.middleware.LocalTimeMiddleware",
    "sdrcrm.middleware.AbsoluteSessionTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "sdrcrm.urls"
WSGI_APPLICATION = "sdrcrm.wsgi.application"
AUTH_USER_MODEL = "sdrcrm.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "sdrcrm.context_processors.unread_notifications",
                "sdrcrm.context_processors.nav_section",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
# An empty DATABASE_URL (`DATABASE_URL= make …`) means the default, not a broken setting.
DATABASES = {"default": environ.Env.db_url_config(
    env.str("DATABASE_URL", default="") or f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    (BASE_DIR / "var").mkdir(exist_ok=True)
    # WAL lets readers run beside the writer; IMMEDIATE makes concurrent writers (web,
    # worker, beat) queue on the lock instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Django's, with a health check that sends no statement (sdrcrm/postgresql/base.py).
        DATABASES["default"]["ENGINE"] = "sdrcrm.postgresql"
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# How long an Idempotency-Key is remembered (sdrcrm/idempotency.py).
IDEMPOTENCY_KEY_HOURS = env.int("IDEMPOTENCY_KEY_HOURS", default=24)
# The largest request body the API reads (a bulk request of 1,000 leads with their
# activities is well under it); a larger one answers 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("API_MAX_BODY_BYTES", default=10 * 1024 * 1024)

# --- Auth and sessions ----------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = ["sdrcrm.auth.DelayedLoginBackend"]
# sdrcrm/auth.py: wrong passwords one username may get from one address before each
# further try waits (1 s, doubling, up to the maximum); and throttles per address and
# per username over every try.
LOGIN_FREE_FAILURES = env.int("LOGIN_FREE_FAILURES", default=5)
LOGIN_MAX_DELAY_SECONDS = env.int("LOGIN_MAX_DELAY_SECONDS", default=900)
LOGIN_ADDRESS_RATE = env.str("LOGIN_ADDRESS_RATE", default="30/minute")
LOGIN_USERNAME_RATE = env.str("LOGIN_USERNAME_RATE", default="10/minute")
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_SECONDS", default=30 * 60)  # idle timeout
# A request pushes the idle deadline forward when the session was last saved this long
# ago (sdrcrm.middleware.AbsoluteSessionTimeoutMiddleware), not on every request.
SESSION_RENEW_SECONDS = env.int("SESSION_RENEW_SECONDS", default=60)
SESSION_ABSOLUTE_SECONDS = env.int("SESSION_ABSOLUTE_SECONDS", default=12 * 3600)
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True

# --- Mail (password resets) --------------------------------------------------------------
# EMAIL_URL: smtp+tls://user:password@smtp.example.com:587 in production; the default
# prints mails to the console (the demo's password-reset links show in its output).
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="SDR CRM <crm@localhost>")
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT_SECONDS", default=3600)
PASSWORD_RESET_RATE = env.str("PASSWORD_RESET_RATE", default="5/hour")  # requests per client address

# --- Production hardening (manage.py check --deploy is clean with PRODUCTION=true) ----
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"

# --- Content-Security-Policy (django-csp) ----------------------------------------------
# Every page, the admin and the API docs load scripts, styles, fonts and images from this
# site only: the templates carry no inline <script>, <style>, style="" or on…="" (the look
# is static/css/app.css; the one behaviour is static/js/app.js). data: images are the icons
# Swagger UI's stylesheet inlines. No plugins; <base> and forms point here only;
# no other site may frame a page. A view that needs more says so with csp.decorators.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Outside production, whitenoise serves the files from where they are (no collectstatic
# needed for the demo, a test server or gunicorn on a laptop); production serves the
# collected, hashed copies.
WHITENOISE_USE_FINDERS = not PRODUCTION
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "var" / "static")))
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on every request otherwise
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- REST API -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "sdrcrm.authentication.CachedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "sdrcrm.pagination.KeysetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "sdrcrm.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["sdrcrm.throttling.FixedWindowUserThrottle"],
    # The API speaks JSON (docs/rules.md §10); only the territory CSV import takes a file upload.
    # Form bodies would turn nested input (a bulk's leads, a pool's members) into strings.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "sdrcrm.api.negotiation.JsonFirstNegotiation",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "SDR CRM API",
    "DESCRIPTION": "Leads, scoring, routing and the sales-development lifecycle.",
    "VERSION": "1",
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "sdrcrm.api.errors.add_error_responses"],
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI served from our own static files, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "StatusEnum": "leads.models.Status",
        "SourceEnum": "leads.models.InitialSource",
        "ActivityTypeEnum": "leads.models.ActivityType",
        "AccountTypeEnum": "leads.models.AccountType",
        "RoleEnum": "sdrcrm.models.Role",
        "EnrollmentStateEnum": "leads.models.Enrollment.State",
        "SequenceEventKindEnum": "leads.models.SequenceEvent.Kind",
        "RoutingActionEnum": "routing.models.RoutingDecision.Action",
        "NotificationKindEnum": "sdrcrm.models.Notification.Kind",
        "TaskKindEnum": "leads.models.Task.Kind",
        "ImportKindEnum": "leads.models.Import.Kind",
        "DeletedKindEnum": "leads.trash.KIND_KEYS",
    },
}

API_THROTTLE_RATE = env.str("API_THROTTLE_RATE", default="1200/minute")
# Integrations push leads and events: docs/rules.md §11 asks for 150 leads/s, two requests each.
API_INTEGRATION_THROTTLE_RATE = env.str("API_INTEGRATION_THROTTLE_RATE", default="60000/minute")
API_ANON_THROTTLE_RATE = env.str("API_ANON_THROTTLE_RATE", default="120/minute")
# --- Cache (throttling, API token users) ------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    # Fails open (sdrcrm/cache.py): a Redis outage costs cache misses, not errors; the short
    # timeouts keep a request from hanging on a Redis that does not answer.
    CACHES = {"default": {"BACKEND": "sdrcrm.cache.ResilientRedisCache", "LOCATION": REDIS_URL,
                          "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}}}
else:
    # The embedded default runs web, worker and beat on one machine: a cache in files is
    # shared by all of them, so a token revoked (or a throttle counted) in one process is
    # seen by the others, as with Redis. Each process's own memory would not be.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                          "LOCATION": env.str("CACHE_DIR", default=str(BASE_DIR / "var" / "cache")),
                          "OPTIONS": {"MAX_ENTRIES": 10_000}}}
# How long an API token's user is cached (sdrcrm/authentication.py); 0 reads it every time.
API_TOKEN_CACHE_SECONDS = env.int("API_TOKEN_CACHE_SECONDS", default=60)
# API tokens are django-rest-knox's (hashed, one per client, expiring), in sdrcrm.ApiToken.
API_TOKEN_TTL_DAYS = env.int("API_TOKEN_TTL_DAYS", default=90)
KNOX_TOKEN_MODEL = "sdrcrm.ApiToken"
# knox's migrations would create its own token table (with a key to our users) beside
# ours; with its model swapped out for sdrcrm.ApiToken, the app needs no table at all.
MIGRATION_MODULES = {"knox": None}
REST_KNOX = {"TOKEN_TTL": timedelta(days=API_TOKEN_TTL_DAYS), "AUTH_HEADER_PREFIX": "Token",
             "TOKEN_MODEL": KNOX_TOKEN_MODEL}

# --- Celery ---------------------------------------------------------------------------
CELERY_DATA_DIR = BASE_DIR / "var" / "celery"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    # Redis redelivers an unacked task only after the visibility timeout; it must be
    # longer than our longest task, and short enough that a killed worker's tasks come
    # back promptly.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=600),
        # kombu looks for expired unacked messages every interval × throttle seconds,
        # 10 × 10 = 100 s by default, whatever the visibility timeout: scanning on every
        # tick (one cheap ZRANGE) bounds recovery by timeout + interval.
        "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10),
        "unacked_restore_throttle": 1,
    }
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_DATA_DIR / "queue"),
        "data_folder_out": str(CELERY_DATA_DIR / "queue"),
        "processed_folder": str(CELERY_DATA_DIR / "processed"),
        "control_folder": str(CELERY_DATA_DIR / "control"),
        "store_processed": False,
    }
    CELERY_RESULT_BACKEND = f"file://{CELERY_DATA_DIR / 'results'}"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=CELERY_BROKER_URL)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
# A task is acknowledged after it ran, and a task whose worker died is put back: with
# idempotent tasks this is at-least-once without doubles.
# Deployments (or test runs) sharing one Redis keep their tasks apart by queue name.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A task running when the broker connection drops can no longer be acked and comes back
# after the visibility timeout: stop it rather than finish it twice (Celery 6's default).
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_TASK_SERIALIZER = "json"
# Nothing reads task results (what a task did is in the database: an event's result, a
# job run's counts). Sending a task that keeps its result subscribes the sender to the
# result store, and a Redis outage leaves that subscription broken for good (Celery asks
# for the process to be restarted): so results are off unless a caller asks for one.
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_EXPIRES = 3600
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(CELERY_DATA_DIR / "beat-schedule")
# Periodic jobs: crontab entries in their business time zone, each a thin task over a
# job function (leads/jobs.py) that run_job calls too.
CELERY_BEAT_SCHEDULE = {
    "active_passive": {
        "task": "sdrcrm.tasks.run_job_task",
        "schedule": crontab(minute=15, hour=2),
        "args": ("active_passive",),
    },
    "sla_breaches": {
        "task": "sdrcrm.tasks.run_job_task",
        "schedule": crontab(minute="*/15"),
        "args": ("sla_breaches",),
    },
    # Business wall-clock times: each entry keeps its own zone across daylight saving,
    # whatever CELERY_TIMEZONE is (sdrcrm/schedules.py).
    "inquiry_queue": {
        "task": "sdrcrm.tasks.run_job_task",
        "schedule": ZonedCrontab(minute=30, hour=22, tz="America/New_York"),
        "args": ("inquiry_queue",),
    },
    "spam_deletion": {
        "task": "sdrcrm.tasks.run_job_task",
        "schedule": ZonedCrontab(minute=5, hour=0, tz="America/Los_Angeles"),
        "args": ("spam_deletion",),
    },
    "targeted_accounts": {
        "task": "sdrcrm.tasks.run_job_task",
        "schedule": crontab(minute=0, hour=3),
        "args": ("targeted_accounts",),
    },
    "unresponsive": {
        "task": "sdrcrm.tasks.run_job_task",
        "schedule": crontab(minute=0),
        "args": ("unresponsive",),
    },
    "stale_opportunities": {
        "task": "sdrcrm.tasks.run_job_task",
        "schedule": crontab(minute=0, hour=6),
        "args": ("stale_opportunities",),
    },
    # The safety net under task delivery (README "Reliability"): events still unapplied
    # long after they arrived are enqueued again.
    "sequence_events": {
        "task": "sdrcrm.tasks.run_job_task",
        "schedule": crontab(),
        "args": ("sequence_events",),
    },
    "rescores": {
        "task": "sdrcrm.tasks.run_job_task",
        "schedule": crontab(),
        "args": ("rescores",),
    },
    # Webhook deliveries whose task was lost (a worker killed mid-try) are sent again.
    "webhook_deliveries": {
        "task": "sdrcrm.tasks.run_job_task",
        "schedule": crontab(),
        "args": ("webhook_deliveries",),
    },
    # The team queues board's counts (leads/queues.py): a minute old at most.
    "queue_counts": {
        "task": "sdrcrm.tasks.run_job_task",
        "schedule": crontab(),
        "args": ("queue_counts",),
    },
    "idempotency_keys": {
        "task": "sdrcrm.tasks.run_job_task",
        "schedule": crontab(minute=17),
        "args": ("idempotency_keys",),
    },
    # docs/rules.md §11.2: records deleted more than TRASH_RETENTION_DAYS ago go for good.
    "trash_purge": {
        "task": "sdrcrm.tasks.run_job_task",
        "schedule": crontab(minute=40, hour=3),
        "args": ("trash_purge",),
    },
    # Old job runs and the rows of old imports (sdrcrm/jobs.py prune_history).
    "history_prune": {
        "task": "sdrcrm.tasks.run_job_task",
        "schedule": crontab(minute=50, hour=3),
        "args": ("history_prune",),
    },
}

# --- Business settings ----------------------------------------------------------------
MQL_THRESHOLD = env.int("MQL_THRESHOLD", default=90)
ROUTING_THRESHOLD = env.int("ROUTING_THRESHOLD", default=50)
ACTIVE_WINDOW_DAYS = env.int("ACTIVE_WINDOW_DAYS", default=60)
JOB_BATCH_SIZE = env.int("JOB_BATCH_SIZE", default=5000)
# docs/rules.md §11.2: a deleted lead, contact, account or opportunity may be restored by ops
# for this many days; the nightly trash_purge job then deletes it for good, this many
# records per transaction (each drags its activities, history and ledger along).
TRASH_RETENTION_DAYS = env.int("TRASH_RETENTION_DAYS", default=30)
TRASH_PURGE_BATCH = env.int("TRASH_PURGE_BATCH", default=1000)
# The nightly history_prune deletes job runs started this many days ago (each job's latest
# run stays, for the jobs page), and the rows of imports finished this many days ago (their
# counts stay; the problems and the error file go); a checked import never run goes whole.
JOB_RUNS_KEPT_DAYS = env.int("JOB_RUNS_KEPT_DAYS", default=90)
IMPORT_ROWS_KEPT_DAYS = env.int("IMPORT_ROWS_KEPT_DAYS", default=90)
# A job run still "running" this long after it started is taken to have died with its
# worker; the task redelivered for its slot runs it again. Longer than any job takes (a
# minute at 1M leads), and shorter than the visibility timeout (600 s), after which Redis
# redelivers a killed worker's task: the redelivered task must find the run stale.
JOB_STALE_AFTER_SECONDS = env.int("JOB_STALE_AFTER_SECONDS", default=300)
# A sequence event not applied this long after it arrived may have lost its task (kombu's
# Redis transport drops a message when a worker dies at one exact moment, and a killed
# worker's tasks come back only after the visibility timeout): the `sequence_events` job
# (every minute) enqueues it again. Applying is idempotent, so an event whose task was only
# slow is applied once all the same. A rule change's re-score that stalled this long is
# sent again by the `rescores` job.
SEQUENCE_EVENT_REQUEUE_AFTER_SECONDS = env.int("SEQUENCE_EVENT_REQUEUE_AFTER_SECONDS", default=60)
RESCORE_REQUEUE_AFTER_SECONDS = env.int("RESCORE_REQUEUE_AFTER_SECONDS", default=120)
# docs/rules.md §2: a breached lead still untouched a business day later is reassigned through its pool.
SLA_REASSIGN_AFTER_SECOND_DAY = env.bool("SLA_REASSIGN_AFTER_SECOND_DAY", default=True)
# docs/rules.md §3: a targeted account with no lead or contact activity for this many days (and
# flagged at least that long ago) is unflagged by the targeted_accounts job.
TARGETED_QUIET_DAYS = env.int("TARGETED_QUIET_DAYS", default=30)
# docs/rules.md §3: a sequence finished without a reply this many days ago, the person still
# Accepted → UNRESPONSIVE_STATUS ("unresponsive", or "recycle" with reason no_response).
UNRESPONSIVE_AFTER_DAYS = env.int("UNRESPONSIVE_AFTER_DAYS", default=7)
UNRESPONSIVE_STATUS = env.str("UNRESPONSIVE_STATUS", default="unresponsive")
if UNRESPONSIVE_STATUS not in ("unresponsive", "recycle"):
    raise environ.ImproperlyConfigured("UNRESPONSIVE_STATUS is 'unresponsive' or 'recycle'")
BULK_MAX_ITEMS = 1000
# docs/rules.md §9: the team queues board shows the `queue_counts` job's counts (every minute)
# and warns that they are old once the job has not run for this long.
QUEUE_COUNTS_STALE_SECONDS = 300
# docs/rules.md §8: bulk actions on the lead list: at most LIMIT leads at once; more than
# INLINE run on a worker, with their progress on the page.
BULK_ACTION_LIMIT = env.int("BULK_ACTION_LIMIT", default=5000)
BULK_ACTION_INLINE = env.int("BULK_ACTION_INLINE", default=50)
IMPORT_INLINE = env.int("IMPORT_INLINE", default=1000)
# Webhook deliveries to private or loopback addresses (SSRF): refused in production.
WEBHOOKS_ALLOW_PRIVATE = env.bool("WEBHOOKS_ALLOW_PRIVATE", default=not PRODUCTION)
# docs/rules.md §10.1: a webhook delivery this long past its time and not tried, or whose try
# was claimed this long ago and never finished (its worker died), lost its task: the
# `webhook_deliveries` job (every minute) sends it again. A try is stopped after half of it.
WEBHOOK_REQUEUE_AFTER_SECONDS = env.int("WEBHOOK_REQUEUE_AFTER_SECONDS", default=60)
if WEBHOOK_REQUEUE_AFTER_SECONDS < 2:
    raise environ.ImproperlyConfigured("WEBHOOK_REQUEUE_AFTER_SECONDS is at least 2")
# docs/rules.md §4.6: the company's time zone: its months and quarters bound the SAO
# dashboard's periods, and an opportunity's accepted and qualified dates are its dates there.
COMPANY_TIME_ZONE = env.str("COMPANY_TIME_ZONE", default="UTC")
try:
    zoneinfo.ZoneInfo(COMPANY_TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    raise environ.ImproperlyConfigured(f"COMPANY_TIME_ZONE '{COMPANY_TIME_ZONE}' is no IANA time zone") from None
# docs/rules.md §5: how many accounts one SDR may flag as targeted.
TARGETED_ACCOUNTS_LIMIT = env.int("TARGETED_ACCOUNTS_LIMIT", default=40)
# docs/rules.md §4: stage-0 opportunities this long after their IQM get a reminder to the AE, and
# IQM no-shows not rebooked within REBOOK days are flagged for the AE to unqualify.
STALE_OPPORTUNITY_HOURS = env.int("STALE_OPPORTUNITY_HOURS", default=48)
NO_SHOW_REBOOK_DAYS = env.int("NO_SHOW_REBOOK_DAYS", default=14)
# docs/rules.md §4: a closed-lost opportunity can be reopened this many days after it closed.
OPPORTUNITY_REOPEN_DAYS = env.int("OPPORTUNITY_REOPEN_DAYS", default=30)
# docs/rules.md §4: closed-won needs details, and closed-lost notifies the lost-deals channel, from this IACV.
LARGE_DEAL_IACV = env.int("LARGE_DEAL_IACV", default=12000)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
