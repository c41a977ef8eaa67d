from django.contrib.auth.backends import BaseBackend

from govgrid.accounts.models import Role


class RolePermissionBackend(BaseBackend):
    """Administrators (the admin role) hold every model permission in the Django admin.

    Permissions follow roles rather than hand-kept permission lists, so granting the role
    is the one switch. Authentication itself is left to the other backends.
    """

    def _is_admin(self, user_obj) -> bool:
        return bool(user_obj.is_active and Role.ADMIN in (getattr(user_obj, "roles", None) or []))

    def has_perm(self, user_obj, perm, obj=None) -> bool:
        return self._is_admin(user_obj)

    def has_module_perms(self, user_obj, app_label) -> bool:
        return self._is_admin(user_obj)
