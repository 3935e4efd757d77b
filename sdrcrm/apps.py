from django.apps import AppConfig


class SdrcrmConfig(AppConfig):
    name = "sdrcrm"
    verbose_name = "SDR CRM"

    def ready(self) -> None:
        from . import authentication  # noqa: F401  its signals keep the token cache right in every process
        from .celery import ensure_filesystem_broker_folders

        ensure_filesystem_broker_folders()
