"""Intake and read endpoints for incidents (the same services and selectors as the pages).

The transitions live in `dispatch.api.IncidentTransitionApi`; it answers with the same
detail representation as `IncidentDetailApi`, built by `incident_detail_response`.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, Q
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
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
from govgrid.accounts.models import CENTRE_ROLES, GRID_ROLES
from incidents.forms import MAX_PHOTOS
from incidents.models import (
    Category,
    Channel,
    Incident,
    LocationSource,
    RiskColour,
    Urgency,
)
from incidents.services import DESK_CHANNELS, ReportInput, incident_report
from incidents.uploads import clean_photo

# Who may file on which channel: grid staff report what they find in their grids; centre
# desks enter what arrives by hotline, petition, video patrol or a leader's instruction.
# Residents (QR portal) and Open311 clients have their own endpoints.
FIELD_CHANNELS = (Channel.GRID_WORKER,)


def report_channels_for(user) -> list[str]:
    """The channels `user` may file reports on, the usual one first (empty: may not report)."""
    channels: list[str] = []
    if user.has_role(*GRID_ROLES):
        channels += FIELD_CHANNELS
    if user.has_role(*CENTRE_ROLES):
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
            files = dictionary.getlist(self.field_name) + dictionary.getlist(f"{self.field_name}[]")
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
        # Through the scoped view, never the storage's public URL.
        url = reverse("dispatch:attachment_file", args=[obj.pk])
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
    attachments = serializers.SerializerMethodField(help_text="Ids of the files it added.")

    class Meta:
        ref_name = "IncidentEvent"

    def get_action_label(self, obj) -> str:
        return action_label(obj.action)

    def get_attachments(self, obj) -> list[int]:
        return [a.pk for a in obj.attachments.all()]


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


class IncidentDetailApi(APIView):
    """One incident with its timeline, dispatches, files and the caller's next actions."""

    class OutputSerializer(IncidentOutputSerializer):
        reporter_phone = serializers.CharField()
        duplicate_of = _IncidentRefSerializer(allow_null=True)
        duplicates = _IncidentRefSerializer(many=True)
        events = _EventSerializer(many=True)
        assignments = _AssignmentSerializer(many=True)
        attachments = _AttachmentSerializer(many=True)
        extension_requests = _ExtensionRequestSerializer(many=True)
        allowed_actions = serializers.SerializerMethodField()

        class Meta:
            ref_name = "IncidentDetail"

        @extend_schema_field(_AllowedActionSerializer(many=True))
        def get_allowed_actions(self, obj: Incident) -> list[dict]:
            # Computed by the view (dispatch.services.allowed_actions) and passed in.
            return [
                {"name": a.name, "label": str(a.label), "requires": list(a.requires)}
                for a in self.context.get("allowed_actions", [])
            ]

    @extend_schema(
        operation_id="incident_detail",
        responses={200: OutputSerializer, 404: OpenApiResponse(description="Not in your scope.")},
    )
    def get(self, request, pk: int):
        return incident_detail_response(request=request, incident_id=pk)


class IncidentReportApi(APIView):
    """File a report: a grid worker from the phone, or a centre desk from another channel.

    JSON or multipart; photos and evidence only in multipart, as repeated `photos` /
    `evidence` fields (`photos[]` works too).
    """

    parser_classes = [JSONParser, MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        category = serializers.PrimaryKeyRelatedField(
            queryset=Category.objects.select_related("parent"),
            help_text="A small category (see /api/categories/).",
        )
        description = serializers.CharField(max_length=2000)
        lon = serializers.FloatField(min_value=-180, max_value=180, help_text="WGS-84")
        lat = serializers.FloatField(min_value=-90, max_value=90, help_text="WGS-84")
        location_source = serializers.ChoiceField(
            choices=LocationSource.choices, default=LocationSource.GPS
        )
        address = serializers.CharField(max_length=200, allow_blank=True, default="")
        parties = serializers.CharField(max_length=500, allow_blank=True, default="")
        amount = serializers.DecimalField(
            max_digits=14, decimal_places=2, min_value=0, required=False, allow_null=True
        )
        people_count = serializers.IntegerField(min_value=0, required=False, allow_null=True)
        urgency = serializers.ChoiceField(
            choices=Urgency.choices,
            allow_blank=True,
            default="",
            help_text="Empty: the category's default.",
        )
        risk_colour = serializers.ChoiceField(
            choices=RiskColour.choices, allow_blank=True, default=RiskColour.NONE
        )
        channel = serializers.ChoiceField(
            choices=[*FIELD_CHANNELS, *DESK_CHANNELS],
            required=False,
            help_text="Grid staff: grid. Centre desks: hotline, petition, video or leader.",
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
        evidence = PhotoListField(help_text="Photos of the result when handled on the spot.")

        class Meta:
            ref_name = "IncidentReportInput"

        def __init__(self, *args, channels: list[str] | None = None, **kwargs):
            super().__init__(*args, **kwargs)
            if channels:
                # The caller's own channels; the first one is the usual one.
                self.fields["channel"].choices = channels
                self.fields["channel"].default = channels[0]

    class OutputSerializer(IncidentOutputSerializer):
        reporter_phone = serializers.CharField()
        attachments = _AttachmentSerializer(many=True)
        detail_url = serializers.SerializerMethodField()

        class Meta:
            ref_name = "IncidentReported"

        def get_detail_url(self, obj) -> str:
            return self.context["request"].build_absolute_uri(
                reverse("api:incident_detail", args=[obj.pk])
            )

    @extend_schema(
        operation_id="incident_report",
        request=InputSerializer,
        responses={
            201: OutputSerializer,
            400: OpenApiResponse(
                ErrorSerializer,
                description="Field errors ({field: [messages]}) or a refused rule.",
            ),
            403: OpenApiResponse(description="The caller files no reports."),
        },
    )
    def post(self, request):
        channels = report_channels_for(request.user)
        if not channels:
            raise PermissionDenied(_("Only grid staff and centre desks file reports."))
        serializer = self.InputSerializer(data=request.data, channels=channels)
        serializer.is_valid(raise_exception=True)
        incident = incident_report(
            data=ReportInput(**serializer.validated_data), actor=request.user
        )
        # The filed incident as the service returned it: no second read of the timeline, so
        # the phone gets its number quickly (the detail endpoint has the rest).
        return Response(
            self.OutputSerializer(incident, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class IncidentListApi(APIView):
    """The incidents the caller may see, newest first, limit/offset pages."""

    class Pagination(LimitOffsetPagination):
        default_limit = 20
        max_limit = 100

    class FilterSerializer(serializers.Serializer):
        state = serializers.ChoiceField(choices=STATES, required=False)
        category = serializers.PrimaryKeyRelatedField(
            queryset=Category.objects.all(),
            required=False,
            help_text="A small category, or a big one for all of its small ones.",
        )
        channel = serializers.ChoiceField(choices=Channel.choices, required=False)

        class Meta:
            ref_name = "IncidentListFilter"

    OutputSerializer = IncidentOutputSerializer

    @extend_schema(
        operation_id="incident_list",
        parameters=[
            FilterSerializer,
            OpenApiParameter("limit", int, description="page size (default 20, at most 100)"),
            OpenApiParameter("offset", int),
        ],
        responses={
            200: inline_serializer(
                "IncidentListPage",
                {
                    "count": serializers.IntegerField(),
                    "next": serializers.URLField(allow_null=True),
                    "previous": serializers.URLField(allow_null=True),
                    "results": IncidentOutputSerializer(many=True),
                },
            )
        },
    )
    def get(self, request):
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        filters = params.validated_data
        incidents = incident_list_for_user(user=request.user)
        if "state" in filters:
            incidents = incidents.filter(state=filters["state"])
        if "category" in filters:
            category = filters["category"]
            incidents = incidents.filter(Q(category=category) | Q(category__parent=category))
        if "channel" in filters:
            incidents = incidents.filter(channel=filters["channel"])
        paginator = self.Pagination()
        page = paginator.paginate_queryset(
            incidents.order_by("-reported_at", "-pk"), request, view=self
        )
        return paginator.get_paginated_response(
            self.OutputSerializer(page, many=True, context={"request": request}).data
        )


class CategoryListApi(APIView):
    """Active small categories grouped under their big category, for the report form."""

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        code = serializers.CharField()
        name = serializers.CharField()
        children = inline_serializer(
            "SmallCategory",
            {
                "id": serializers.IntegerField(),
                "code": serializers.CharField(),
                "name": serializers.CharField(),
                "urgency": serializers.CharField(),
                "handling_level": serializers.IntegerField(),
            },
            many=True,
            source="active_children",
        )

        class Meta:
            ref_name = "BigCategory"

    @extend_schema(operation_id="category_list", responses={200: OutputSerializer(many=True)})
    def get(self, request):
        big = Category.objects.filter(parent__isnull=True, is_active=True).prefetch_related(
            Prefetch(
                "children",
                queryset=Category.objects.filter(is_active=True).order_by("sort", "code"),
                to_attr="active_children",
            )
        )
        groups = [c for c in big if c.active_children]
        return Response(self.OutputSerializer(groups, many=True).data)
