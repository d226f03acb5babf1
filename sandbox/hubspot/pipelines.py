"""CRM v3 pipelines: the default deal pipeline and its stages (read-only here)."""

from django.http import HttpRequest, HttpResponse

from .api import crm_api, respond
from .errors import not_found
from .models import Portal
from .pipelines_core import default_pipeline
from .schema import object_type


def _pipelines(type_name: str) -> list[dict]:
    return [default_pipeline()] if object_type(type_name).name == "deals" else []


def _pipeline(type_name: str, pipeline_id: str) -> dict:
    for pipeline in _pipelines(type_name):
        if pipeline["id"] == pipeline_id:
            return pipeline
    raise not_found(f"Unable to find pipeline {pipeline_id}")


@crm_api(("GET",))
def pipeline_collection(
    request: HttpRequest, portal: Portal, object_type_name: str
) -> HttpResponse:
    return respond({"results": _pipelines(object_type_name)})


@crm_api(("GET",))
def pipeline_detail(
    request: HttpRequest, portal: Portal, object_type_name: str, pipeline_id: str
) -> HttpResponse:
    return respond(_pipeline(object_type_name, pipeline_id))


@crm_api(("GET",))
def stage_collection(
    request: HttpRequest, portal: Portal, object_type_name: str, pipeline_id: str
) -> HttpResponse:
    return respond({"results": _pipeline(object_type_name, pipeline_id)["stages"]})


@crm_api(("GET",))
def stage_detail(
    request: HttpRequest, portal: Portal, object_type_name: str, pipeline_id: str, stage_id: str
) -> HttpResponse:
    for stage in _pipeline(object_type_name, pipeline_id)["stages"]:
        if stage["id"] == stage_id:
            return respond(stage)
    raise not_found(f"Unable to find stage {stage_id}")
