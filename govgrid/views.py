"""Project-level pages: landing by role, health check, language switch."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from govgrid.accounts.models import CENTRE_ROLES, GRID_ROLES, JURISDICTION_ROLES, Role
from grids.selectors import area_roots_for_user


def landing_url(user) -> str:
    """Where each role starts its day."""
    roles = set(user.roles)
    if Role.ADMIN in roles or user.is_superuser:
        return "accounts:admin_home"
    if roles & CENTRE_ROLES:
        return "dispatch:triage"
    if roles & JURISDICTION_ROLES:
        return "areas"
    if Role.UNIT_HANDLER in roles:
        return "dispatch:unit_inbox"
    if roles & GRID_ROLES:
        return "grids:my_grids"
    return "accounts:no_role"


@login_required
def home(request):
    return redirect(landing_url(request.user))


@login_required
def areas(request):
    """A centre's landing page: its own area, or the list when it covers several."""
    roots = list(area_roots_for_user(user=request.user))
    if len(roots) == 1:
        return redirect("grids:area_detail", code=roots[0].code)
    return render(request, "grids/area_roots.html", {"roots": roots})


@require_GET
@never_cache
def healthz(request):
    """200 only when both the database and Redis answer; the body says which is down."""
    status = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        status["database"] = "ok"
    except Exception as exc:  # any failure means "down"; the reason helps the operator
        status["database"] = f"down: {exc.__class__.__name__}"
    try:
        cache.set("healthz", "1", 5)
        ok = cache.get("healthz") == "1"
        status["redis"] = "ok" if ok else "down: no answer"
    except Exception as exc:
        status["redis"] = f"down: {exc.__class__.__name__}"
    healthy = all(v == "ok" for v in status.values())
    return JsonResponse(
        {"status": "ok" if healthy else "down", **status}, status=200 if healthy else 503
    )


@require_POST
def language_set(request):
    """Switch the interface language; an unknown language is refused with a message."""
    code = request.POST.get("language", "")
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/"
    if code not in dict(settings.LANGUAGES):
        if request.headers.get("accept", "").startswith("application/json"):
            return HttpResponseBadRequest(_("Unknown language."))
        messages.error(request, _("Unknown language “%(code)s”.") % {"code": code[:20]})
        return redirect(next_url)
    translation.activate(code)
    response = redirect(next_url)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        code,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
    )
    return response
