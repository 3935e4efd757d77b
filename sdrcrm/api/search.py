"""`GET /api/v1/search/?q=`: the global search (sdrcrm/search.py) for type-ahead and
integrations: up to 10 of each record type the caller may see, newest first."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from sdrcrm import search


class SearchInput(serializers.Serializer):
    q = serializers.CharField(max_length=100, help_text="Words to find in names, emails, phones, companies, "
                                                        "domains; each must match (at least one of 3 letters).")


class FoundPerson(serializers.Serializer):
    id = serializers.IntegerField()
    full_name = serializers.CharField()
    email = serializers.CharField()
    company = serializers.CharField()
    status = serializers.CharField()


class FoundAccount(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    domain = serializers.CharField()


class FoundOpportunity(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    stage = serializers.CharField()


class SearchResults(serializers.Serializer):
    leads = FoundPerson(many=True)
    contacts = FoundPerson(many=True)
    accounts = FoundAccount(many=True)
    opportunities = FoundOpportunity(many=True)


class SearchView(APIView):
    """Leads, contacts, accounts and opportunities whose searchable fields contain every word."""

    @extend_schema(parameters=[SearchInput], responses=SearchResults, tags=["search"])
    def get(self, request: Request) -> Response:
        params = SearchInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        return Response(SearchResults(search.search(request.user, params.validated_data["q"]).found).data)
