"""Intake and read endpoints for incidents (the same services and selectors as the pages).

The transitions live in `dispatch.api.IncidentTransitionApi`; it answers with the same
detail representation as `IncidentDetailApi`, built by `incident_detail_response`.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.fields import empty
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.utils import html
from rest_framework.views import APIView

from dispatch.selectors import incident_get_for_user, incident_list_for_user
from dispatch.services import allowed_actions
from dispatch.templatetags.dispatch_tags import action_label
from dispatch.workflow import STATE_LABELS, STATES
from govgrid.accounts.models import GRID_ROLES, Role
from incidents.forms import MAX_PHOTOS
from incidents.models import (
    Category,
    Channel,
    Incident,
    LocationSource,
    RiskColour,
    Urgency,
)
from incidents.services import ReportInput, incident_report
from incidents.uploads import clean_photo

# Who may file on which channel: grid staff report what they find in their grids; centre
# desks enter what arrives by hotline, petition, video patrol or a leader's instruction.
# Residents (QR portal) and Open311 clients have their own endpoints.
FIELD_CHANNELS = (Channel.GRID_WORKER,)
DESK_CHANNELS = (Channel.HOTLINE, Channel.PETITION, Channel.VIDEO, Channel.LEADER)
DESK_ROLES = (Role.COMMUNITY_STATION, Role.STREET_CENTRE, Role.DISTRICT_CENTRE)


def report_channels_for(user) -> list[str]:
    """The channels `user` may file reports on, the usual one first (empty: may not report)."""
    channels: list[str] = []
    if user.has_role(*GRID_ROLES):
        channels += FIELD_CHANNELS
    if user.has_role(*DESK_ROLES):
        channels += DESK_CHANNELS
    return channels


class PhotoListField(serializers.ListField):
    """Photos sent as a repeated multipart field (`photos` or `photos[]`).

    Each is checked by incidents.uploads.clean_photo and comes out as the (upright,
    re-encoded file, content type) pair the services take.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("child", serializers.FileField(allow_empty_file=False))
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", MAX_PHOTOS)
        super().__init__(**kwargs)

    def get_value(self, dictionary):
        if html.is_html_input(dictionary):
            files = dictionary.getlist(self.field_name) + dictionary.getlist(
                f"{self.field_name}[]"
            )
            return files or empty
        return super().get_value(dictionary)

    def to_internal_value(self, data):
        files = super().to_internal_value(data)
        try:
            return [clean_photo(f) for f in files]
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc


# --------------------------------------------------------------------------------------
# The incident as every endpoint returns it
# --------------------------------------------------------------------------------------


class _CategoryRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    big_category = serializers.CharField(source="parent.name", default="")

    class Meta:
        ref_name = "IncidentCategoryRef"


class _UnitRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()

    class Meta:
        ref_name = "UnitRef"


class _GridRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()

    class Meta:
        ref_name = "GridRef"


class IncidentOutputSerializer(serializers.Serializer):
    """The incident's current values (a list row); reads only what the list selector joins."""

    id = serializers.IntegerField()
    number = serializers.CharField()
    channel = serializers.CharField()
    channel_label = serializers.CharField(source="get_channel_display")
    category = _CategoryRefSerializer()
    description = serializers.CharField()
    lon = serializers.FloatField(source="location.x")
    lat = serializers.FloatField(source="location.y")
    location_source = serializers.CharField()
    address = serializers.CharField()
    grid = _GridRefSerializer()
    reporter_name = serializers.CharField()
    parties = serializers.CharField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    people_count = serializers.IntegerField(allow_null=True)
    urgency = serializers.CharField()
    urgency_label = serializers.CharField(source="get_urgency_display")
    risk_colour = serializers.CharField()
    is_self_handled = serializers.BooleanField()
    result = serializers.CharField()
    state = serializers.CharField()
    state_label = serializers.SerializerMethodField()
    owner_unit = _UnitRefSerializer()
    lead_unit = _UnitRefSerializer(allow_null=True)
    phase = serializers.CharField()
    deadline_at = serializers.DateTimeField(allow_null=True)
    original_deadline_at = serializers.DateTimeField(allow_null=True)
    reported_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    rating = serializers.CharField()
    reopen_requested = serializers.BooleanField()

    class Meta:
        ref_name = "IncidentSummary"

    def get_state_label(self, obj: Incident) -> str:
        return str(STATE_LABELS.get(obj.state, obj.state))


class _IncidentRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()

    class Meta:
        ref_name = "IncidentRef"


class _AttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    event = serializers.IntegerField(source="event_id", allow_null=True)
    url = serializers.SerializerMethodField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    uploaded_at = serializers.DateTimeField()

    class Meta:
        ref_name = "IncidentAttachment"

    def get_url(self, obj) -> str:
        request = self.context.get("request")
        url = obj.file.url
        return request.build_absolute_uri(url) if request else url


class _EventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    action = serializers.CharField()
    action_label = serializers.SerializerMethodField()
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    actor = serializers.StringRelatedField(allow_null=True)
    unit = serializers.StringRelatedField(allow_null=True)
    note = serializers.CharField()
    data = serializers.JSONField()
    attachments = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        ref_name = "IncidentEvent"

    def get_action_label(self, obj) -> str:
        return action_label(obj.action)


class _AssignmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    unit = _UnitRefSerializer()
    role = serializers.CharField()
    role_label = serializers.CharField(source="get_role_display")
    state = serializers.CharField()
    state_label = serializers.CharField(source="get_state_display")
    handler = serializers.StringRelatedField(allow_null=True)
    is_whistle = serializers.BooleanField()
    signin_deadline_at = serializers.DateTimeField(allow_null=True)
    signed_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)

    class Meta:
        ref_name = "IncidentAssignment"


class _ExtensionRequestSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    days = serializers.IntegerField()
    reason = serializers.CharField()
    state = serializers.CharField()
    requested_by = serializers.StringRelatedField()
    decided_by = serializers.StringRelatedField(allow_null=True)
    deadline_before = serializers.DateTimeField()
    deadline_after = serializers.DateTimeField(allow_null=True)

    class Meta:
        ref_name = "IncidentExtensionRequest"


class _AllowedActionSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    requires = serializers.ListField(child=serializers.CharField())

    class Meta:
        ref_name = "IncidentAllowedAction"


class ErrorSerializer(serializers.Serializer):
    """What a refused business rule answers (DomainError through the exception handler)."""

    detail = serializers.CharField()
    code = serializers.CharField()

    class Meta:
        ref_name = "ApiError"


def incident_detail_response(*, request, incident_id: int, status_code: int = 200) -> Response:
    """The incident with its timeline and what the requesting user may do next."""
    incident = incident_get_for_user(user=request.user, pk=incident_id)
    actions = allowed_actions(user=request.user, incident=incident)
    data = IncidentDetailApi.OutputSerializer(
        incident, context={"request": request, "allowed_actions": actions}
    ).data
    return Response(data, status=status_code)


# --------------------------------------------------------------------------------------
# Endpoints
# --------------------------------------------------------------------------------------


class IncidentReportApi(APIView):
    """File a report: a grid worker from the phone, or a centre desk from another channel."""

    parser_classes = [JSONParser, MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        category = serializers.PrimaryKeyRelatedField(
            queryset=Category.objects.select_related("parent")
        )
        description = serializers.CharField(max_length=2000)
        lon = serializers.FloatField(min_value=-180, max_value=180)
        lat = serializers.FloatField(min_value=-90, max_value=90)
        location_source = serializers.ChoiceField(
            choices=LocationSource.choices, default=LocationSource.GPS
        )
        address = serializers.CharField(max_length=200, allow_blank=True, default="")
        parties = serializers.CharField(max_length=500, allow_blank=True, default="")
        amount = serializers.DecimalField(
            max_digits=14, decimal_places=2, min_value=0, required=False, allow_null=True
        )
        people_count = serializers.IntegerField(min_value=0, required=False, allow_null=True)
        urgency = serializers.ChoiceField(choices=Urgency.choices, allow_blank=True, default="")
        risk_colour = serializers.ChoiceField(
            choices=RiskColour.choices, allow_blank=True, default=RiskColour.NONE
        )
        channel = serializers.ChoiceField(
            choices=[*FIELD_CHANNELS, *DESK_CHANNELS],
            required=False,
            error_messages={
                "invalid_choice": gettext_lazy("You may not file reports on the “{input}” channel.")
            },
        )
        reporter_name = serializers.CharField(max_length=64, allow_blank=True, default="")
        reporter_phone = serializers.RegexField(
            r"^[0-9+\- ]{5,20}$",
            allow_blank=True,
            default="",
            error_messages={"invalid": gettext_lazy("Enter a phone number of digits.")},
        )
        is_self_handled = serializers.BooleanField(default=False)
        result = serializers.CharField(max_length=2000, allow_blank=True, default="")
        photos = PhotoListField()
        evidence = PhotoListField()

        class Meta:
            ref_name = "IncidentReportInput"

        def __init__(self, *args, channels: list[str] | None = None, **kwargs):
            super().__init__(*args, **kwargs)
            if channels:
                self.fields["channel"].choices = channels
                self.fields["channel"].default = channels[0]

    @extend_schema(
        request=InputSerializer,
        responses={
            201: IncidentDetailApi_OutputSerializer_ref
            if False
            else OpenApiResponse(description="The filed incident (as the detail endpoint)."),
        },
    )
    def post(self, request):
        raise NotImplementedError
