from __future__ import annotations

from rest_framework import serializers

from .models import Opportunity


class OpportunitySerializer(serializers.ModelSerializer):
    class Meta:
        model = Opportunity
        fields = "__all__"
        # Set only by the stage-change function.
        read_only_fields = ["stage", "stage_changed_at", "sales_accepted_date", "sales_qualified",
                            "sales_qualified_date", "initial_iacv", "closed_at", "closed_lost_reason",
                            "merged_into", "stale_reminded_at", "created_by", "created_at", "updated_at"]
