"""Residents pages: search, person and house pages, key persons, visits, reveal, export.

Every page reads through `residents.selectors` (scope and group grants); personal data is
shown masked, and the full value only comes from the reveal endpoint, which audits.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_POST

from govgrid.accounts.scoping import scope_queryset
from govgrid.lib.errors import DomainError
from grids.models import Area
from residents import exports, selectors, services
from residents.forms import (
    EnrolForm,
    HouseForm,
    HouseSearchForm,
    PersonForm,
    RiskForm,
    VisitForm,
)
from residents.models import House, KeyGroup, Organisation, Person, Residence, RiskLevel


def _require(user) -> None:
    if not selectors.can_use_residents(user):
        raise PermissionDenied


# Error reports (mails, logs) never show typed identity numbers, phones or revealed values.
@sensitive_post_parameters("q")
@login_required
def index(request):
    """Search people by name, exact identity number or exact phone."""
    _require(request.user)
    # The form posts, so a searched identity number or phone never lands in a URL (and so
    # in no access log or browser history); links may still search names with ?q=.
    query = (request.POST.get("q") or request.GET.get("q", "")).strip()
    if request.method == "GET" and sum(c.isdigit() for c in query) >= 7:
        # Only names travel in URLs: a number sent by GET is not searched (nor echoed).
        query = ""
    results = (
        list(selectors.person_search_for_user(user=request.user, query=query)) if query else []
    )
    return render(
        request,
        "residents/index.html",
        {
            "query": query if not any(c.isdigit() for c in query) else "",
            "searched": bool(query),
            "results": results,
            "due": list(selectors.key_person_list_for_user(user=request.user, mine=True)[:10]),
            "can_export": selectors.can_reveal(request.user),
            "today": timezone.localdate(),
        },
    )


@login_required
def person_detail(request, pk: int):
    _require(request.user)
    person = selectors.person_get_for_user(user=request.user, person_id=pk)
    records = list(person.key_records.all())
    for k in records:
        k.detail_rows = k.group.labelled(k.details)
    return render(
        request,
        "residents/person_detail.html",
        {
            "person": person,
            "residences": list(person.residences.all()),
            "records": records,
            "risk_form": RiskForm(),
            "visits": list(person.visits.select_related("visitor").order_by("-visited_at")[:20]),
            "incidents": selectors.incidents_naming(user=request.user, person=person),
            "can_reveal": selectors.can_reveal(request.user),
            "today": timezone.localdate(),
        },
    )


def _grids_for(user):
    return scope_queryset(user, Area.objects.grids()).order_by("code")


def _person_input(d: dict) -> services.PersonInput:
    return services.PersonInput(
        grid=d["grid"],
        name=d["name"],
        kind=d["kind"],
        id_number=d["id_number"],
        phone=d["phone"],
        gender=d["gender"],
        birth_date=d["birth_date"],
        ethnicity=d["ethnicity"],
        registered_address=d["registered_address"],
    )


def _form_errors(form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


@sensitive_post_parameters("id_number", "phone")
@login_required
def person_edit(request, pk: int):
    """Correct a person's record. The identity number and phone fields start empty (the page
    never holds them); left empty, the stored values are kept."""
    _require(request.user)
    person = selectors.person_get_for_user(user=request.user, person_id=pk)
    initial = {
        "grid": person.grid_id,
        "name": person.name,
        "kind": person.kind,
        "gender": person.gender,
        "birth_date": person.birth_date,
        "ethnicity": person.ethnicity,
        "registered_address": person.registered_address,
    }
    form = PersonForm(request.POST or None, grids=_grids_for(request.user), initial=initial)
    del form.fields["relation"]
    if request.method == "POST" and form.is_valid():
        try:
            services.person_update(
                person=person, data=_person_input(form.cleaned_data), actor=request.user
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Record updated."))
            return redirect("residents:person_detail", pk=person.pk)
    return render(
        request,
        "residents/person_form.html",
        {"form": form, "person": person},
        status=400 if form.errors else 200,
    )


@login_required
def key_person_enrol(request, pk: int):
    """Put a person into a key-person or care group the user is granted (?group=code)."""
    _require(request.user)
    person = selectors.person_get_for_user(user=request.user, person_id=pk)
    groups = KeyGroup.objects.filter(
        pk__in=selectors.visible_group_ids(request.user), is_active=True
    )
    code = request.POST.get("group") or request.GET.get("group")
    group = groups.filter(code=code).first() if code else None
    form = None
    if group is not None:
        workers = selectors.workers_of_grid(grid_id=person.grid_id)
        form = EnrolForm(
            request.POST if request.method == "POST" else None,
            group=group,
            workers=workers,
            initial={"responsible": workers.first()},
        )
        if request.method == "POST" and form.is_valid():
            d = form.cleaned_data
            try:
                services.key_person_enrol(
                    person=person,
                    group=group,
                    actor=request.user,
                    risk_level=d["risk_level"],
                    responsible=d["responsible"],
                    details=form.details(),
                    visit_interval_days=d["visit_interval_days"],
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Added to %(group)s.") % {"group": group.name})
                return redirect("residents:person_detail", pk=person.pk)
    return render(
        request,
        "residents/key_person_enrol.html",
        {"person": person, "groups": list(groups), "group": group, "form": form},
        status=400 if form is not None and form.errors else 200,
    )


@login_required
@require_POST
def residence_end(request, pk: int):
    """Someone moved out of a house (查房知人 keeps them under “lived here before”)."""
    _require(request.user)
    house_ids = selectors.scoped(request.user, House.objects.all()).values("pk")
    residence = get_object_or_404(Residence, pk=pk, house_id__in=house_ids)
    services.residence_end(residence=residence)
    messages.success(request, _("Moved out."))
    return redirect("residents:house_detail", pk=residence.house_id)


@login_required
def organisation_detail(request, pk: int):
    _require(request.user)
    org = get_object_or_404(
        selectors.scoped(request.user, Organisation.objects.select_related("grid")), pk=pk
    )
    return render(
        request,
        "residents/organisation_detail.html",
        {
            "org": org,
            "incidents": selectors.incidents_naming(user=request.user, organisation=org),
        },
    )


@sensitive_post_parameters("id_number", "phone")
@login_required
def person_new(request):
    _require(request.user)
    house = None
    house_id = request.POST.get("house") or request.GET.get("house")
    if house_id:
        house = selectors.house_get_for_user(user=request.user, house_id=int(house_id))
    initial = {"grid": house.grid_id, "house": house.pk} if house else {}
    form = PersonForm(request.POST or None, grids=_grids_for(request.user), initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        data = _person_input(d)
        try:
            with transaction.atomic():
                person = services.person_create(data=data, actor=request.user)
                if house is not None:
                    services.residence_start(
                        person=person,
                        house=house,
                        relation=d["relation"] or "family",
                        actor=request.user,
                    )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("%(name)s added.") % {"name": person.name})
            return redirect("residents:person_detail", pk=person.pk)
    return render(
        request,
        "residents/person_form.html",
        {"form": form, "house": house},
        status=400 if form.errors else 200,
    )


@sensitive_variables("value")
@login_required
@require_POST
def person_reveal(request, pk: int, field: str):
    """The full identity number or phone of one person, as JSON; one audit row per call."""
    _require(request.user)
    person = get_object_or_404(selectors.scoped(request.user, Person.objects.all()), pk=pk)
    if field not in services.REVEALABLE:
        raise Http404
    value = services.person_reveal(person=person, field=field, actor=request.user, request=request)
    response = JsonResponse({"value": value})
    response["Cache-Control"] = "no-store"
    return response


@sensitive_variables("details")
@login_required
@require_POST
def key_person_reveal(request, pk: int):
    _require(request.user)
    kp = get_object_or_404(selectors.key_person_qs_for_user(request.user), pk=pk)
    details = services.key_person_reveal(key_person=kp, actor=request.user, request=request)
    response = JsonResponse(
        {"value": "；".join(f"{label}：{v}" for label, v in kp.group.labelled(details)) or "—"}
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def key_person_risk(request, pk: int):
    _require(request.user)
    kp = get_object_or_404(selectors.key_person_qs_for_user(request.user), pk=pk)
    form = RiskForm(request.POST)
    if form.is_valid():
        services.key_person_risk_set(
            key_person=kp,
            level=form.cleaned_data["risk_level"],
            actor=request.user,
            reason=form.cleaned_data["reason"],
        )
        messages.success(request, _("Risk level changed."))
    else:
        messages.error(request, _("Give the new level and a reason."))
    return redirect("residents:person_detail", pk=kp.person_id)


@login_required
def house_list(request):
    _require(request.user)
    form = HouseSearchForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    use = form.cleaned_data["use"] if form.is_valid() else ""
    houses = selectors.house_list_for_user(user=request.user, query=query, use=use)
    return render(request, "residents/house_list.html", {"form": form, "houses": list(houses)})


@login_required
def house_new(request):
    """Register a house (and its building) from the phone or the desk."""
    _require(request.user)
    form = HouseForm(request.POST or None, grids=_grids_for(request.user))
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            house = services.house_register(
                grid=d["grid"],
                building_name=d["building"],
                unit_no=d["unit_no"],
                room=d["room"],
                actor=request.user,
                lon=d["lon"],
                lat=d["lat"],
                use=d["use"],
                owner_name=d["owner_name"],
                landlord_name=d["landlord_name"],
                lease_number=d["lease_number"],
                tenant_limit=d["tenant_limit"],
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("House registered."))
            return redirect("residents:house_detail", pk=house.pk)
    return render(
        request, "residents/house_form.html", {"form": form}, status=400 if form.errors else 200
    )


@login_required
def house_detail(request, pk: int):
    """查房知人: who lives here now and who lived here before."""
    _require(request.user)
    house = selectors.house_get_for_user(user=request.user, house_id=pk)
    residences = list(house.residences.all())
    return render(
        request,
        "residents/house_detail.html",
        {
            "house": house,
            "current": [r for r in residences if r.until is None],
            "past": [r for r in residences if r.until is not None],
            "visits": list(house.visits.select_related("visitor").order_by("-visited_at")[:20]),
            "incidents": selectors.incidents_naming(user=request.user, house=house),
        },
    )


@login_required
def key_persons(request):
    """Whom to visit: key persons and care groups, overdue first. Grid staff see their own
    duty by default; everyone sees only the groups granted to their roles."""
    _require(request.user)
    groups = KeyGroup.objects.filter(pk__in=selectors.visible_group_ids(request.user))
    group = None
    if request.GET.get("group"):
        group = groups.filter(code=request.GET["group"]).first()
        if group is None:
            raise Http404
    mine = request.GET.get("mine", "1" if request.user.has_role("grid_worker") else "") == "1"
    overdue = request.GET.get("overdue") == "1"
    rows = list(
        selectors.key_person_list_for_user(
            user=request.user, group=group, mine=mine, overdue_only=overdue
        )[:200]
    )
    today = timezone.localdate()
    return render(
        request,
        "residents/key_persons.html",
        {
            "rows": rows,
            "groups": list(groups),
            "group": group,
            "mine": mine,
            "overdue": overdue,
            "today": today,
            "overdue_count": sum(1 for r in rows if r.next_visit_due < today),
            "risk_levels": RiskLevel,
        },
    )


@login_required
def visit_new(request):
    """A visit recorded on the phone: to a person (?person=) or a household (?house=)."""
    _require(request.user)
    person = house = None
    source = request.POST if request.method == "POST" else request.GET
    if source.get("person"):
        person = selectors.person_get_for_user(user=request.user, person_id=int(source["person"]))
    elif source.get("house"):
        house = selectors.house_get_for_user(user=request.user, house_id=int(source["house"]))
    else:
        raise Http404
    form = VisitForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            visit = services.visit_record(
                visitor=request.user,
                data=services.VisitInput(
                    person=person,
                    house=house,
                    notes=d["notes"],
                    lon=d["lon"],
                    lat=d["lat"],
                    photo=d["photo"],
                ),
            )
        except (ValidationError, DomainError) as exc:
            form.add_error(None, getattr(exc, "message", None) or "; ".join(exc.messages))
        else:
            if visit.is_in_grid is False:
                messages.warning(request, _("Visit saved, but your position is outside the grid."))
            else:
                messages.success(request, _("Visit saved."))
            if person:
                return redirect("residents:person_detail", pk=person.pk)
            return redirect("residents:house_detail", pk=house.pk)
    return render(
        request,
        "residents/visit_form.html",
        {"form": form, "person": person, "house": house},
        status=400 if form.errors else 200,
    )


@login_required
def organisations(request):
    _require(request.user)
    key_places = request.GET.get("key") == "1"
    return render(
        request,
        "residents/organisations.html",
        {
            "organisations": list(
                selectors.organisation_list_for_user(user=request.user, key_places=key_places)
            ),
            "key_places": key_places,
        },
    )


@login_required
def export_people(request):
    """What the user may see, masked, as an Excel file; the export is audited."""
    _require(request.user)
    if not selectors.can_reveal(request.user):
        raise PermissionDenied
    content, _count = exports.people_xlsx(user=request.user, request=request)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse(
        content,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="people-{stamp}.xlsx"'
    return response
