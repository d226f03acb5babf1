import requests
from hubspot.crm.objects import PublicObjectSearchRequest

from tests.sandbox.conftest import sandbox_db

pytestmark = sandbox_db


def test_it_answers_429_with_hubspot_json_past_100_calls_in_ten_seconds(make_portal, hubspot_host):
    portal = make_portal()
    headers = {"Authorization": f"Bearer {portal['access_token']}"}
    url = f"{hubspot_host}/crm/v3/objects/deals?limit=1"
    statuses = [requests.get(url, headers=headers, timeout=10).status_code for _ in range(101)]
    assert statuses[:100] == [200] * 100 and statuses[100] == 429
    limited = requests.get(url, headers=headers, timeout=10)
    body = limited.json()
    assert body["errorType"] == "RATE_LIMIT" and body["policyName"] == "TEN_SECONDLY_ROLLING"
    assert body["message"] == "You have reached your ten_secondly_rolling limit."
    assert limited.headers["X-HubSpot-RateLimit-Max"] == "100"
    assert limited.headers["X-HubSpot-RateLimit-Remaining"] == "0"


def test_it_limits_searches_to_five_per_second(make_portal, hubspot_host):
    from hubspot import HubSpot

    from tests.sandbox.hubspot.conftest import ApiError

    portal = make_portal()
    client = HubSpot(access_token=portal["access_token"], host=hubspot_host)
    statuses = []
    for _ in range(6):
        try:
            client.crm.deals.search_api.do_search(PublicObjectSearchRequest())
            statuses.append(200)
        except ApiError as exc:
            statuses.append(exc.status)
    assert statuses == [200] * 5 + [429]


def test_it_lifts_limits_through_control(make_portal, hubspot_host):
    portal = make_portal(rate_limits=False)
    headers = {"Authorization": f"Bearer {portal['access_token']}"}
    url = f"{hubspot_host}/crm/v3/objects/deals?limit=1"
    statuses = {requests.get(url, headers=headers, timeout=10).status_code for _ in range(105)}
    assert statuses == {200}
