from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "scoring"

    def ready(self) -> None:
        from sdrcrm import config

        from .models import ScoringRule
        from .services import read_rules

        config.register("scoring_rules", read_rules)
        config.watch(ScoringRule)
