"""The insight dashboard, CSV, trends JSON, visitor hashes and alerts.

Through the ASGI client on SQLite and PostgreSQL; alerts go to an SMTP sink
and an HTTP server started on 127.0.0.1 in the test.
"""

from __future__ import annotations

import csv
import email
import email.policy
import io
import itertools
import json
import re
import socketserver
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select, text

from test_admin_support import logged_in_client
from veiviser.insight.charts import to_csv
from veiviser.insight.clock import oslo_day
from veiviser.service import Assistant
from veiviser.service.insight import InsightService, Period, alert_job
from veiviser.service.staff import Role
from veiviser.store.models import Conversation, utc_now
from veiviser.web import create_app
from veiviser.web.admin.insight import CHARTS, build_chart

pytest_plugins = ["test_store_support"]

API = "/api/v1"
VISITOR = "2f1c9a7e-5b7d-4c1e-9a55-0d3c2b1a9f00"
PERSONAL = ("12345678911", "ola.nordmann@example.no", "98765432", "1234.56.78903")


@pytest.fixture
def client(assistant: Assistant) -> Iterator[TestClient]:
    with TestClient(create_app(assistant.settings, assistant)) as test_client:
        yield test_client


def chat(client: TestClient, texts: list[str], visitor: str | None = VISITOR) -> str:
    headers = {"X-Visitor-Id": visitor} if visitor is not None else {}
    opened = client.post(f"{API}/conversations", headers=headers).json()
    auth = {"Authorization": f"Bearer {opened['token']}"}
    for message in texts:
        reply = client.post(
            f"{API}/conversations/{opened['id']}/messages",
            json={"text": message},
            headers=auth,
        )
        assert reply.status_code == 200, reply.text
    return opened["id"]


# --- Visitors ----------------------------------------------------------------


def test_visitor_id_is_stored_only_as_a_keyed_hash(client, assistant):
    first = chat(client, ["ferie"])
    second = chat(client, ["kontingent"])
    chat(client, ["ferie"], visitor=None)

    with assistant.sessions() as session:
        rows = {c.id: c.visitor_hash for c in session.scalars(select(Conversation))}
    assert rows[first] == rows[second]  # the same browser, recognised
    assert re.fullmatch(r"[0-9a-f]{64}", rows[first])
    assert VISITOR not in rows[first] and VISITOR.replace("-", "") not in rows[first]
    assert None in rows.values()  # no id sent, nothing stored


def test_rotating_the_secret_makes_old_visitors_unrecognisable(client, assistant):
    before = chat(client, ["ferie"])
    InsightService(assistant.sessions, assistant.settings).rotate_secret()
    after = chat(client, ["ferie"])

    with assistant.sessions() as session:
        hashes = [
            session.get(Conversation, cid).visitor_hash for cid in (before, after)
        ]
    assert hashes[0] != hashes[1]


@pytest.mark.parametrize(
    "visitor",
    [
        "",
        "kort",
        "x" * 5000,
        "<script>alert(1)</script>",
        "'; DROP TABLE message;--",
        "ø" * 20,
    ],
    ids=["empty", "short", "huge", "xss", "sql", "non-ascii"],
)
def test_malformed_visitor_ids_are_ignored_not_refused(client, assistant, visitor):
    response = client.post(
        f"{API}/conversations",
        headers={"X-Visitor-Id": visitor.encode("utf-8")},
    )

    assert response.status_code == 201
    with assistant.sessions() as session:
        stored = session.get(Conversation, response.json()["id"])
    assert stored.visitor_hash is None


def test_analytics_tables_hold_no_personal_data_or_identifiers(client, assistant):
    conversation = chat(client, [f"ferie {value}" for value in PERSONAL] + ["vær?"])
    service = InsightService(assistant.sessions, assistant.settings)
    service.refresh()

    with assistant.sessions() as session:
        secret_table = "insight_secret"
        names = [
            n
            for n in inspect(session.get_bind()).get_table_names()
            if n.startswith("insight_") and n != secret_table
        ]
        dumped = " ".join(
            str(tuple(row))
            for name in names
            for row in session.execute(text(f"SELECT * FROM {name}"))
        )
        visitor_hash = session.get(Conversation, conversation).visitor_hash
    assert "insight_day" in names and dumped
    for secret in (*PERSONAL, VISITOR, conversation, visitor_hash):
        assert secret not in dumped


# --- The dashboard -----------------------------------------------------------


def dashboard_client(assistant: Assistant, role: Role = Role.ANALYST) -> TestClient:
    return logged_in_client(assistant, role)


def test_dashboard_shows_figures_rates_with_definitions_and_charts(client, assistant):
    chat(client, ["ferie", "hva blir været i morgen", "kontingent"])
    staff = dashboard_client(assistant)

    page = staff.get("/admin/insight?range=7&by=day")

    assert page.status_code == 200
    html = page.text
    assert "Svarandel" in html and "Slik regnes det" in html
    assert "2 av 3" in html  # answer rate: two answers of three messages
    assert html.count('role="img"') == len(CHARTS)
    assert "<desc id=" in html and "<caption>" in html
    for name in CHARTS:
        assert f"/admin/insight/{name}.csv?range=7" in html


@pytest.mark.parametrize(
    "role", [Role.ADMINISTRATOR, Role.EDITOR, Role.TRAINER, Role.ANALYST]
)
def test_every_role_but_advisor_opens_the_dashboard(assistant, role):
    assert dashboard_client(assistant, role).get("/admin/insight").status_code == 200


def test_advisor_and_anonymous_are_kept_out(assistant, client):
    advisor = dashboard_client(assistant, Role.ADVISOR)
    assert advisor.get("/admin/insight").status_code == 403
    assert advisor.get("/admin/insight/trends.json").status_code == 403
    anonymous = client.get("/admin/insight/volume.csv", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/admin/login")


@pytest.mark.parametrize(
    "query",
    [
        "range=<script>alert(1)</script>",
        "range=1;DROP TABLE message",
        "by=år",
        "range=" + "9" * 5000,
    ],
    ids=["xss", "sql", "non-ascii", "huge"],
)
def test_hostile_period_gives_a_norwegian_form_error(assistant, query):
    page = dashboard_client(assistant).get(f"/admin/insight?{query}")

    assert page.status_code == 200
    assert "Perioden eller inndelingen finnes ikke" in page.text
    assert "<script>alert" not in page.text


def test_unknown_chart_is_a_json_404(assistant):
    response = dashboard_client(assistant).get("/admin/insight/passord.csv")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


# The handover charts need handovers (tests/test_insight_handovers.py) and
# the trend chart complete past weeks (test_trend_chart_... below).
@pytest.mark.parametrize(
    "name", [c for c in CHARTS if c not in ("handovers", "waits", "trend")]
)
def test_csv_download_equals_the_charts_data(client, assistant, name):
    chat(client, ["ferie", "kontingent", "ferie", "hva blir været"])
    staff = dashboard_client(assistant)
    page = staff.get("/admin/insight?range=7").text

    download = staff.get(f"/admin/insight/{name}.csv?range=7&by=day")

    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(download.text.lstrip("\ufeff"))))
    header, body = rows[0], rows[1:]
    svg = re.search(
        rf'<svg[^>]*aria-labelledby="chart-{name}-title.*?</svg>', page, re.S
    ).group(0)
    drawn = [
        (label, series, value)
        for label, series, value in re.findall(
            r'data-label="([^"]*)" data-series="([^"]*)" data-value="([^"]*)"', svg
        )
    ]
    drawn_columns = header[1:2] if name in ("intents", "groups") else header[1:]
    from_csv = [
        (row[0], column, row[1 + n])
        for row in body
        for n, column in enumerate(header[1:])
        if column in drawn_columns
    ]
    assert drawn == from_csv
    assert sum(float(v) for _, _, v in drawn) > 0


def test_chart_csv_escapes_formula_labels():
    from veiviser.insight.charts import Chart

    chart = Chart("x", "t", "d", "hbars", ("Tema", "Antall"), (("=HYPERLINK(1)", 3),))
    assert to_csv(chart).splitlines()[1] == "'=HYPERLINK(1),3"


def test_bar_chart_labels_never_overlap():
    from veiviser.insight.charts import Chart, svg

    rows = tuple((f"{day:02d}.11.2026", day) for day in range(1, 31))
    chart = Chart("x", "t", "d", "bars", ("Dag", "Antall"), rows)

    xs = [
        float(x)
        for x in re.findall(
            r'<text x="([\d.]+)" y="[\d.]+" font-size="11" text-anchor="middle"',
            svg(chart),
        )
    ]

    assert len(xs) >= 5  # still labelled, every few days
    gaps = [right - left for left, right in itertools.pairwise(xs)]
    assert min(gaps) >= len("01.11.2026") * 6.5


def test_build_chart_heatmap_has_seven_days_and_24_hours(assistant):
    service = InsightService(assistant.sessions, assistant.settings)
    period = Period.ending(oslo_day(utc_now()), "30", "day")
    chart = build_chart(service, period, "heatmap")
    assert len(chart.rows) == 7 and len(chart.columns) == 25


def test_trends_json_lists_every_active_intent(assistant):
    yesterday = datetime.now(UTC) - timedelta(days=1)
    opened = assistant.chat.start(now=yesterday)
    assistant.chat.send(opened.id, opened.token, "ferie", now=yesterday)
    body = dashboard_client(assistant).get("/admin/insight/trends.json").json()

    assert body["trends"], body
    trend = body["trends"][0]
    assert {
        "intent",
        "title",
        "flagged",
        "observed",
        "expected",
        "ratio",
        "series",
    } <= set(trend)
    assert len(trend["series"]) == 63


# --- Alerts to servers started here --------------------------------------------


class SmtpSink(socketserver.StreamRequestHandler):
    """Just enough SMTP to accept one message and keep it."""

    received: ClassVar[list[bytes]] = []

    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        self.reply("220 sink")
        while line := self.rfile.readline():
            command = line.decode().strip().upper()
            if command.startswith(("EHLO", "HELO")):
                self.reply("250 sink")
            elif command == "DATA":
                self.reply("354 go on")
                data = b""
                while (chunk := self.rfile.readline()) != b".\r\n":
                    data += chunk
                SmtpSink.received.append(data)
                self.reply("250 kept")
            elif command == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")


class HookSink(BaseHTTPRequestHandler):
    received: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        HookSink.received.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def sinks() -> Iterator[tuple[int, int]]:
    SmtpSink.received, HookSink.received = [], []
    smtp = socketserver.ThreadingTCPServer(("127.0.0.1", 0), SmtpSink)
    hook = HTTPServer(("127.0.0.1", 0), HookSink)
    for server in (smtp, hook):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    yield smtp.server_address[1], hook.server_address[1]
    for server in (smtp, hook):
        server.shutdown()
        server.server_close()


def plant_spike(assistant: Assistant, now: datetime) -> None:
    """Nine quiet weeks of 'ferie' and 'kontingent', then a week of many 'ferie'."""
    service = InsightService(assistant.sessions, assistant.settings)
    chat_service = assistant.chat
    today = oslo_day(now)
    for back in range(63, 0, -1):
        day = today - timedelta(days=back)
        moment = datetime(day.year, day.month, day.day, 10, tzinfo=UTC)
        asks = ["kontingent"] * 2 + ["ferie"] * (8 if back <= 7 else 2)
        opened = chat_service.start(now=moment)
        for n, question in enumerate(asks):
            chat_service.send(
                opened.id, opened.token, question, now=moment + timedelta(minutes=n)
            )
    service.recompute([today - timedelta(days=n) for n in range(64)], now)


def test_planted_spike_alert_goes_to_smtp_and_webhook_once(assistant, sinks):
    smtp_port, hook_port = sinks
    now = datetime.now(UTC)
    plant_spike(assistant, now)
    settings = assistant.settings.__class__(
        **{
            **vars(assistant.settings),
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_port,
            "smtp_from": "veiviser@testforbundet.example",
            "insight_alert_emails": ("leder@testforbundet.example",),
            "insight_alert_webhook": f"http://127.0.0.1:{hook_port}/hook",
        }
    )
    service = InsightService(assistant.sessions, settings)

    sent = service.send_alerts(now)
    again = service.send_alerts(now)

    assert sent == ["ferie"] and again == []
    assert len(SmtpSink.received) == 1 and len(HookSink.received) == 1
    mail = email.message_from_bytes(SmtpSink.received[0], policy=email.policy.default)
    assert mail["To"] == "leder@testforbundet.example"
    assert "Ferie og feriepenger" in mail["Subject"]
    assert "Uvanlig mange spørsmål om Ferie og feriepenger" in mail.get_content()
    flag = HookSink.received[0]["flags"][0]
    assert flag["intent"] == "ferie"
    assert flag["message"].startswith("Uvanlig mange spørsmål om Ferie og feriepenger")
    assert 3.0 < flag["ratio"] < 5.0


def test_alerts_are_off_by_default(assistant):
    service = InsightService(assistant.sessions, assistant.settings)
    assert not service.channels().enabled
    assert service.send_alerts() == []


def test_serve_sends_the_alerts_from_a_daily_job(assistant, sinks):
    _, hook_port = sinks
    plant_spike(assistant, datetime.now(UTC))
    settings = assistant.settings.__class__(
        **{
            **vars(assistant.settings),
            "insight_alert_webhook": f"http://127.0.0.1:{hook_port}/hook",
        }
    )
    assert alert_job(assistant.sessions, assistant.settings) is None  # no channel

    job = alert_job(assistant.sessions, settings, first_after=timedelta(seconds=0.01))
    assert job is not None
    job.start()
    try:
        for _ in range(600):  # the job's first run, then nothing more
            if HookSink.received:
                break
            threading.Event().wait(0.1)
    finally:
        job.stop()

    assert [flag["intent"] for flag in HookSink.received[0]["flags"]] == ["ferie"]
    assert len(HookSink.received) == 1


def drawn_and_csv(staff: TestClient, page: str, name: str) -> tuple[list, list]:
    """(series values drawn in the chart's SVG, the same read from its CSV)."""
    download = staff.get(f"/admin/insight/{name}.csv?range=30")
    rows = list(csv.reader(io.StringIO(download.text.lstrip("\ufeff"))))
    header, body = rows[0], rows[1:]
    svg = re.search(
        rf'<svg[^>]*aria-labelledby="chart-{name}-title.*?</svg>', page, re.S
    ).group(0)
    drawn = re.findall(
        r'data-label="([^"]*)" data-series="([^"]*)" data-value="([^"]*)"', svg
    )
    from_csv = [
        (row[0], column, row[1 + n])
        for row in body
        for n, column in enumerate(header[1:])
    ]
    return drawn, from_csv


def test_trend_chart_shows_the_spiking_intent_week_by_week(assistant):
    plant_spike(assistant, datetime.now(UTC))
    staff = dashboard_client(assistant)
    page = staff.get("/admin/insight?range=30").text

    drawn, from_csv = drawn_and_csv(staff, page, "trend")

    assert drawn == from_csv
    weeks = [label for label, series, _ in from_csv if series == "Ferie og feriepenger"]
    ferie = [int(v) for _, series, v in from_csv if series == "Ferie og feriepenger"]
    assert len(weeks) == 9
    # plant_spike: 2 a day for eight weeks, then 8 a day in the tested week.
    assert ferie == [14] * 8 + [56]
    assert "Utviklingen for temaene som endrer seg mest" in page


def test_trend_chart_without_traffic_is_empty_not_an_error(assistant):
    staff = dashboard_client(assistant)
    response = staff.get("/admin/insight/trend.csv")
    assert response.status_code == 200
    assert response.text.lstrip("\ufeff").splitlines() == ["Uke"]


def test_dashboard_flags_the_planted_spike(assistant):
    plant_spike(assistant, datetime.now(UTC))
    page = dashboard_client(assistant).get("/admin/insight").text
    assert "Uvanlig mange spørsmål om Ferie og feriepenger denne uka" in page
    assert "Flagget" in page
