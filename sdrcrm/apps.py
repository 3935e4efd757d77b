from django.apps import AppConfig


class SdrcrmConfig(AppConfig):
    name = "sdrcrm"
    verbose_name = "SDR CRM"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        # authentication: its signals keep the token cache right in every process.
        # The tasks services enqueue by name (sdrcrm.celery.enqueue), known in every process.
        from . import (  # noqa: F401
            authentication,
            config,
            tasks,  # noqa: F401
        )
        from .celery import ensure_filesystem_broker_folders

        ensure_filesystem_broker_folders()
        # Running processes drop their cached configuration once a migration has run.
        post_migrate.connect(config.changed_after_migrate, sender=self, dispatch_uid="config-after-migrate")
