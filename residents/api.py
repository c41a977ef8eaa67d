"""Residents endpoints: person search and the key-person list, masked like the pages."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from residents import selectors, services
from residents.models import KeyGroup


class PersonOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    gender = serializers.CharField()
    id_number = serializers.CharField(source="id_number_masked")
    phone = serializers.CharField(source="phone_masked")
    grid = serializers.CharField(source="grid.code")


class PersonSearchApi(APIView):
    """People in the user's scope by name prefix (GET ?q=), or by exact identity number or
    phone (POST {"q": ...}, so the number stays out of URLs and access logs)."""

    @extend_schema(
        responses=inline_serializer("PersonSearch", {"results": PersonOutputSerializer(many=True)})
    )
    def get(self, request):
        query = request.query_params.get("q", "")
        if sum(c.isdigit() for c in query) >= 7:
            # A number in a URL ends up in access logs and histories: refuse, ask for POST.
            raise ValidationError(
                {"q": _("Search identity numbers and phones with POST, not in the URL.")}
            )
        return self._search(request, query)

    @extend_schema(
        request=inline_serializer("PersonSearchInput", {"q": serializers.CharField()}),
        responses=inline_serializer(
            "PersonSearchByNumber", {"results": PersonOutputSerializer(many=True)}
        ),
    )
    def post(self, request):
        return self._search(request, str(request.data.get("q", "")))

    def _search(self, request, query: str):
        if not selectors.can_use_residents(request.user):
            raise PermissionDenied
        people = selectors.person_search_for_user(user=request.user, query=query, limit=50)
        return Response({"results": PersonOutputSerializer(people, many=True).data})


class PersonRevealApi(APIView):
    """The full value of one field of one person; every call is audited."""

    @extend_schema(
        request=None,
        responses=inline_serializer("PersonReveal", {"value": serializers.CharField()}),
    )
    def post(self, request, pk: int, field: str):
        if field not in services.REVEALABLE:
            raise PermissionDenied
        person = selectors.person_get_for_user(user=request.user, person_id=pk)
        value = services.person_reveal(
            person=person, field=field, actor=request.user, request=request
        )
        return Response({"value": value}, headers={"Cache-Control": "no-store"})


class KeyPersonOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    person = PersonOutputSerializer()
    group = serializers.CharField(source="group.code")
    risk_level = serializers.CharField()
    next_visit_due = serializers.DateField()
    last_visit_at = serializers.DateTimeField()


class KeyPersonListApi(APIView):
    """Key persons and care-group members of the groups granted to the user's roles."""

    @extend_schema(
        responses=inline_serializer(
            "KeyPersonList", {"results": KeyPersonOutputSerializer(many=True)}
        )
    )
    def get(self, request):
        if not selectors.can_use_residents(request.user):
            raise PermissionDenied
        group = None
        if code := request.query_params.get("group"):
            group = get_object_or_404(
                KeyGroup, code=code, pk__in=selectors.visible_group_ids(request.user)
            )
        rows = selectors.key_person_list_for_user(
            user=request.user,
            group=group,
            overdue_only=request.query_params.get("overdue") == "1",
        )[:500]
        return Response({"results": KeyPersonOutputSerializer(rows, many=True).data})
