from django.apps import AppConfig


class SdrcrmConfig(AppConfig):
    name = "sdrcrm"
    verbose_name = "SDR CRM"

    def ready(self) -> None:
        """Imported for what importing does: `authentication` connects the signals that keep
        the token cache right in every process, `tasks` registers the tasks services enqueue
        by name (sdrcrm.celery.enqueue), `api.schema` tells the OpenAPI schema how our token
        authentication works, `checks` registers the settings' checks. SQLite connections
        get the MEDIAN aggregate of `aggregates`."""
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_migrate

        from . import aggregates, authentication, checks, config, tasks, webhooks  # noqa: F401
        from .api import schema  # noqa: F401
        from .celery import ensure_filesystem_broker_folders
        from .models import WebhookEndpoint

        ensure_filesystem_broker_folders()
        # Running processes drop their cached configuration once a migration has run.
        post_migrate.connect(config.changed_after_migrate, sender=self, dispatch_uid="config-after-migrate")
        connection_created.connect(aggregates.register_sqlite, dispatch_uid="sqlite-median")
        config.register("webhook_kinds", webhooks.read_wanted_kinds)
        config.watch(WebhookEndpoint)
