"""Dashboard server side without a browser: token access, annotations, targets, compare statistics."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient
from scipy import stats
from starlette.websockets import WebSocketDisconnect

from runform.live.hub import Hub
from runform.live.session import LiveSession
from runform.server.app import create_app
from runform.server.auth import token_for_host, url_with_token
from runform.server.routes_dashboard import compare_rows, welch, window


@pytest.mark.parametrize("host,loop", [("127.0.0.1", True), ("127.5.0.1", True), ("::1", True), ("[::1]", True), ("localhost", True),
                                       ("0.0.0.0", False), ("::", False), ("192.168.1.20", False), ("clinic-laptop", False)])
def test_only_loopback_hosts_go_without_a_token(host, loop):
    tok = token_for_host(host)
    assert (tok is None) == loop
    if tok:
        assert len(tok) >= 32 and token_for_host(host) != tok  # random per server
        assert url_with_token("http://h:1/", tok) == f"http://h:1/?token={tok}"


def test_every_request_needs_the_token_and_the_cookie_opens_the_static_files():
    app = create_app(LiveSession(Hub()), token="s3cret")
    c = TestClient(app)
    for path in ("/", "/static/live.js", "/static/review.js", "/api/status", "/api/strides", "/api/thresholds", "/review", "/docs", "/openapi.json"):
        r = c.get(path)
        assert r.status_code == 401, path
        assert "live.js" not in r.text
    assert c.post("/api/annotations", json={"text": "x"}).status_code == 401
    assert c.get("/", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert c.get("/?token=s3cret!").status_code == 401
    with pytest.raises(WebSocketDisconnect):
        with c.websocket_connect("/ws/live"):
            pass
    r = c.get("/?token=s3cret")
    assert r.status_code == 200 and "HttpOnly" in r.headers["set-cookie"]
    assert c.get("/static/live.js").status_code == 200  # the cookie from the page
    with c.websocket_connect("/ws/live") as ws:
        assert ws.receive_json()["type"] == "hello"
    assert TestClient(app).get("/api/status", headers={"Authorization": "Bearer s3cret"}).status_code == 200


def test_without_a_token_the_app_is_open():
    c = TestClient(create_app(LiveSession(Hub())))
    assert c.get("/api/status").status_code == 200 and c.get("/").status_code == 200


def test_annotation_goes_to_the_sink_and_to_viewers():
    seen = []
    c = TestClient(create_app(LiveSession(Hub()), annotation_sink=lambda t, text: seen.append((t, text))))
    with c.websocket_connect("/ws/live") as ws:
        ws.receive_json()  # hello
        r = c.post("/api/annotations", json={"text": "  insoles on  "})
        assert r.status_code == 200
        msg = ws.receive_json()
        while msg["type"] != "annotation":
            msg = ws.receive_json()
    assert msg["text"] == "insoles on" and seen == [(msg["time_s"], "insoles on")]
    assert c.get("/api/annotations").json()["annotations"][0]["text"] == "insoles on"
    assert c.post("/api/annotations", json={"text": ""}).status_code == 422
    assert c.post("/api/annotations", json={"text": "x" * 501}).status_code == 422
    assert TestClient(create_app(None)).post("/api/annotations", json={"text": "a"}).status_code == 409


def test_targets_are_checked_and_shared():
    c = TestClient(create_app(LiveSession(Hub())))
    assert c.put("/api/thresholds", json={"eversion_excursion_deg": {"max": 12}}).status_code == 200
    assert c.get("/api/thresholds").json()["thresholds"] == {"eversion_excursion_deg": {"max": 12.0}}
    assert c.put("/api/thresholds", json={"eversion_deg": {"max": 12}}).status_code == 422
    assert c.put("/api/thresholds", json={"peak_tibial_accel_g": {"above": 3}}).status_code == 422
    assert c.post("/api/recording", json={"action": "start"}).status_code == 501


def test_welch_interval_matches_scipy():
    rng = np.random.default_rng(3)
    a, b = rng.normal(10, 1.2, 40), rng.normal(8.5, 2.0, 25)
    w = welch(a, b)
    ref = stats.ttest_ind(b, a, equal_var=False)
    lo, hi = ref.confidence_interval(0.95)
    assert w["diff"] == pytest.approx(b.mean() - a.mean(), abs=1e-4)
    assert w["ci95"][0] == pytest.approx(lo, abs=1e-3) and w["ci95"][1] == pytest.approx(hi, abs=1e-3)
    assert w["df"] == pytest.approx(ref.df, abs=0.1)
    assert welch(a[:1], b)["ci95"] is None


def test_compare_uses_valid_strides_of_each_leg_in_the_window():
    rows = [{"leg": leg, "ic_time_s": t, "valid": v, "peak_eversion_deg": p}
            for t, leg, v, p in [(1, "left", 1, 10), (2, "left", 1, 12), (3, "left", 0, 99), (4, "right", 1, 5), (5, "left", 1, 20), (6, "left", 1, 22)]]
    res = compare_rows(window(rows, None, 4), window(rows, 4, None))
    assert res["peak_eversion_deg"]["left"]["mean_a"] == 11 and res["peak_eversion_deg"]["left"]["mean_b"] == 21
    assert res["peak_eversion_deg"]["left"]["diff"] == 10
    assert res["peak_eversion_deg"]["right"]["n_a"] == 0 and res["peak_eversion_deg"]["right"]["n_b"] == 1
