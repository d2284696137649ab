"""The Twilio Sync stand-in enforces the documented limits the sink is tested against: Basic
auth, 16 KiB items, unique keys, the per-Map write rate."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests

from tests.support import TwilioSyncStandIn

IS, SK, SECRET = "IS" + "0" * 32, "SK" + "1" * 32, "twilio-secret"
MAPS = ("m0", "m1", "m2")


@pytest.fixture
def twilio() -> Iterator[TwilioSyncStandIn]:
    server = TwilioSyncStandIn(IS, SK, SECRET, MAPS, writes_per_window=4, window_s=0.5)
    yield server
    server.close()


def test_standin_enforces_the_documented_limits(twilio):
    items = f"{twilio.url}/v1/Services/{IS}/Maps/m0/Items"
    auth = (SK, SECRET)
    assert requests.post(items, data={"Key": "k", "Data": "{}"}, auth=(SK, "x")).status_code \
        == 401
    big = json.dumps({"x": "a" * 16 * 1024})
    r = requests.post(items, data={"Key": "k", "Data": big}, auth=auth)
    assert (r.status_code, r.json()["code"]) == (413, 54006)
    assert requests.post(items, data={"Key": "k", "Data": "{}"}, auth=auth).status_code == 201
    r = requests.post(items, data={"Key": "k", "Data": "{}"}, auth=auth)
    assert (r.status_code, r.json()["code"]) == (409, 54208)
    codes = [requests.post(items, data={"Key": f"n{i}", "Data": "{}"}, auth=auth).status_code
             for i in range(6)]
    assert 429 in codes
    assert requests.get(items + "/k", auth=auth).json()["data"] == {}


def test_standin_accepts_the_account_sid_and_auth_token_too():
    account, token = "AC" + "2" * 32, "f" * 32
    server = TwilioSyncStandIn(IS, SK, SECRET, MAPS, account_sid=account, auth_token=token)
    try:
        items = f"{server.url}/v1/Services/{IS}/Maps/m0/Items"
        assert requests.post(items, data={"Key": "a", "Data": "{}"},
                             auth=(account, token)).status_code == 201
        assert requests.post(items, data={"Key": "b", "Data": "{}"},
                             auth=(SK, SECRET)).status_code == 201
        assert requests.post(items, data={"Key": "c", "Data": "{}"},
                             auth=(account, SECRET)).status_code == 401
    finally:
        server.close()
