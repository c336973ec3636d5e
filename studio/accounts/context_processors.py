from django.http import HttpRequest


def workspace(request: HttpRequest) -> dict:
    return {
        "membership": getattr(request, "membership", None),
        "memberships": list(getattr(request, "memberships", {}).values()),
    }
