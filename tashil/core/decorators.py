"""View decorators for pages only some roles may open."""

from functools import wraps

from django.core.exceptions import PermissionDenied


def only_for(allowed):
    """A view decorator: users for whom `allowed(user)` is false get a 403."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not allowed(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
