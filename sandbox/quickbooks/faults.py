"""QuickBooks Online Fault bodies, with QBO's real codes."""

from datetime import UTC, datetime

from django.http import JsonResponse


def qbo_time() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class QboFault(Exception):
    def __init__(
        self,
        code: str,
        message: str,
        detail: str = "",
        *,
        element: str = "",
        status: int = 400,
        kind: str = "ValidationFault",
    ):
        super().__init__(f"{code} {message}: {detail}")
        self.code, self.message, self.detail = code, message, detail
        self.element, self.status, self.kind = element, status, kind

    def fault(self) -> dict:
        error = {
            "Message": self.message,
            "Detail": self.detail,
            "code": self.code,
            "element": self.element,
        }
        return {"Error": [error], "type": self.kind}

    def response(self) -> JsonResponse:
        return JsonResponse({"Fault": self.fault(), "time": qbo_time()}, status=self.status)


def not_found(entity: str, entity_id: str) -> QboFault:
    return QboFault(
        "610",
        "Object Not Found",
        f"Object Not Found : Something you're trying to use has been made inactive. "
        "Check the fields with accounts, customers, items, vendors or employees. "
        f"({entity} {entity_id})",
    )


def required(name: str, entity: str) -> QboFault:
    return QboFault(
        "2020",
        "Required param missing, need to supply the required value for the API",
        f"Required parameter {name} is missing in the request",
        element=name,
    )


def invalid_reference(name: str, value: str) -> QboFault:
    return QboFault(
        "2500",
        "Invalid Reference Id",
        f"Invalid Reference Id : {name} {value} does not exist",
        element=name,
    )


def string_length(name: str, maximum: int, supplied: int) -> QboFault:
    return QboFault(
        "2050",
        "String length is either shorter or longer than supported by specification",
        f"String length specified does not match the supported length. Min:0 Max:{maximum} "
        f"supported. Supplied length:{supplied}",
        element=name,
    )


def stale(entity: str) -> QboFault:
    return QboFault(
        "5010",
        "Stale Object Error",
        "Stale Object Error : You and root were working on this at the same time. root finished "
        "before you did, so your work was not saved.",
    )


def duplicate_name(entity: str = "Customer") -> QboFault:
    others = (
        "Another customer, vendor or employee is"
        if entity == "Customer"
        else f"Another {entity.lower()} is"
    )
    return QboFault(
        "6240",
        "Duplicate Name Exists Error",
        f"The name supplied already exists. : {others} already using this \nname. Please use "
        "a different name.",
    )


def duplicate_doc_number(doc_number: str, txn_type: str, txn_id: str) -> QboFault:
    return QboFault(
        "6140",
        "Duplicate Document Number Error",
        f"You must specify a different number. This number has already been used. "
        f"DocNumber={doc_number} is assigned to TxnType={txn_type} with TxnId={txn_id}",
    )


def business_rule(detail: str) -> QboFault:
    return QboFault(
        "6000", "A business validation error has occurred while processing your request", detail
    )


def has_balance() -> QboFault:
    """A customer with a balance made inactive (QBO's "delete" of a name list entry).
    Message and detail as integrators quote them (quickbooks-ruby #390, Bill.com's help);
    the code is not documented there: the business validation code is used."""
    return QboFault(
        "6000",
        "Delete List Has Balance Error",
        "The entity you are trying to delete has an open balance. : This customer cannot be "
        "deleted because it has a non-zero balance",
    )


def bad_query(detail: str) -> QboFault:
    return QboFault("4000", "Error parsing query", f"QueryParserError: {detail}")


def throttled() -> QboFault:
    return QboFault(
        "3001",
        "message=ThrottleExceeded; errorCode=003001; statusCode=429",
        "The request limit was reached.  Try again later",
        status=429,
        kind="SERVICE",
    )


def _gateway_fault(message: str, detail: str | None, code: str, kind: str, status: int):
    """The API gateway's lowercase envelope (not the API's `Fault`), as Intuit sends it for
    authentication and authorisation failures; python-quickbooks does not parse it."""
    body = {
        "warnings": None,
        "intuitObject": None,
        "fault": {
            "error": [{"message": message, "detail": detail, "code": code, "element": None}],
            "type": kind,
        },
        "report": None,
        "queryResponse": [],
        "batchItemResponse": [],
        "attachableResponse": [],
        "syncErrorResponse": None,
        "requestId": None,
        "time": int(datetime.now(UTC).timestamp() * 1000),
        "status": None,
        "cdcresponse": [],
    }
    return JsonResponse(body, status=status)


def unauthorised(detail: str = "Token invalid") -> JsonResponse:
    return _gateway_fault(
        "message=AuthenticationFailed; errorCode=003200; statusCode=401",
        detail,
        "3200",
        "AUTHENTICATION",
        401,
    )


def forbidden_realm() -> JsonResponse:
    """A valid token used on a company it was not granted for."""
    return _gateway_fault(
        "message=AuthorizationFailed; errorCode=003100; statusCode=403",
        None,
        "3100",
        "SERVICE",
        403,
    )
