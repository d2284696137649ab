"""``edgecall doctor`` checks for HQ and Twilio: against the reference receiver on 127.0.0.1
(plain, HTTPS with a self-signed certificate made here with openssl, clock 2 days off) and a
Twilio Sync stand-in enforcing Basic auth; plus the pure verdicts."""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from edge.config import Config
from edge.doctor import CheckResult
from sync import doctor
from sync.config import HQ, TWILIO
from sync.doctor import (
    FAIL_SKEW_S,
    Reply,
    TlsOutcome,
    doctor_checks,
    hq_epoch,
    judge_dns,
    judge_probe,
    judge_skew,
    judge_tls,
    probe_headers,
    resolve,
)
from sync.hq import DevServer, HqSettings, Storage, make_app, open_storage
from tests.support import TwilioSyncStandIn

SECRET = "box-1-secret-for-tests"
BOX = "box-1"
SERVICE = "IS" + "a" * 32
KEY_SID = "SK" + "b" * 32
KEY_SECRET = "twilio-key-secret"
TWO_DAYS = 2 * 86400.0


def make_config(hq: dict[str, Any] | None = None, twilio: dict[str, Any] | None = None,
                **secrets: str) -> Config:
    sections: dict[str, dict[str, Any]] = {"box": {"id": BOX}}
    for section, raw in ((HQ, hq), (TWILIO, twilio)):
        if raw is not None:
            values, problems = section.parse(raw)
            assert problems == [], problems
            sections[section.name] = values
    return Config(None, sections, secrets)


def run(config: Config) -> dict[str, CheckResult]:
    results = list(doctor_checks(config))
    assert all(isinstance(r, CheckResult) for r in results)
    assert all(r.fix for r in results if r.status != "ok"), results  # every problem says what
    return {r.name: r for r in results}


def http_hq(url: str, **extra: Any) -> dict[str, Any]:
    return {"url": url + "/v1/batches", "allow_http": True, **extra}


# --- real peers -------------------------------------------------------------------------------

@dataclass
class Hq:
    server: DevServer
    storage: Storage
    settings: HqSettings

    @property
    def url(self) -> str:
        return self.server.url

    def stop(self) -> None:
        self.server.stop()
        self.storage.close()


def start_hq(tmp_path: Path, *, skew_s: float = 0.0, surveys: Path | None = None,
             tls: ssl.SSLContext | None = None) -> Hq:
    storage = open_storage(tmp_path / f"hq-{time.monotonic_ns()}.db")
    storage.add_box(BOX, SECRET, "2000-01-01T00:00:00.000Z")
    settings = HqSettings(surveys_dir=surveys, wall=lambda: time.time() + skew_s)
    app = make_app(storage, settings)
    if skew_s:
        inner = app

        def app(environ: dict[str, Any], start_response: Any) -> Any:  # type: ignore[no-redef]
            # The Date header follows the receiver's (wrong) clock too, as on a real host.
            def start(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
                headers = [h for h in headers if h[0].lower() != "date"]
                headers.append(("Date", formatdate(time.time() + skew_s, usegmt=True)))
                return start_response(status, headers, *rest)

            return inner(environ, start)

    server = DevServer(app)
    if tls is not None:
        server.httpd.socket = tls.wrap_socket(server.httpd.socket, server_side=True)
    return Hq(server.start(), storage, settings)


@pytest.fixture
def hq_factory(tmp_path: Path) -> Iterator[Any]:
    servers: list[Hq] = []

    def factory(**kwargs: Any) -> Hq:
        server = start_hq(tmp_path, **kwargs)
        servers.append(server)
        return server

    yield factory
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (openssl is required: fails without it)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.fail("openssl is required for the TLS tests (apt-get install openssl)")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "2", "-subj", "/CN=edgecall test HQ",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=30)
    return cert, key


def tls_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return context


def https_url(server: Hq) -> str:
    return f"https://{server.server.host}:{server.server.port}"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- HQ: auth ---------------------------------------------------------------------------------

def test_right_secret_is_accepted_and_nothing_is_stored(hq_factory):
    hq = hq_factory()
    results = run(make_config(http_hq(hq.url), hq_secret=SECRET))
    assert results["hq dns"].status == "ok"
    assert "127.0.0.1 is an IP address" in results["hq dns"].message
    assert results["hq tls"].status == "warn"  # plain http://
    assert "https://" in results["hq tls"].fix
    auth = results["hq auth"]
    assert (auth.status, auth.facts["via"], auth.facts["http"]) == ("ok", "probe", 400)
    assert results["hq clock"].status == "ok"
    assert abs(results["hq clock"].facts["skew_s"]) < 5
    # the probe passed box and signature, was refused as malformed, and stored nothing
    assert hq.settings.stats == {"malformed": 1}
    assert hq.storage.count() == 0


def test_wrong_secret_fails(hq_factory):
    hq = hq_factory()
    results = run(make_config(http_hq(hq.url), hq_secret="not-the-secret-hq-holds"))
    auth = results["hq auth"]
    assert auth.status == "fail"
    assert "bad-signature" in auth.message
    assert "wrong hq_secret or box id" in auth.fix
    assert hq.settings.stats == {"bad-signature": 1}
    assert results["hq clock"].status == "ok"  # HQ still answered, with its Date


def test_unknown_box_fails(hq_factory):
    hq = hq_factory()
    config = make_config(http_hq(hq.url), hq_secret=SECRET)
    config.sections["box"]["id"] = "box-9"
    auth = run(config)["hq auth"]
    assert auth.status == "fail"
    assert "does not know box 'box-9'" in auth.message
    assert "wrong hq_secret or box id" in auth.fix


def test_missing_secret_fails(hq_factory):
    hq = hq_factory()
    auth = run(make_config(http_hq(hq.url)))["hq auth"]
    assert auth.status == "fail"
    assert "hq_secret" in auth.fix
    # nothing was POSTed (the unsigned manifest request was refused for its headers)
    assert hq.settings.stats == {"bad-header": 1}


@pytest.mark.parametrize(("box_secret", "status"),
                         [(SECRET, "ok"), ("wrong-secret-0123456", "fail")])
def test_signed_manifest_proves_the_secret_without_a_post(hq_factory, tmp_path, box_secret,
                                                          status):
    packs = tmp_path / "packs"
    packs.mkdir()
    (packs / "current.json").write_text(json.dumps({"id": "demo", "version": "1"}))
    hq = hq_factory(surveys=packs)
    auth = run(make_config(http_hq(hq.url), hq_secret=box_secret))["hq auth"]
    assert (auth.status, auth.facts["via"]) == (status, "manifest")
    if status == "fail":
        assert "wrong hq_secret or box id" in auth.fix
    # the manifest answered (or refused the signature of its request): no probe POST
    assert hq.settings.stats == ({} if status == "ok" else {"bad-signature": 1})


def test_nothing_listening(hq_factory):
    url = f"http://127.0.0.1:{closed_port()}"
    auth = run(make_config(http_hq(url), hq_secret=SECRET))["hq auth"]
    assert auth.status == "fail"
    assert "refused" in auth.message
    assert "HQ is down" in auth.fix


# --- HQ: TLS ------------------------------------------------------------------------------------

def test_self_signed_certificate_fails_tls(hq_factory, certificate):
    hq = hq_factory(tls=tls_context(certificate))
    results = run(make_config({"url": https_url(hq) + "/v1/batches"}, hq_secret=SECRET))
    tls = results["hq tls"]
    assert tls.status == "fail"
    assert tls.facts["verify_code"] == 18  # X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT
    assert "self-signed" in tls.message
    assert "ca_file" in tls.fix
    assert "hq auth" not in results  # it would fail for the same reason
    assert hq.settings.stats == {}


def test_ca_file_makes_the_certificate_trusted(hq_factory, certificate):
    hq = hq_factory(tls=tls_context(certificate))
    hq_section = {"url": https_url(hq) + "/v1/batches", "ca_file": str(certificate[0])}
    results = run(make_config(hq_section, hq_secret=SECRET))
    tls = results["hq tls"]
    assert tls.status == "ok", tls
    assert str(certificate[0]) in tls.message
    assert results["hq auth"].status == "ok"  # the requests went over verified TLS as well
    assert results["hq clock"].status == "ok"
    assert hq.settings.stats == {"malformed": 1}


def test_tls_not_verified_is_a_warning(hq_factory, certificate):
    hq = hq_factory(tls=tls_context(certificate))
    results = run(make_config({"url": https_url(hq) + "/v1/batches", "verify_tls": False},
                              hq_secret=SECRET))
    assert results["hq tls"].status == "warn"
    assert "verify_tls = true" in results["hq tls"].fix
    assert results["hq auth"].status == "ok"


def test_unreadable_ca_file_fails(hq_factory, certificate, tmp_path):
    hq = hq_factory(tls=tls_context(certificate))
    results = run(make_config({"url": https_url(hq) + "/v1/batches",
                               "ca_file": str(tmp_path / "nope.pem")}, hq_secret=SECRET))
    assert results["hq tls"].status == "fail"
    assert "ca_file" in results["hq tls"].message


def test_https_to_a_plain_http_port_fails_the_handshake(hq_factory):
    hq = hq_factory()
    url = hq.url.replace("http://", "https://")
    tls = run(make_config({"url": url + "/v1/batches"}, hq_secret=SECRET))["hq tls"]
    assert tls.status == "fail"
    assert "handshake" in tls.message


# --- HQ: clock ----------------------------------------------------------------------------------

def test_hq_two_days_off_fails_the_clock_but_auth_passes(hq_factory):
    hq = hq_factory(skew_s=TWO_DAYS)
    results = run(make_config(http_hq(hq.url), hq_secret=SECRET))
    clock = results["hq clock"]
    assert clock.status == "fail"
    assert abs(clock.facts["skew_s"] - TWO_DAYS) < 5
    assert "2.0 days behind" in clock.message
    assert "NTP" in clock.fix
    # stale-timestamp comes after the signature check: the secret is right
    assert results["hq auth"].status == "ok"
    # the signed manifest request and the probe, both refused as stale only
    assert hq.settings.stats == {"stale-timestamp": 2}


class _DateOnly(BaseHTTPRequestHandler):
    """Answers everything 404 with a Date header from a clock ``skew`` seconds off."""

    skew = 0.0

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b'{"error":"not-found"}'
        self.send_response_only(404)
        self.send_header("Date", formatdate(time.time() + self.skew, usegmt=True))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer


@pytest.mark.parametrize(("skew", "status"), [(-TWO_DAYS, "fail"), (-900.0, "warn"),
                                              (20.0, "ok")])
def test_clock_from_the_date_header(skew, status):
    handler = type("Handler", (_DateOnly,), {"skew": skew})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        results = run(make_config(http_hq(url), hq_secret=SECRET))
    finally:
        server.shutdown()
        server.server_close()
    clock = results["hq clock"]
    assert clock.status == status
    assert abs(clock.facts["skew_s"] - skew) < 3
    if status != "ok":
        assert "ahead of HQ's" in clock.message
    assert results["hq auth"].status == "fail"  # nothing receives batches there
    assert "/v1/batches" in results["hq auth"].fix


# --- Twilio -----------------------------------------------------------------------------------

@pytest.fixture
def twilio() -> Iterator[TwilioSyncStandIn]:
    server = TwilioSyncStandIn(SERVICE, KEY_SID, KEY_SECRET, maps=["edgecall-0", "edgecall-1"])
    yield server
    server.shutdown()
    server.server_close()


def twilio_section(server: TwilioSyncStandIn, **extra: Any) -> dict[str, Any]:
    return {"service_sid": SERVICE, "api_key_sid": KEY_SID,
            "base_url": f"http://127.0.0.1:{server.server_address[1]}",
            "maps": ["edgecall-0", "edgecall-1"], **extra}


def test_twilio_right_credentials(twilio):
    results = run(make_config(twilio=twilio_section(twilio), twilio_api_key_secret=KEY_SECRET))
    assert results["twilio"].status == "ok"
    assert SERVICE in results["twilio"].message
    assert results["twilio maps"].status == "ok"
    assert sorted(twilio.paths) == sorted([f"/v1/Services/{SERVICE}",
                                           f"/v1/Services/{SERVICE}/Maps/edgecall-0",
                                           f"/v1/Services/{SERVICE}/Maps/edgecall-1"])
    assert "hq dns" not in results  # no [hq]: no HQ checks


def test_twilio_wrong_credentials(twilio):
    results = run(make_config(twilio=twilio_section(twilio), twilio_api_key_secret="nope"))
    check = results["twilio"]
    assert (check.status, check.facts["http"]) == ("fail", 401)
    assert "wrong api_key_sid or twilio_api_key_secret" in check.fix
    assert "twilio maps" not in results


def test_twilio_missing_map(twilio):
    section = twilio_section(twilio, maps=["edgecall-0", "edgecall-7", "edgecall-1"])
    results = run(make_config(twilio=section, twilio_api_key_secret=KEY_SECRET))
    maps = results["twilio maps"]
    assert maps.status == "fail"
    assert maps.facts["missing"] == ["edgecall-7"]
    assert "edgecall-7" in maps.message
    assert "edgecall-0" not in maps.message


def test_twilio_wrong_service(twilio):
    section = twilio_section(twilio, service_sid="IS" + "c" * 32)
    check = run(make_config(twilio=section, twilio_api_key_secret=KEY_SECRET))["twilio"]
    assert (check.status, check.facts["http"]) == ("fail", 404)
    assert "service_sid" in check.fix


def test_twilio_without_secret_and_unreachable(twilio):
    check = run(make_config(twilio=twilio_section(twilio)))["twilio"]
    assert check.status == "fail"
    assert "twilio_api_key_secret" in check.fix
    assert twilio.paths == []
    section = {**twilio_section(twilio), "base_url": f"http://127.0.0.1:{closed_port()}"}
    check = run(make_config(twilio=section, twilio_api_key_secret=KEY_SECRET))["twilio"]
    assert check.status in ("fail", "warn")  # warn only when the box has no default route
    assert "refused" in check.message or "offline" in check.message


def test_no_sync_sections_no_checks():
    assert list(doctor_checks(make_config())) == []


# --- pure parts -------------------------------------------------------------------------------

def test_online_reads_both_route_tables(monkeypatch):
    # The parsing is edge.net's (tests/edge/test_net.py); here: an IPv6-only link is online,
    # and unreadable tables are "no telling" (None), not offline.
    lan = "Iface\tDestination\tGateway\tFlags\nwwan0\t0000A8C0\t00000000\t0001\n"
    v6_default = ("0" * 32 + " 00 " + "0" * 32 + " 00 " + "fe80" + "0" * 28
                  + " 00000400 00000001 00000000 00000003 wwan0\n")
    monkeypatch.setattr(doctor, "read_route_tables", lambda: (lan, v6_default))
    assert doctor.online() is True
    monkeypatch.setattr(doctor, "read_route_tables", lambda: (lan, ""))
    assert doctor.online() is False
    monkeypatch.setattr(doctor, "read_route_tables", lambda: None)
    assert doctor.online() is None


def test_dns_verdicts():
    assert judge_dns("hq.example.org", ["192.0.2.1"], None, None).status == "ok"
    offline = judge_dns("hq.example.org", None, (socket.EAI_AGAIN, "try again"), False)
    assert offline.status == "warn" and "offline" in offline.message and "ip route" in offline.fix
    nodns = judge_dns("hq.example.org", None, (socket.EAI_AGAIN, "try again"), True)
    assert nodns.status == "fail" and nodns.message.startswith("no DNS: is the link up?")
    unknown = judge_dns("hq.exmaple.org", None, (socket.EAI_NONAME, "Name unknown"), True)
    assert unknown.status == "fail" and "does not exist" in unknown.message
    assert "[hq] url" in unknown.fix


def test_resolve_localhost():
    addresses, error = resolve("localhost", 80)
    assert error is None and addresses
    assert any(a in ("127.0.0.1", "::1") for a in addresses)


HQ_SECTION = HQ.parse({"url": "https://hq.example.org/v1/batches"})[0]


@pytest.mark.parametrize(("code", "words", "fix"), [
    (9, "not yet valid", "box clock"),
    (10, "expired", "renew"),
    (62, "not for hq.example.org", "host name"),
    (20, "unknown CA", "ca_file"),
])
def test_tls_verdicts(code, words, fix):
    verdict = judge_tls("https://hq.example.org/v1/batches", HQ_SECTION,
                        TlsOutcome(verify_code=code, detail="x"), "2026-01-01 00:00 UTC")
    assert verdict.status == "fail"
    assert words in verdict.message
    assert fix in verdict.fix


def test_tls_ok_and_plain_http():
    good = judge_tls("https://hq.example.org/v1/batches", HQ_SECTION,
                     TlsOutcome(version="TLSv1.3"), "now")
    assert good.status == "ok" and "TLSv1.3" in good.message
    plain = judge_tls("http://10.0.0.1/v1/batches", HQ_SECTION, None, "now")
    assert plain.status == "warn"


def _reply(status: int, doc: dict[str, Any] | None = None, **headers: str) -> Reply:
    return Reply(status, headers, json.dumps(doc or {}).encode(), 1_800_000_000.0)


@pytest.mark.parametrize(("reply", "status"), [
    (_reply(400, {"error": "malformed"}), "ok"),
    (_reply(401, {"error": "stale-timestamp", "server_ms": 1}), "ok"),
    (_reply(401, {"error": "bad-signature"}), "fail"),
    (_reply(401, {"error": "unknown-box"}), "fail"),
    (_reply(403, {}), "fail"),
    (_reply(404, {}), "fail"),
    (_reply(200, {}), "warn"),  # a captive portal's page is not an acceptance
    (_reply(503, {}), "warn"),
    (_reply(500, {}), "fail"),
    ("connection refused", "fail"),
])
def test_probe_verdicts(reply, status):
    assert judge_probe(reply, BOX, "https://hq/v1/batches").status == status


def test_probe_is_signed_over_an_empty_body():
    from sync._signing import verify

    headers = probe_headers(BOX, SECRET.encode(), 1_800_000_000.5)
    assert headers["X-Edgecall-Timestamp"] == "1800000000500"
    assert verify(SECRET.encode(), headers["X-Edgecall-Timestamp"], b"",
                  headers["X-Edgecall-Signature"])
    assert headers["X-Edgecall-Batch"].startswith(f"{BOX}.doctor.")


def test_hq_epoch_prefers_server_ms_then_date():
    date = formatdate(1_800_000_100.0, usegmt=True)
    assert hq_epoch(_reply(404, {}, Date=date)) == 1_800_000_100.0
    assert hq_epoch(_reply(401, {"error": "stale-timestamp", "server_ms": 1_800_000_000_250},
                           Date=date)) == 1_800_000_000.25
    assert hq_epoch(_reply(404, {})) is None


def test_skew_thresholds():
    assert judge_skew(299).status == "ok"
    assert judge_skew(-301).status == "warn"
    assert "ahead of" in judge_skew(-301).message
    assert judge_skew(FAIL_SKEW_S + 1).status == "fail"
    assert "behind" in judge_skew(FAIL_SKEW_S + 1).message
    assert judge_skew(None).status == "warn"


def test_twilio_account_sid_and_auth_token():
    account, token = "AC" + "c" * 32, "d" * 32
    server = TwilioSyncStandIn(SERVICE, KEY_SID, KEY_SECRET, maps=["edgecall-0", "edgecall-1"],
                               account_sid=account, auth_token=token)
    try:
        section = {**twilio_section(server), "api_key_sid": "", "account_sid": account}
        results = run(make_config(twilio=section, twilio_auth_token=token))
        assert results["twilio"].status == "ok" and results["twilio maps"].status == "ok"
        missing = run(make_config(twilio=section))["twilio"]
        assert missing.status == "fail" and "twilio_auth_token" in missing.fix
    finally:
        server.close()


def test_a_missing_encoder_warns_that_recordings_wait(hq_factory, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    hq = hq_factory()
    empty = tmp_path / "no-tools"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    audio = run(make_config(http_hq(hq.url)))["hq audio"]
    assert audio.status == "warn"
    assert "recordings wait on the box" in audio.message
    assert "apt-get install opus-tools" in audio.fix


def test_the_encoder_and_the_day_budget_are_reported(opusenc: str) -> None:
    from sync.doctor import judge_audio_encoder

    verdict = judge_audio_encoder(None, 8 * 1024 * 1024, "opus-tools 0.2")
    assert verdict.status == "ok" and "up to 8 MiB a day" in verdict.message
    assert judge_audio_encoder("missing", 0).status == "ok"  # recordings are off
