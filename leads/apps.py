from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "leads"

    def ready(self) -> None:
        # The tasks services enqueue by name (sdrcrm.celery.enqueue), known in every process.
        from sdrcrm import config

        from . import checks, tasks  # noqa: F401
        from .models import BlockedDomain, Erasure

        config.register("erased_emails", checks.read_erased_emails)
        config.register("blocked_domains", checks.read_blocked_domains)
        config.watch(Erasure, BlockedDomain)
