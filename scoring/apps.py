from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "scoring"

    def ready(self) -> None:
        from sdrcrm import config

        # The tasks services enqueue by name (sdrcrm.celery.enqueue), known in every process.
        from . import tasks  # noqa: F401
        from .models import ScoringRule
        from .services import read_rules

        config.register("scoring_rules", read_rules)
        config.watch(ScoringRule)
