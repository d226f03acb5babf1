"""HubSpot emulator routes, under /sandbox/ (API host: /sandbox/hubspot)."""

from django.urls import path, re_path

from . import associations, control, oauth, objects, pipelines, properties, search, webhooks_api

api = "hubspot/"
crm = api + "crm/v3/"
v4 = api + "crm/v4/"

urlpatterns = [
    path(api + "oauth/authorize", oauth.authorize, name="sandbox_hubspot_authorize"),
    path(api + "oauth/v1/token", oauth.token),
    path(api + "oauth/v1/access-tokens/<str:token>", oauth.access_token_info),
    path(api + "oauth/v1/refresh-tokens/<str:token>", oauth.refresh_token_info),
    path(crm + "objects/<str:object_type_name>", objects.collection),
    path(crm + "objects/<str:object_type_name>/search", search.search_view),
    re_path(
        r"^hubspot/crm/v3/objects/(?P<object_type_name>[^/]+)/batch/(?P<action>read|create|update|archive)$",
        objects.batch,
    ),
    path(crm + "objects/<str:object_type_name>/<str:object_id>", objects.detail),
    path(crm + "properties/<str:object_type_name>", properties.property_collection),
    path(crm + "properties/<str:object_type_name>/groups", properties.group_collection),
    path(crm + "properties/<str:object_type_name>/<str:property_name>", properties.property_detail),
    path(crm + "pipelines/<str:object_type_name>", pipelines.pipeline_collection),
    path(crm + "pipelines/<str:object_type_name>/<str:pipeline_id>", pipelines.pipeline_detail),
    path(
        crm + "pipelines/<str:object_type_name>/<str:pipeline_id>/stages",
        pipelines.stage_collection,
    ),
    path(
        crm + "pipelines/<str:object_type_name>/<str:pipeline_id>/stages/<str:stage_id>",
        pipelines.stage_detail,
    ),
    path(
        v4 + "objects/<str:object_type_name>/<str:object_id>/associations/default/"
        "<str:to_object_type>/<str:to_object_id>",
        associations.pair_default,
    ),
    path(
        v4 + "objects/<str:object_type_name>/<str:object_id>/associations/<str:to_object_type>",
        associations.listing,
    ),
    path(
        v4 + "objects/<str:object_type_name>/<str:object_id>/associations/<str:to_object_type>/"
        "<str:to_object_id>",
        associations.pair,
    ),
    re_path(
        r"^hubspot/crm/v4/associations/(?P<from_object_type>[^/]+)/(?P<to_object_type>[^/]+)/"
        r"batch/(?P<action>create|read|archive|associate/default|labels/archive)$",
        associations.batch,
    ),
    path(api + "webhooks/v3/<str:app_id>/settings", webhooks_api.settings_view),
    path(api + "webhooks/v3/<str:app_id>/subscriptions", webhooks_api.subscriptions),
    path(
        api + "webhooks/v3/<str:app_id>/subscriptions/<int:subscription_id>",
        webhooks_api.subscription,
    ),
    path("control/hubspot/portals", control.portals),
    path("control/hubspot/portals/<int:portal_id>", control.portal),
]
