"""HubSpot's error bodies: `{"status":"error","message","correlationId","category",…}`."""

import uuid
from typing import Any

from django.http import JsonResponse


class HubSpotError(Exception):
    """Raised inside views; the API wrapper turns it into HubSpot's JSON error."""

    def __init__(
        self,
        status: int,
        category: str,
        message: str,
        errors: list[dict] | None = None,
        context: dict | None = None,
        sub_category: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.category = category
        self.message = message
        self.errors = errors or []
        self.context = context or {}
        self.sub_category = sub_category

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "status": "error",
            "message": self.message,
            "correlationId": str(uuid.uuid4()),
            "category": self.category,
            "errors": self.errors,
            "context": self.context,
            "links": {},
        }
        if self.sub_category:
            body["subCategory"] = self.sub_category
        return body

    def response(self) -> JsonResponse:
        return JsonResponse(self.body(), status=self.status)


def not_found(message: str = "Object not found", **context: list[str]) -> HubSpotError:
    return HubSpotError(404, "OBJECT_NOT_FOUND", message, context=dict(context))


def validation(message: str, errors: list[dict] | None = None) -> HubSpotError:
    return HubSpotError(400, "VALIDATION_ERROR", message, errors=errors)


def conflict(message: str) -> HubSpotError:
    return HubSpotError(409, "CONFLICT", message)


def error_item(category: str, message: str, **context: list[str]) -> dict[str, Any]:
    """One entry of a 207 batch's `errors` list."""
    return {
        "status": "error",
        "category": category,
        "message": message,
        "context": dict(context),
        "links": {},
        "errors": [],
    }
