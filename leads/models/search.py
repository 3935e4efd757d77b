"""The global search's narrow copy of every live lead (sdrcrm/search.py): its id, its owner
and the text searched, 125 MB at a million leads against the lead table's 353 MB. A search
reads it instead of the lead table, both for the trigram index's matches and for the walk
that finds a common word's newest matches, and checks who may see a lead by its owner's id
here, with no join to the owner's team.

Database triggers on `leads_lead` keep it (migration 0031), as an index is kept: every
write path (the services, the bulk inserts, merges, erasure, deletes, restores, the admin,
a COPY) updates it in the lead's own statement, so it cannot drift from the leads. A
deleted lead has no row. Nothing in the code writes it."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from sdrcrm.models import User

from .people import Lead


class LeadSearchQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> LeadSearchQuerySet:
        """The rows of the leads `Lead.objects.visible_to(user)` reads (docs/rules.md §8.2),
        by ids alone: the owners a user reads through a team are a subquery PostgreSQL
        hashes once, so a search walking this table newest first never joins a walked
        row's owner to the owner's team. The same rule as PersonQuerySet.visible_to, held
        equal to it for every role by tests/leads/test_lead_search_table.py."""
        if not user.is_authenticated:
            return self.none()
        if user.is_ops:
            return self
        if user.is_manager:
            team = User.objects.filter(team__in=user.managed_team_ids()).values("pk")
            return self.filter(Q(owner_id__in=team) | Q(owner_id=user.pk) | Q(owner_id=None))
        if user.is_prospector:
            mine = Q(owner_id=user.pk) | Q(owner_id=None)
            if user.team_id:
                mine |= Q(owner_id__in=User.objects.filter(team=user.team_id).values("pk"))
            return self.filter(mine)
        if user.role in ("sal", "ae"):
            return self.filter(owner_id=user.pk)
        if user.role == "integration":
            return self.filter(created_by_id=user.pk)
        return self.none()

    def editable_by(self, user: User) -> LeadSearchQuerySet:
        """PersonQuerySet.editable_by's rule, by ids alone (as `visible_to`)."""
        if user.is_prospector:
            return self.filter(Q(owner_id=user.pk) | Q(owner_id=None))
        return self.visible_to(user)


class LeadSearch(models.Model):
    lead = models.OneToOneField(Lead, primary_key=True, on_delete=models.DO_NOTHING, db_constraint=False,
                                related_name="+")
    # Not foreign keys: the search compares ids, and deleting a user must not wait on them.
    owner_id = models.BigIntegerField(null=True)
    created_by_id = models.BigIntegerField(null=True)  # what an integration may read
    haystack = models.TextField()

    objects = LeadSearchQuerySet.as_manager()

    class Meta:
        # The trigram index on `haystack` is made by migration 0031 on PostgreSQL.
        default_permissions = ()

    def __str__(self) -> str:
        return self.haystack
