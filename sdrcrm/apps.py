from django.apps import AppConfig


class SdrcrmConfig(AppConfig):
    name = "sdrcrm"
    verbose_name = "SDR CRM"

    def ready(self) -> None:
        from .celery import ensure_filesystem_broker_folders

        ensure_filesystem_broker_folders()
