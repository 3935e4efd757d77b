from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "leads"

    def ready(self) -> None:
        # The tasks services enqueue by name (sdrcrm.celery.enqueue), known in every process.
        from . import tasks  # noqa: F401
