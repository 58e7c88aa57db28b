"""All settings come from the environment, read here and nowhere else."""

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name, default=None):
    return os.environ.get(name, default)


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


INSECURE_DEFAULT_KEY = "insecure-development-key-change-me"
DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env("SECRET_KEY", INSECURE_DEFAULT_KEY)
if not DEBUG and SECRET_KEY == INSECURE_DEFAULT_KEY:
    raise ImproperlyConfigured("Set SECRET_KEY: refusing to start with DEBUG off and the default key.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", SITE_URL)

# The list as the outside world sees it.
LIST_NAME = env("LIST_NAME", "HealTorture-Talk")
LIST_DOMAIN = env("LIST_DOMAIN", "lists.healtalk.example.org")
LIST_ADDRESS = env("LIST_ADDRESS", f"talk@{LIST_DOMAIN}")
LIST_ID = env("LIST_ID", f"healtorture-talk.{LIST_DOMAIN}")
REPLY_TOKEN_MAX_AGE_DAYS = int(env("REPLY_TOKEN_MAX_AGE_DAYS", "180"))
# Mail to LIST_ADDRESS starts a thread in this category (a slug); "" = the first category members may start
# threads in. Mail to <category slug>@LIST_DOMAIN starts one in that category.
LIST_DEFAULT_CATEGORY = env("LIST_DEFAULT_CATEGORY", "")
# New members are invited to introduce themselves in this category (Start here, the welcome email), on the web or
# by mail to <slug>@LIST_DOMAIN; no invitation is shown while no category has this slug.
INTRODUCTIONS_CATEGORY_SLUG = env("INTRODUCTIONS_CATEGORY_SLUG", "introductions")
DIGEST_HOUR = int(env("DIGEST_HOUR", "7"))
# Weekly digests go out on this day of the week (0 = Monday), after DIGEST_HOUR in each member's time zone.
DIGEST_WEEKDAY = int(env("DIGEST_WEEKDAY", "0"))
# List mail is sent with a per-member envelope sender (VERP: mailer.tokens.make_bounce_address), so a bounce names
# the member. Turn off for an ESP that cannot set the envelope sender (anymail raises AnymailUnsupportedFeature,
# e.g. Postmark, SendGrid, Brevo): those report bounces through their tracking webhooks instead.
LIST_VERP = env_bool("LIST_VERP", True)
# List mail to a member stops after this many soft bounces (mailbox full, server down) within the window with no
# delivery in between; a hard bounce or a spam complaint stops it at once (mailer.bounces).
SOFT_BOUNCE_LIMIT = int(env("SOFT_BOUNCE_LIMIT", "3"))
SOFT_BOUNCE_WINDOW_DAYS = int(env("SOFT_BOUNCE_WINDOW_DAYS", "7"))
# How long we keep what could identify people; mailer.retention enforces it daily (beat "retention") and says why
# each period is what it is. Raw inbound emails are emptied (the row stays), audit log rows deleted, delivery
# reports' raw provider payloads emptied, confidentiality-guard checks and captured development mail deleted.
RETENTION_INBOUND_DAYS = int(env("RETENTION_INBOUND_DAYS", "90"))
RETENTION_AUDIT_DAYS = int(env("RETENTION_AUDIT_DAYS", "1095"))
RETENTION_DELIVERY_RAW_DAYS = int(env("RETENTION_DELIVERY_RAW_DAYS", "90"))
RETENTION_GUARD_DAYS = int(env("RETENTION_GUARD_DAYS", "365"))
RETENTION_CAPTURED_MAIL_DAYS = int(env("RETENTION_CAPTURED_MAIL_DAYS", "14"))
# The resource library's link check (threads.link_check, beat "resource-links"): seconds to connect and to wait
# for an answer, redirects followed, the pause between two requests to the same site, and how long a checked link
# rests before it is checked again (moderators can check one at once from the broken-links page).
LINK_CHECK_CONNECT_TIMEOUT = float(env("LINK_CHECK_CONNECT_TIMEOUT", "5"))
LINK_CHECK_TIMEOUT = float(env("LINK_CHECK_TIMEOUT", "10"))
LINK_CHECK_MAX_REDIRECTS = int(env("LINK_CHECK_MAX_REDIRECTS", "5"))
LINK_CHECK_HOST_PAUSE = float(env("LINK_CHECK_HOST_PAUSE", "2"))
LINK_CHECK_INTERVAL_DAYS = int(env("LINK_CHECK_INTERVAL_DAYS", "6"))
# Links into private networks (loopback, 10/8, 192.168/16, link-local...) are never opened; tests turn this on to
# check links against a server of their own on 127.0.0.1.
LINK_CHECK_ALLOW_PRIVATE = env_bool("LINK_CHECK_ALLOW_PRIVATE", False)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "anymail",
    "channels",
    "community",
    "threads",
    "mailer",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "community.middleware.MembersOnlyMiddleware",
]

ROOT_URLCONF = "community.urls"
ASGI_APPLICATION = "community.asgi.application"
AUTH_USER_MODEL = "community.User"

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
                "community.context_processors.membership",
                "mailer.context_processors.mail_delivery",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/healtalk"), conn_max_age=60
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", "redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env("CACHE_PREFIX", "healtalk"),
    }
}
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# The pub/sub layer drops nothing under fan-out to large groups (see shared/STYLE.md); redis-py 8
# lowered the async pool limit, so raise it explicitly.
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {
            "hosts": [{"address": REDIS_URL, "max_connections": 1000}],
            "prefix": env("CHANNELS_PREFIX", "healtalk"),
        },
    }
}

CELERY_BROKER_URL = env("CELERY_BROKER_URL", REDIS_URL)
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", "celery")
# A task taken by a worker that dies before acknowledging it goes back to the queue after this many seconds
# (Redis broker). It must stay longer than the longest retry countdown (an hour: mailer.tasks), or a task waiting
# for its retry is handed to a second worker too (harmless for mail, whose rows are locked, but wasteful).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": int(env("CELERY_VISIBILITY_TIMEOUT", "3900"))}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    # Daily and weekly digests, each at DIGEST_HOUR in the member's own time zone.
    "digests": {"task": "mailer.tasks.send_due_digests", "schedule": 15 * 60},
    "requeue-stale-inbound": {"task": "mailer.tasks.requeue_stale_inbound", "schedule": 10 * 60},
    "apply-stale-delivery-events": {"task": "mailer.tasks.apply_stale_delivery_events", "schedule": 10 * 60},
    # Early morning in the US, so the reminder is waiting when moderators start their day.
    "remind-stale-applications": {
        "task": "mailer.tasks.remind_stale_applications", "schedule": crontab(hour=11, minute=0),
    },
    # Yearly confirmation reminders and lapses, once a day, arriving mid-morning in the US.
    "annual-reverification": {"task": "mailer.tasks.run_reverification", "schedule": crontab(hour=14, minute=0)},
    "prune-live-events": {"task": "threads.tasks.prune_live_events", "schedule": crontab(hour=4, minute=30)},
    # Retention (RETENTION_* above), daily in the quiet hours of US mornings.
    "retention": {"task": "mailer.tasks.apply_retention", "schedule": crontab(hour=5, minute=15)},
    # The resource library's links (threads.link_check): each every LINK_CHECK_INTERVAL_DAYS, a failed one the next
    # day; broken ones are flagged to moderators.
    "resource-links": {"task": "threads.tasks.check_resource_links", "schedule": crontab(hour=6, minute=0)},
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

ACCOUNT_ADAPTER = "community.adapter.AccountAdapter"
ACCOUNT_FORMS = {"signup": "community.forms.ApplicationSignupForm"}
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[HealTalk] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if SITE_URL.startswith("https") else "http"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
# Kept in the Redis cache (CACHES above), so every web process shares the counts. Signups are rarer than
# allauth's default assumes; a whole program applying from one office stays well under this.
ACCOUNT_RATE_LIMITS = {
    "signup": "10/h/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "reset_password": "10/m/ip,3/h/key",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "HealTalk"

# Outbound mail: any anymail ESP by EMAIL_BACKEND plus its ANYMAIL_* settings; SMTP with EMAIL_HOST;
# in development every message is captured in the database and readable at /dev/mail/.
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    "mailer.backends.CaptureBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("EMAIL_PORT", "25"))
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", f"HealTalk <no-reply@{LIST_DOMAIN}>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
ANYMAIL = {
    key[len("ANYMAIL_"):]: value
    for key, value in os.environ.items()
    if key.startswith("ANYMAIL_")
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", "America/New_York")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env_bool("STATIC_MANIFEST", not DEBUG)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
# Attachments live under MEDIA_ROOT and are never served from MEDIA_URL: only the download view, which checks
# access, reads them. The limit is per file.
ATTACHMENT_MAX_BYTES = int(env("ATTACHMENT_MAX_BYTES", str(20 * 1024 * 1024)))
WHITENOISE_USE_FINDERS = DEBUG

# Production runs behind a TLS proxy (docker-compose.yml): trust its X-Forwarded-Proto, send cookies and
# HSTS only over https.
HTTPS = SITE_URL.startswith("https")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_SSL_REDIRECT = HTTPS and env_bool("SECURE_SSL_REDIRECT", True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "31536000" if HTTPS else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    # The confidentiality guard (threads.guard): presidio logs every check at INFO, spaCy its setup.
    # httpx (the link check, threads.link_check) logs every request at INFO.
    "loggers": {
        "presidio-analyzer": {"level": "WARNING"}, "spacy": {"level": "WARNING"}, "httpx": {"level": "WARNING"},
    },
}
