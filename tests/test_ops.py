"""Operations: health and readiness, metrics, request ids, JSON logs, rate limits."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from servers import veiviser_server
from test_store_support import open_assistant, settings_for, write_kb
from veiviser.logs import JsonFormatter, RequestIdFilter
from veiviser.service import Assistant
from veiviser.settings import SettingsError
from veiviser.web import create_app
from veiviser.web.ratelimit import FixedWindow, client_address, parse_networks

pytest_plugins = ["test_store_support"]

API = "/api/v1"


@pytest.fixture
def ready(database_url: str, tmp_path: Path) -> Iterator[Assistant]:
    assistant = open_assistant(settings_for(database_url, write_kb(tmp_path)))
    yield assistant
    assistant.close()


@pytest.fixture
def client(ready: Assistant) -> Iterator[TestClient]:
    with TestClient(create_app(ready.settings, ready)) as test_client:
        yield test_client


def open_conversation(client: TestClient, **headers: str) -> dict:
    response = client.post(f"{API}/conversations", headers=headers)
    assert response.status_code == 201, response.text
    data = response.json()
    data["auth"] = {"Authorization": f"Bearer {data['token']}"}
    return data


def metric(text: str, name: str) -> float:
    """The value of one sample line ``name{labels} value`` in the text format."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


# --- Health and readiness --------------------------------------------------------


def test_healthz_answers_while_the_process_runs(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_names_the_model_when_database_and_model_are_there(client, ready):
    response = client.get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"] == {"database": True, "model": True}
    assert body["model_version"] == ready.models.require().model_version_id


def test_readyz_is_503_in_the_error_shape_without_a_model(client, ready):
    ready.watcher.stop()  # it would load the stored model again at once
    ready.models.current = None

    response = client.get("/readyz")

    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "not_ready"
    assert error["details"]["checks"] == {"database": True, "model": False}
    assert error["message"]


def test_readyz_is_503_when_the_database_cannot_be_reached(sqlite_url, tmp_path):
    assistant = open_assistant(settings_for(sqlite_url, write_kb(tmp_path)))
    try:
        with TestClient(create_app(assistant.settings, assistant)) as client:
            assistant.engine.dispose()
            (tmp_path / "var").rename(tmp_path / "moved")
            (tmp_path / "var").write_text("not a folder")

            response = client.get("/readyz")
    finally:
        assistant.close()

    assert response.status_code == 503
    assert response.json()["error"]["details"]["checks"]["database"] is False


def test_operations_endpoints_stay_out_of_the_public_api_schema(client):
    paths = client.get("/openapi.json").json()["paths"]

    assert not {"/healthz", "/readyz", "/metrics"} & set(paths)


# --- Metrics ----------------------------------------------------------------------


def test_metrics_count_replies_by_outcome_and_time_them_by_route(client, ready):
    conversation = open_conversation(client)
    url = f"{API}/conversations/{conversation['id']}/messages"
    before = metric(
        client.get("/metrics").text, 'veiviser_messages_total{outcome="answer"}'
    )

    answered = client.post(url, json={"text": "hvor mange feriedager har jeg?"},
                           headers=conversation["auth"])  # fmt: skip
    scraped = client.get("/metrics")

    assert answered.json()["outcome"] == "answer"
    assert scraped.headers["content-type"].startswith("text/plain")
    text = scraped.text
    assert metric(text, 'veiviser_messages_total{outcome="answer"}') == before + 1
    route = "/api/v1/conversations/{conversation_id}/messages"
    bucket = f'{{le="0.1",method="POST",route="{route}"}}'
    assert f"veiviser_http_request_duration_seconds_bucket{bucket}" in text
    assert conversation["id"] not in text  # ids never become labels
    model = ready.models.require().model_version_id
    assert metric(text, "veiviser_model_version") == model
    assert metric(text, 'veiviser_handover_queue{status="queued"}') == 0
    assert "veiviser_http_requests_in_progress" in text


def test_unknown_paths_share_one_metrics_label(client):
    client.get("/no/such/page/123")
    client.get("/another/unknown")

    text = client.get("/metrics").text

    assert "/no/such/page" not in text
    assert 'route="unmatched"' in text


# --- Request ids and logs ------------------------------------------------------


def test_every_response_carries_a_request_id_and_a_proxy_id_is_kept(client):
    own = client.get("/healthz").headers["x-request-id"]
    given = client.get("/healthz", headers={"X-Request-ID": "proxy-1234abcd"})
    hostile = client.get("/healthz", headers={"X-Request-ID": "<script>\nx"})

    assert len(own) == 16
    assert given.headers["x-request-id"] == "proxy-1234abcd"
    assert hostile.headers["x-request-id"] != "<script>\nx"
    assert len(hostile.headers["x-request-id"]) == 16


def test_json_log_lines_carry_the_request_id_and_never_the_member_text(client, caplog):
    formatter = JsonFormatter()
    caplog.handler.addFilter(RequestIdFilter())
    conversation = open_conversation(client)
    secret = "hemmelig spørsmål om ferie fra Kari"

    with caplog.at_level(logging.DEBUG, logger="veiviser.web"):
        caplog.set_level(logging.INFO, logger="veiviser.service")
        response = client.post(
            f"{API}/conversations/{conversation['id']}/messages",
            json={"text": secret},
            headers=conversation["auth"],
        )

    lines = [json.loads(formatter.format(record)) for record in caplog.records]
    request_id = response.headers["x-request-id"]
    ours = [line for line in lines if line["request_id"] == request_id]
    assert {line["logger"] for line in ours} >= {
        "veiviser.web.requests",
        "veiviser.service.chat",
    }
    request_line = next(x for x in ours if x["logger"] == "veiviser.web.requests")
    assert request_line["status"] == 200
    assert request_line["route"] == "/api/v1/conversations/{conversation_id}/messages"
    every_line = json.dumps(lines, ensure_ascii=False)
    assert secret not in every_line
    assert "Kari" not in every_line
    assert conversation["id"] not in json.dumps(request_line)


def test_json_log_gives_an_exception_by_type_and_place_not_its_message():
    try:
        raise ValueError("personnummer 01019012345 i en feilmelding")
    except ValueError:
        record = logging.LogRecord(
            "veiviser.x", logging.ERROR, __file__, 1, "failed", None, None
        )
        import sys

        record.exc_info = sys.exc_info()

    line = json.loads(JsonFormatter().format(record))

    assert line["error"] == "ValueError"
    assert "01019012345" not in json.dumps(line)
    assert line["level"] == "error" and line["message"] == "failed"


# --- Rate limits ---------------------------------------------------------------


@pytest.fixture
def limited(ready: Assistant) -> Iterator[TestClient]:
    settings = ready.settings.__class__(
        **{**vars(ready.settings), "rate_limit_per_minute": 3}
    )
    with TestClient(create_app(settings, ready)) as test_client:
        yield test_client


def test_a_client_over_the_limit_gets_429_with_retry_after(limited):
    statuses = [limited.post(f"{API}/conversations").status_code for _ in range(4)]

    refused = limited.post(f"{API}/conversations")

    assert statuses == [201, 201, 201, 429]
    assert refused.status_code == 429
    retry_after = int(refused.headers["retry-after"])
    assert 1 <= retry_after <= 60
    error = refused.json()["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == "rate_limited"
    assert error["details"]["retry_after_seconds"] == retry_after
    assert str(retry_after) in error["message"]
    assert "x-request-id" in refused.headers


def test_pages_and_probes_are_not_rate_limited(limited):
    for _ in range(5):
        limited.post(f"{API}/conversations")

    assert limited.get("/healthz").status_code == 200
    assert limited.get("/readyz").status_code == 200
    assert limited.get("/").status_code == 200


def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(limited):
    # Without a trusted proxy, choosing a new X-Forwarded-For does not help.
    for n in range(4):
        last = limited.post(
            f"{API}/conversations", headers={"X-Forwarded-For": f"10.0.0.{n}"}
        )

    assert last.status_code == 429


def test_a_real_server_ignores_forwarded_for_without_a_trusted_proxy(tmp_path):
    # uvicorn believes X-Forwarded-For from 127.0.0.1 unless told not to, and
    # would hand the rate limit a new address for every request.
    env = {"VEIVISER_RATE_LIMIT_PER_MINUTE": "2", "VEIVISER_TRUSTED_PROXIES": ""}
    with veiviser_server(tmp_path, kb=write_kb(tmp_path), env=env) as server:
        statuses = [
            httpx.post(
                f"{server.url}{API}/conversations",
                headers={"X-Forwarded-For": f"203.0.113.{n}"},
                timeout=10,
            ).status_code
            for n in range(3)
        ]

    assert statuses == [201, 201, 429]


@pytest.mark.parametrize(
    ("trusted", "peer", "secure"),
    [
        pytest.param(("127.0.0.1",), "127.0.0.1", True, id="trusted-proxy"),
        pytest.param((), "127.0.0.1", False, id="no-trusted-proxy"),
        pytest.param(("127.0.0.1",), "198.51.100.5", False, id="other-peer"),
    ],
)
def test_forwarded_https_makes_cookies_secure_only_from_a_trusted_proxy(
    ready, trusted, peer, secure
):
    settings = replace(ready.settings, trusted_proxies=trusted)
    client = TestClient(create_app(settings, ready), client=(peer, 40000))

    response = client.get("/admin/login", headers={"X-Forwarded-Proto": "https"})

    cookie = response.headers["set-cookie"]
    assert ("Secure" in cookie) is secure


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_count():
    trusted = parse_networks(["127.0.0.1", "10.0.0.0/8"])

    def scope(peer: str, forwarded: str | None) -> dict:
        headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
        return {"client": (peer, 5000), "headers": headers}

    assert client_address(scope("127.0.0.1", "203.0.113.7"), trusted) == "203.0.113.7"
    # A client cannot hide behind an address it writes itself.
    assert (
        client_address(scope("127.0.0.1", "1.2.3.4, 203.0.113.7, 10.1.1.1"), trusted)
        == "203.0.113.7"
    )
    assert client_address(scope("198.51.100.5", "203.0.113.7"), trusted) == (
        "198.51.100.5"
    )
    assert client_address(scope("127.0.0.1", None), trusted) == "127.0.0.1"


def test_fixed_window_starts_counting_again_in_the_next_minute():
    now = [120.0]
    window = FixedWindow(2, clock=lambda: now[0])

    results = [window.hit("a"), window.hit("a"), window.hit("a"), window.hit("b")]
    now[0] = 180.5
    after = window.hit("a")

    assert results[:2] == [None, None]
    assert results[2] == pytest.approx(60.0)
    assert results[3] is None
    assert after is None


def test_a_trusted_proxy_setting_that_is_not_an_address_is_refused(ready):
    settings = ready.settings.__class__(
        **{**vars(ready.settings), "trusted_proxies": ("nginx.local",)}
    )

    with pytest.raises(SettingsError, match="VEIVISER_TRUSTED_PROXIES"):
        create_app(settings, ready)
