"""Open311 GeoReport v2 at /open311/v2: every endpoint in JSON and XML in the spec's shapes, a
request posted and read back, the list's filters, the spec's errors (never a 5xx), public fields
only, the read-key setting both ways, a grid worker's key scoped to their grid, and wrong keys
throttled; on SQLite and PostGIS."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from web_support import WORKER_GRID

from geogrid import usecases
from geogrid.access import Actor
from geogrid.workdays import BEIJING

ROOT = "/open311/v2"
POINT = {"lat": "32.11", "long": "118.93"}  # in the worker's grid (东阳社区)
ELSEWHERE = {"lat": "32.1", "long": "118.95"}  # another grid
#: The spec's fields of a request read back (address_id and zipcode: we have none).
REQUEST_FIELDS = [
    "service_request_id", "status", "status_notes", "service_name", "service_code",
    "description", "agency_responsible", "service_notice", "requested_datetime",
    "updated_datetime", "expected_datetime", "address", "lat", "long", "media_url",
]  # fmt: skip
SERVICE_FIELDS = [
    "service_code", "service_name", "description", "metadata", "type", "keywords", "group",
]  # fmt: skip
SECRETS = ("张", "三丰", "13900001234", "zhang@example.cn", "dev-42")
DISP = Actor("dispatcher", "dispatcher")
WORKER = Actor("worker", "worker", frozenset({WORKER_GRID}))


@pytest.fixture(scope="module", params=["sqlite", "postgis"])
def site(request, make_site, tmp_path_factory):
    """A site of this module's own (the tests add requests to it), on each backend."""
    s = make_site(request.param)
    svc = s.service
    svc.policy = replace(svc.policy, photo_dir=tmp_path_factory.mktemp("photos"))
    return s


def post(site, fmt="json", role="dispatcher", **fields):
    data = {"service_code": "0601", **POINT, "description": "井盖缺失", **fields}
    if role is not None:
        data.setdefault("api_key", site.tokens[role])
    return site.client().post(f"{ROOT}/requests.{fmt}", data=data)


def new_request(site, **fields) -> int:
    resp = post(site, **fields)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    return resp.json[0]["service_request_id"]


def xml(resp) -> ET.Element:
    assert resp.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert resp.data.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(resp.data)


def rows(root: ET.Element, item: str) -> list[dict]:
    return [{c.tag: c.text for c in el} for el in root.findall(item)]


def errors_of(resp, fmt):
    """The spec's error list, as (code, description) pairs."""
    if fmt == "json":
        assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
        body = resp.json
        assert isinstance(body, list) and all(set(e) == {"code", "description"} for e in body)
        return [(e["code"], e["description"]) for e in body]
    root = xml(resp)
    assert root.tag == "errors" and [e.tag for e in root] == ["error"] * len(root)
    return [(int(e.findtext("code")), e.findtext("description")) for e in root]


# ---------------------------------------------------------------------- services
def test_services_in_json_and_xml(site):
    resp = site.client().get(f"{ROOT}/services.json")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
    services = resp.json
    assert len(services) == 46 and all(list(s) == SERVICE_FIELDS for s in services)
    manhole = next(s for s in services if s["service_code"] == "0601")
    assert manhole["service_name"] == "井盖破损缺失" and manhole["group"] == "公用设施"
    assert manhole["metadata"] is False and manhole["type"] == "realtime"
    assert "1个工作日" in manhole["description"] and "manhole" in manhole["keywords"]
    root = xml(site.client().get(f"{ROOT}/services.xml?jurisdiction_id=320113005"))
    assert root.tag == "services" and len(root) == 46
    assert all(list(s) == SERVICE_FIELDS for s in rows(root, "service"))
    assert {**rows(root, "service")[services.index(manhole)], "metadata": False} == manhole
    assert root.find("service").findtext("metadata") == "false"


def test_service_names_in_english(site):
    client = site.client()
    client.set_cookie("lang", "en")
    manhole = next(
        s for s in client.get(f"{ROOT}/services.json").json if s["service_code"] == "0601"
    )
    assert manhole["group"] == "Public facilities"
    assert manhole["service_name"].isascii() and "working days" in manhole["description"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_service_definition_and_an_unknown_service(site, fmt):
    resp = site.client().get(f"{ROOT}/services/0601.{fmt}")
    assert resp.status_code == 200
    if fmt == "json":
        assert resp.json == {"service_code": "0601", "attributes": []}
    else:
        root = xml(resp)
        assert root.tag == "service_definition"
        assert [(c.tag, c.text, len(c)) for c in root] == [
            ("service_code", "0601", 0),
            ("attributes", None, 0),
        ]
    missing = site.client().get(f"{ROOT}/services/9999.{fmt}")
    assert missing.status_code == 404
    assert errors_of(missing, fmt) == [
        (404, "service_code '9999' not found (GET services lists them)")
    ]


# ---------------------------------------------------------------------- POST and read back
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_a_request_then_read_it_back(site, fmt):
    resp = post(
        site,
        fmt,
        first_name="三丰",
        last_name="张",
        phone="13900001234",
        email="zhang@example.cn",
        device_id="dev-42",
        account_id="acc-7",
        address_string="仙林大道 & 学海路",
        media_url="https://img.example.cn/a.jpg",
        jurisdiction_id="320113005",
        description="井盖 <缺失> & 松动",
    )
    assert resp.status_code == 201
    if fmt == "json":
        (answer,) = resp.json
    else:
        root = xml(resp)
        assert root.tag == "service_requests"
        (answer,) = rows(root, "request")
    assert list(answer) == ["service_request_id", "service_notice", "account_id"]
    rid = int(answer["service_request_id"])
    assert answer["account_id"] == "acc-7" and "1个工作日" in answer["service_notice"]
    # kept as an Open311 report with its reporter (never shown back)
    inc = site.store.incident(rid)
    assert (inc.channel, inc.state, inc.category, inc.grid_code) == (
        "open311", "reported", "0601", WORKER_GRID,
    )  # fmt: skip
    assert (inc.reporter, inc.reporter_contact) == ("张三丰", "13900001234, zhang@example.cn")
    back = site.client().get(f"{ROOT}/requests/{rid}.{fmt}")
    assert back.status_code == 200
    if fmt == "json":
        (req,) = back.json
    else:
        root = xml(back)
        assert root.tag == "service_requests" and [c.tag for c in root] == ["request"]
        (req,) = rows(root, "request")
        req = {**req, "service_request_id": int(req["service_request_id"])}
        req.update(lat=float(req["lat"]), long=float(req["long"]))
    assert list(req) == REQUEST_FIELDS
    assert req["service_request_id"] == rid
    assert (req["status"], req["status_notes"]) == ("open", None)
    assert (req["service_code"], req["service_name"]) == ("0601", "井盖破损缺失")
    assert req["description"] == "井盖 <缺失> & 松动"  # escaped in XML, whole again when parsed
    assert req["agency_responsible"] == "东阳社区"
    assert req["address"] == "仙林大道 & 学海路"
    assert (req["lat"], req["long"]) == (32.11, 118.93)
    assert req["media_url"] == "https://img.example.cn/a.jpg"
    requested = datetime.fromisoformat(req["requested_datetime"])
    assert req["requested_datetime"].endswith("+08:00")
    assert requested.utcoffset() == timedelta(hours=8)
    assert abs(requested - inc.created_at) < timedelta(seconds=1)
    assert req["expected_datetime"] in (None, "")  # not dispatched yet: no deadline runs
    text = back.get_data(as_text=True)
    for secret in SECRETS:
        assert secret not in text


def test_a_closed_request_says_why_and_when(site):
    rid = new_request(site, address_string=None)
    svc = site.service
    usecases.incidents.act(svc, DISP, rid, "dispatch")
    dispatched = site.client().get(f"{ROOT}/requests/{rid}.json").json[0]
    due = site.store.incident(rid).due_at.astimezone(BEIJING).isoformat(timespec="seconds")
    assert (dispatched["status"], dispatched["expected_datetime"]) == ("open", due)
    assert dispatched["address"] == "东阳社区第07网格, 东阳社区"  # no address given: the grid
    usecases.incidents.act(svc, WORKER, rid, "accept", note="联系13900001234")
    done = usecases.incidents.act(svc, WORKER, rid, "resolve", note="已更换井盖")
    usecases.incidents.act(svc, WORKER, rid, "revisit", passed=True, satisfaction="满意")
    req = site.client().get(f"{ROOT}/requests/{rid}.json").json[0]
    assert (req["status"], req["status_notes"]) == ("closed", "已更换井盖")
    assert datetime.fromisoformat(req["updated_datetime"]) == done.updated_at.replace(microsecond=0)
    assert "13900001234" not in json.dumps(req)
    usecases.incidents.act(svc, DISP, rid, "reopen", note="又坏了")
    assert site.client().get(f"{ROOT}/requests/{rid}.json").json[0]["status"] == "open"
    usecases.incidents.act(svc, DISP, rid, "escalate", note="会办", office="街道城建中心")
    req = site.client().get(f"{ROOT}/requests/{rid}.json").json[0]
    assert req["agency_responsible"] == "街道城建中心"


def test_a_photo_is_the_media_url_when_the_app_gave_none(site):
    rid = new_request(site)
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 200, 10)).save(buf, "JPEG")
    usecases.incidents.add_photos(site.service, DISP, rid, [buf.getvalue()])
    url = site.client().get(f"{ROOT}/requests/{rid}.json").json[0]["media_url"]
    assert url.startswith(f"http://localhost{ROOT}/photos/")
    photo = site.client().get(url.removeprefix("http://localhost"))
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(photo.data)).size == (64, 48)


def test_tokens_are_request_ids(site):
    rid = new_request(site)
    assert site.client().get(f"{ROOT}/tokens/{rid}.json").json == [
        {"service_request_id": rid, "token": str(rid)}
    ]
    root = xml(site.client().get(f"{ROOT}/tokens/{rid}.xml"))
    assert rows(root, "request") == [{"service_request_id": str(rid), "token": str(rid)}]
    for token in ("999999", "abc", "9" * 30):
        resp = site.client().get(f"{ROOT}/tokens/{token}.xml")
        assert resp.status_code == 404 and errors_of(resp, "xml")[0][0] == 404


# ---------------------------------------------------------------------- the list
def _ids(resp) -> list[int]:
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return [r["service_request_id"] for r in resp.json]


def test_list_filters(site):
    a = new_request(site, service_code="0601")
    b = new_request(site, service_code="0101")
    c = new_request(site, service_code="0101", **ELSEWHERE)
    usecases.incidents.act(site.service, DISP, c, "cancel", note="重复上报")
    get = site.client().get
    listed = _ids(get(f"{ROOT}/requests.json"))
    assert listed[:3] == [c, b, a]  # newest first
    assert _ids(get(f"{ROOT}/requests.json?service_request_id={a},{c},999999")) == [c, a]
    assert _ids(get(f"{ROOT}/requests.json?service_request_id={a}&service_request_id={b}")) == [
        b,
        a,
    ]
    by_code = _ids(get(f"{ROOT}/requests.json?service_code=0101"))
    assert {b, c} <= set(by_code) and a not in by_code
    both = _ids(get(f"{ROOT}/requests.json?service_code=0101,0601"))
    assert {a, b, c} <= set(both) and both == sorted(both, reverse=True)
    closed = get(f"{ROOT}/requests.json?status=closed").json
    assert {r["status"] for r in closed} == {"closed"} and c in [
        r["service_request_id"] for r in closed
    ]
    assert next(r for r in closed if r["service_request_id"] == c)["status_notes"] == "重复上报"
    opened = _ids(get(f"{ROOT}/requests.json?status=open"))
    assert {a, b} <= set(opened) and c not in opened
    assert set(_ids(get(f"{ROOT}/requests.json?status=open,closed"))) == set(listed)
    # the window: W3C datetimes, the end included; the spec's 90 days at most
    now = datetime.now(BEIJING).replace(microsecond=0)
    start = (now - timedelta(days=1)).isoformat()
    end = (now + timedelta(minutes=5)).isoformat()
    q = {"start_date": start, "end_date": end, "service_code": "0101"}
    assert {b, c} <= set(_ids(get(f"{ROOT}/requests.json", query_string=q)))
    old = {"end_date": "2020-01-01T00:00:00Z"}
    assert _ids(get(f"{ROOT}/requests.json", query_string=old)) == []
    hour_ago = (now - timedelta(hours=1)).astimezone(UTC).isoformat().replace("+00:00", "Z")
    assert {a, b, c} <= set(
        _ids(get(f"{ROOT}/requests.json", query_string={"start_date": hour_ago}))
    )
    in_an_hour = (now + timedelta(hours=1)).isoformat()
    unencoded = f"{ROOT}/requests.json?start_date={in_an_hour}"  # its + arrives as a space
    assert _ids(get(unencoded)) == []
    assert _ids(get(f"{ROOT}/requests.json", query_string={"start_date": in_an_hour})) == []
    day = {"end_date": (now - timedelta(days=1)).date().isoformat()}  # that whole day, not today
    assert not {a, b, c} & set(_ids(get(f"{ROOT}/requests.json", query_string=day)))
    # XML: the same list under <service_requests>
    root = xml(get(f"{ROOT}/requests.xml?service_request_id={a},{b}"))
    assert root.tag == "service_requests"
    assert [int(r["service_request_id"]) for r in rows(root, "request")] == [b, a]
    assert all(list(r) == REQUEST_FIELDS for r in rows(root, "request"))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("status=pending", "status: open or closed"),
        ("service_code=9999", "service_code '9999' not found"),
        ("service_request_id=1,x", "service_request_id: up to 1000 request ids"),
        ("start_date=yesterday", "start_date: a W3C datetime"),
        ("start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z", "more than 90 days"),
        ("start_date=2026-06-01&end_date=2026-01-01", "end_date is before start_date"),
        ("end_date=9999-12-31", "end_date: a W3C datetime"),
        ("start_date=0001-01-01T00:00:00%2B14:00", "start_date: a W3C datetime"),
        ("service_request_id=%C2%B2", "service_request_id: up to 1000 request ids"),
    ],
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_list_bad_filters_are_400(site, query, message, fmt):
    resp = site.client().get(f"{ROOT}/requests.{fmt}?{query}")
    assert resp.status_code == 400
    ((code, description),) = errors_of(resp, fmt)
    assert code == 400 and message in description


# ---------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"role": None}, 403, "api_key is required"),
        ({"api_key": "ggt_not-a-token"}, 403, "invalid api_key"),
        ({"role": "worker"}, 403, "a grid worker may not report an incident"),
        ({"role": "planner"}, 403, "a planner may not report an incident"),
        ({"service_code": ""}, 400, "service_code is required"),
        ({"service_code": "9999"}, 404, "service_code '9999' not found"),
        ({"lat": "north"}, 400, "lat must be a number"),
        ({"long": "nan"}, 400, "long must be a finite number"),
        ({"lat": "95"}, 400, "lat must be between -90 and 90"),
        ({"long": "-200"}, 400, "long must be between -180 and 180"),
        ({"lat": "", "long": "", "address_string": "仙林大道1号"}, 400, "address_string or address_id alone cannot be located"),
        ({"lat": ""}, 400, "lat and long (WGS-84) are required"),
        ({"lat": "32.0", "long": "118.5"}, 400, "outside the district"),
        ({"jurisdiction_id": "sfgov.org"}, 404, "jurisdiction_id 'sfgov.org' not found"),
        ({"media_url": "javascript:alert(1)"}, 400, "media_url"),
        ({"description": "x" * 4001}, 400, "at most 4000 characters"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_errors_in_the_specs_shape(site, fields, status, message, fmt):
    before = len(
        site.store.search_incidents("320113005", usecases.incidents.IncidentQuery(limit=1000))[1]
    )
    resp = post(site, fmt, **fields)
    assert resp.status_code == status, resp.get_data(as_text=True)
    ((code, description),) = errors_of(resp, fmt)
    assert code == status and message in description
    after = len(
        site.store.search_incidents("320113005", usecases.incidents.IncidentQuery(limit=1000))[1]
    )
    assert after == before


@pytest.mark.parametrize(
    ("method", "path", "status", "fmt"),
    [
        ("GET", "/services.csv", 404, "xml"),
        ("GET", "/requests.html", 404, "xml"),
        ("GET", "/requests/12345678.json", 404, "json"),
        ("GET", "/requests/abc.xml", 404, "xml"),
        ("GET", f"/requests/{'9' * 40}.json", 404, "json"),
        ("GET", "/discovery.json", 404, "json"),
        ("GET", "/services", 404, "xml"),
        ("GET", "", 404, "xml"),
        ("PUT", "/requests.json", 405, "json"),
        ("DELETE", "/requests/1.xml", 405, "xml"),
        ("GET", "/services.json?jurisdiction_id=other.gov", 404, "json"),
        ("GET", "/photos/99999", 404, "xml"),
    ],
)
def test_other_errors_in_the_specs_shape(site, method, path, status, fmt):
    resp = site.client().open(ROOT + path, method=method)
    assert resp.status_code == status
    ((code, description),) = errors_of(resp, fmt)
    assert code == status and description


def test_the_jurisdiction_is_a_setting(make_site):
    site = make_site(OPEN311_JURISDICTION="xianlin.gov.cn")
    get = site.client().get
    assert get(f"{ROOT}/services.json?jurisdiction_id=xianlin.gov.cn").status_code == 200
    assert get(f"{ROOT}/services.json?jurisdiction_id=XIANLIN.gov.cn").status_code == 200
    assert get(f"{ROOT}/services.json").status_code == 200  # one jurisdiction: optional
    wrong = get(f"{ROOT}/services.json?jurisdiction_id=320113005")
    assert wrong.status_code == 404
    assert "this endpoint serves xianlin.gov.cn" in errors_of(wrong, "json")[0][1]


# ---------------------------------------------------------------------- who reads what
def test_reads_show_public_fields_only(site):
    rid = new_request(site, first_name="三丰", last_name="张", phone="13900001234", email="zhang@example.cn", device_id="dev-42")  # fmt: skip
    usecases.incidents.act(site.service, DISP, rid, "cancel", note="已转12345处理")
    for path in (
        f"/requests/{rid}.json",
        f"/requests/{rid}.xml",
        "/requests.json",
        "/requests.xml",
    ):
        for key in (None, site.tokens["admin"]):  # not even an administrator's key shows them
            resp = site.client().get(ROOT + path, query_string={"api_key": key} if key else {})
            assert resp.status_code == 200
            text = resp.get_data(as_text=True)
            assert str(rid) in text and "已转12345处理" in text
            for secret in SECRETS:
                assert secret not in text, (path, secret)


def test_reads_need_no_key_by_default_but_a_wrong_key_is_refused(site):
    assert site.client().get(f"{ROOT}/requests.json").status_code == 200
    resp = site.client().get(f"{ROOT}/requests.json?api_key=ggt_wrong")
    assert resp.status_code == 403 and "invalid api_key" in errors_of(resp, "json")[0][1]


def test_reads_need_a_key_when_the_setting_says_so(make_site):
    site = make_site(OPEN311_READ_NEEDS_KEY=True)
    rid = new_request(site)
    for path in ("/services.json", "/services/0601.xml", "/requests.json", f"/requests/{rid}.xml", f"/tokens/{rid}.json"):  # fmt: skip
        anonymous = site.client().get(ROOT + path)
        assert anonymous.status_code == 403
        fmt = path.rsplit(".", 1)[1]
        assert "api_key is required" in errors_of(anonymous, fmt)[0][1]
        keyed = site.client().get(ROOT + path, query_string={"api_key": site.tokens["planner"]})
        assert keyed.status_code == 200, path


def test_a_workers_key_reads_their_grids_requests_only(site):
    mine = new_request(site)
    theirs = new_request(site, **ELSEWHERE)
    key = {"api_key": site.tokens["worker"]}
    get = site.client().get
    listed = _ids(get(f"{ROOT}/requests.json", query_string=key))
    assert mine in listed and theirs not in listed
    assert all(site.store.incident(i).grid_code == WORKER_GRID for i in listed)
    both = {**key, "service_request_id": f"{mine},{theirs}"}
    assert _ids(get(f"{ROOT}/requests.json", query_string=both)) == [mine]
    assert _ids(get(f"{ROOT}/requests/{mine}.json", query_string=key)) == [mine]
    refused = get(f"{ROOT}/requests/{theirs}.xml", query_string=key)
    assert refused.status_code == 403
    assert "works in grid" in errors_of(refused, "xml")[0][1]
    # without a key (allowed on this site) every request's public fields are listed
    assert {mine, theirs} <= set(_ids(get(f"{ROOT}/requests.json")))


def test_an_office_key_reads_what_is_escalated_to_it(site):
    rid = new_request(site, service_code="0202")  # joint handling by the test office
    key = {"api_key": site.tokens["office"]}
    get = site.client().get
    assert rid not in _ids(get(f"{ROOT}/requests.json", query_string=key))
    usecases.incidents.act(site.service, DISP, rid, "dispatch")
    usecases.incidents.act(site.service, DISP, rid, "escalate", note="会办")
    assert rid in _ids(get(f"{ROOT}/requests.json", query_string=key))


def test_wrong_keys_are_throttled_with_the_apis_count(make_site):
    site = make_site(TOKEN_LIMIT_PER_ADDRESS="4 per 15 minutes")
    client = site.client()
    far = {"REMOTE_ADDR": "203.0.113.40"}
    statuses = [
        client.get(f"{ROOT}/requests.json?api_key=wrong-{i}", environ_overrides=far).status_code
        for i in range(3)
    ]
    bearer = {"Authorization": "Bearer wrong"}
    statuses.append(client.get("/api/v1/grids", headers=bearer, environ_overrides=far).status_code)
    refused = client.post(f"{ROOT}/requests.xml", data={"api_key": "x"}, environ_overrides=far)
    assert statuses == [403, 403, 403, 401] and refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "wrong API token" in errors_of(refused, "xml")[0][1]
    # good keys elsewhere, and requests without a key from the same address, are served
    near = {"REMOTE_ADDR": "198.51.100.41"}
    ok = client.post(
        f"{ROOT}/requests.json",
        data={"api_key": site.tokens["dispatcher"], "service_code": "0601", **POINT},
        environ_overrides=near,
    )
    assert ok.status_code == 201
    assert client.get(f"{ROOT}/services.json", environ_overrides=far).status_code == 200
    for _ in range(6):  # good keys are never counted
        keyed = {"api_key": site.tokens["dispatcher"]}
        assert client.get(f"{ROOT}/requests.json", query_string=keyed, environ_overrides=near).status_code == 200  # fmt: skip


@pytest.mark.parametrize(
    "path", ["requests/%C2%B2.json", "tokens/%C2%B2.xml", "requests/99999999999999999999.json"]
)
def test_ids_that_cannot_be_are_404(site, path):
    resp = site.client().get(f"{ROOT}/{path}")
    assert resp.status_code == 404
