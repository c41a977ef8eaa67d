"""Content-Security-Policy with a per-request nonce for the few inline scripts we have.

django-leaflet's map tag already renders `nonce="{{ csp_nonce }}"`; the context processor
in govgrid.context_processors passes the nonce to templates. The admin's geometry widget
renders its own inline script without access to the request, so admin pages (staff only)
allow inline scripts; every other page does not.
"""

import secrets

from django.conf import settings


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.csp_nonce = secrets.token_urlsafe(16)
        response = self.get_response(request)
        if "Content-Security-Policy" in response:
            return response
        if request.path.startswith("/admin/"):
            script_src = "'self' 'unsafe-inline'"
        else:
            script_src = f"'self' 'nonce-{request.csp_nonce}'"
        img_src = " ".join(["'self'", "data:", "blob:", *settings.MAP_TILE_HOSTS])
        response["Content-Security-Policy"] = "; ".join(
            [
                "default-src 'self'",
                f"script-src {script_src}",
                # Leaflet positions tiles and markers with inline style attributes.
                "style-src 'self' 'unsafe-inline'",
                f"img-src {img_src}",
                "connect-src 'self'",
                "font-src 'self' data:",
                "object-src 'none'",
                "base-uri 'self'",
                "form-action 'self'",
                "frame-ancestors 'none'",
            ]
        )
        return response
