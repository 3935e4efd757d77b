from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "routing"

    def ready(self) -> None:
        from leads.models import Queue
        from sdrcrm import config

        from . import facts, pools, rulesets
        from .models import Pool, RoutingRule, RuleSet, Territory

        config.register("active_ruleset", rulesets.read_active_ruleset)
        config.register("territories", facts.read_territories)
        config.register("queue_ids", pools.read_queue_ids)
        config.register("pool_ids", pools.read_pool_ids)
        config.watch(RuleSet, RoutingRule, Territory, Pool, Queue)
