"""The closed loop over HTTP: one endpoint fires any action of `dispatch.workflow`.

Each state change is a POST to /api/incidents/<pk>/actions/<action>/; the service
`dispatch.services.incident_act` decides whether it is allowed (state, role, party,
required fields). The answer is the incident as `GET /api/incidents/<pk>/` shows it.
"""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from dispatch.notices import SUPERVISION_LEVEL_LABELS
from dispatch.selectors import incident_get_for_user, incident_list_for_user
from dispatch.services import incident_act
from dispatch.workflow import ACTIONS, STATES, action_for
from govgrid.accounts.models import Unit, User
from govgrid.lib.errors import DomainError
from grids.models import PATH_SEPARATOR
from incidents.api import (
    ErrorSerializer,
    IncidentDetailApi,
    PhotoListField,
    incident_detail_response,
)
from incidents.models import Incident, Rating


class IncidentTransitionApi(APIView):
    """Fire one workflow action on an incident.

    Send `expected_state` (the state the caller last saw): if someone acted first, the
    answer is 409 naming who did it, and nothing changes.
    """

    parser_classes = [JSONParser, MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        """Every action's fields; which ones an action requires is the workflow's business."""

        expected_state = serializers.ChoiceField(choices=STATES, required=False, allow_blank=True)
        reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)
        note = serializers.CharField(max_length=2000, required=False, allow_blank=True)
        result = serializers.CharField(max_length=2000, required=False, allow_blank=True)
        lead_unit = serializers.PrimaryKeyRelatedField(
            queryset=Unit.objects.none(), required=False, allow_null=True
        )
        co_units = serializers.PrimaryKeyRelatedField(
            queryset=Unit.objects.none(), many=True, required=False
        )
        handler = serializers.PrimaryKeyRelatedField(
            queryset=User.objects.none(),
            required=False,
            allow_null=True,
            help_text="A member of the lead unit to hand the case to.",
        )
        duplicate_of = serializers.PrimaryKeyRelatedField(
            queryset=Incident.objects.none(),
            required=False,
            allow_null=True,
            help_text="The id of the original incident.",
        )
        days = serializers.IntegerField(min_value=1, max_value=30, required=False, allow_null=True)
        approve = serializers.BooleanField(required=False, allow_null=True)
        rating = serializers.ChoiceField(choices=Rating.choices, required=False, allow_blank=True)
        level = serializers.ChoiceField(
            choices=list(SUPERVISION_LEVEL_LABELS.items()),
            required=False,
            allow_blank=True,
            help_text="Supervision level (督办级别).",
        )
        reply_days = serializers.IntegerField(
            min_value=1,
            max_value=30,
            required=False,
            allow_null=True,
            help_text="Working days the supervised unit has to reply.",
        )
        evidence = PhotoListField()

        class Meta:
            ref_name = "IncidentTransitionInput"

        def __init__(self, *args, incident: Incident | None = None, user=None, **kwargs):
            super().__init__(*args, **kwargs)
            if incident is None:
                return
            # The units of the incident's district, as the page's action form offers them.
            district_path = PATH_SEPARATOR.join(incident.grid.path.split(PATH_SEPARATOR)[:2])
            units = Unit.objects.filter(
                is_active=True, jurisdiction__path__startswith=district_path
            )
            self.fields["lead_unit"].queryset = units
            self.fields["co_units"].child_relation.queryset = units
            self.fields["handler"].queryset = User.objects.filter(is_active=True, unit__in=units)
            # Only an incident the caller may see can be named as the original.
            self.fields["duplicate_of"].queryset = incident_list_for_user(user=user).exclude(
                pk=incident.pk
            )

        def service_fields(self) -> dict:
            """The values sent, without the empty ones (the service checks what is required)."""
            return {
                name: value
                for name, value in self.validated_data.items()
                if name != "expected_state" and value not in (None, "", [])
            }

    @extend_schema(
        operation_id="incident_action",
        parameters=[
            OpenApiParameter(
                "action", OpenApiTypes.STR, OpenApiParameter.PATH, enum=sorted(ACTIONS)
            )
        ],
        request=InputSerializer,
        responses={
            200: IncidentDetailApi.OutputSerializer,
            400: OpenApiResponse(
                ErrorSerializer,
                description="Field errors ({field: [messages]}) or the workflow refused.",
            ),
            404: OpenApiResponse(description="No such action, or the incident is not in scope."),
            409: OpenApiResponse(
                ErrorSerializer, description="expected_state is stale: someone acted first."
            ),
        },
    )
    def post(self, request, pk: int, action: str):
        incident = incident_get_for_user(user=request.user, pk=pk)
        if action_for(action) is None:
            raise Http404("unknown action")
        serializer = self.InputSerializer(data=request.data, incident=incident, user=request.user)
        serializer.is_valid(raise_exception=True)
        try:
            incident_act(
                incident_id=incident.pk,
                action=action,
                actor=request.user,
                expected_state=serializer.validated_data.get("expected_state") or None,
                **serializer.service_fields(),
            )
        except DomainError as exc:
            # A lost race is not bad input: 409, so clients reload instead of retrying.
            if exc.code == "conflict":
                return Response(
                    {"detail": exc.message, "code": exc.code}, status=status.HTTP_409_CONFLICT
                )
            raise
        return incident_detail_response(request=request, incident_id=incident.pk)
