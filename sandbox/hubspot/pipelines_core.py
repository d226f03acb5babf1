"""The default deal pipeline every portal starts with."""

STAGES = [
    ("appointmentscheduled", "Appointment Scheduled", "0.2", False),
    ("qualifiedtobuy", "Qualified To Buy", "0.4", False),
    ("presentationscheduled", "Presentation Scheduled", "0.6", False),
    ("decisionmakerboughtin", "Decision Maker Bought-In", "0.8", False),
    ("contractsent", "Contract Sent", "0.9", False),
    ("closedwon", "Closed Won", "1.0", True),
    ("closedlost", "Closed Lost", "0.0", True),
]
_BY_ID = {stage[0]: stage for stage in STAGES}
CREATED = "2019-08-06T02:41:52.000Z"


def is_closed(stage_id: str) -> bool:
    return bool(_BY_ID.get(stage_id, ("", "", "", False))[3])


def closed_won(stage_id: str) -> bool:
    stage = _BY_ID.get(stage_id)
    return bool(stage and stage[3] and stage[2] == "1.0")


def stage_json(index: int) -> dict:
    stage_id, label, probability, closed = STAGES[index]
    return {
        "id": stage_id,
        "label": label,
        "displayOrder": index,
        "metadata": {"isClosed": "true" if closed else "false", "probability": probability},
        "archived": False,
        "createdAt": CREATED,
        "updatedAt": CREATED,
        "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
    }


def default_pipeline() -> dict:
    return {
        "id": "default",
        "label": "Sales Pipeline",
        "displayOrder": 0,
        "stages": [stage_json(i) for i in range(len(STAGES))],
        "archived": False,
        "createdAt": CREATED,
        "updatedAt": CREATED,
    }
