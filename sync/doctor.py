"""``edgecall doctor`` checks for the sync sinks: HQ (DNS, TLS, auth accepted, clock skew) and
Twilio Sync (credentials, Service, Maps).

Judging answers and computing the skew are plain functions (``judge_*``, ``hq_epoch``); the
network is touched only by :func:`resolve`, :func:`tls_handshake` and :func:`http`.

Nothing is ever stored at HQ or Twilio. The HQ auth probe is the survey manifest GET (HQ signs
it with the box's secret, so a verifying signature proves HQ knows this box and holds the same
``hq_secret``); when HQ publishes no pack, a signed POST with an EMPTY body: PROTOCOL.md makes
the receiver check box, signature and timestamp before decoding, so an authenticated probe gets
``400 malformed`` and a wrong secret ``401 bad-signature``, and there is no record to store.

Entry point: ``edgecall.doctor``: ``sync = "sync.doctor:doctor_checks"``.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from urllib3.exceptions import InsecureRequestWarning

from edge.net import has_default_route, read_route_tables
from edge.words import plural

from ._hq import base_url
from ._signing import (
    CONTENT_TYPE,
    HEADER_AUTH,
    HEADER_BATCH,
    HEADER_BOX,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    request_auth,
    sign,
    signed_get,
    verify,
)
from .config import twilio_login

# The technician waits for doctor: shorter than the sink's own timeouts (made for GPRS).
CONNECT_TIMEOUT_S = 8.0
READ_TIMEOUT_S = 15.0
DNS_TIMEOUT_S = 10.0
WARN_SKEW_S = 300.0  # HQ's timestamp window: beyond it every batch needs a re-stamp
FAIL_SKEW_S = 86400.0

# OpenSSL X509_V_ERR_* codes (ssl.SSLCertVerificationError.verify_code)
CERT_NOT_YET_VALID = 9
CERT_HAS_EXPIRED = 10
UNTRUSTED = {18, 19, 20, 21}  # self-signed leaf / in chain, unknown issuer (local, leaf)
HOSTNAME_MISMATCH = 62

_CLOCK_FIX = ("set the box clock: NTP when online (timedatectl set-ntp true) or the modem's "
              "network time; a wrong clock breaks TLS")
_OFFLINE_FIX = ("bring the uplink up (modem data, Ethernet or Wi-Fi: 'ip route' must show a "
                "default route); records wait in the outbox meanwhile")


@dataclass(frozen=True)
class Verdict:
    status: str  # ok | warn | fail
    message: str
    fix: str = ""
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Reply:
    """An HTTP answer as far as the doctor needs it."""

    status: int
    headers: Mapping[str, str]  # case-insensitive when it comes from requests
    body: bytes
    at: float  # the box's wall clock when the answer arrived

    def error(self) -> str:
        """The ``error`` (HQ) or ``code`` (Twilio) of a JSON error body, else ""."""
        try:
            doc = json.loads(self.body)
        except ValueError:
            return ""
        if not isinstance(doc, dict):
            return ""
        return str(doc.get("error") or doc.get("code") or "")


@dataclass(frozen=True)
class TlsOutcome:
    error: str = ""  # "", "ca_file", "refused", "timeout", "connect", "handshake"
    verify_code: int | None = None  # set when the certificate was refused
    detail: str = ""
    version: str = ""


# --- sans-IO: verdicts ----------------------------------------------------------------------

def judge_dns(host: str, addresses: list[str] | None, error: tuple[int, str] | None,
              online: bool | None) -> Verdict:
    if addresses and addresses == [host]:
        return Verdict("ok", f"{host} is an IP address: no DNS needed", facts={"host": host})
    if addresses:
        return Verdict("ok", f"{host} resolves to {', '.join(addresses[:3])}",
                       facts={"host": host, "addresses": addresses})
    if online is False:
        return Verdict("warn", f"the box looks offline (no default route), so {host} was not "
                       "checked; HQ checks skipped", _OFFLINE_FIX, facts={"host": host})
    code, text = error or (0, "no address")
    if code == socket.EAI_NONAME:
        return Verdict("fail", f"{host} does not exist in DNS ({text})",
                       "check the host name in [hq] url; if it is right, tell whoever runs "
                       "HQ that its DNS record is missing", facts={"host": host})
    return Verdict("fail", f"no DNS: is the link up? {host} could not be looked up ({text})",
                   "check the modem's data connection or the network cable, then the DNS "
                   "server the box uses (resolvectl status or /etc/resolv.conf)",
                   facts={"host": host})


def judge_tls(url: str, hq: Mapping[str, Any], outcome: TlsOutcome | None,
              box_utc: str) -> Verdict:
    """``outcome`` None: the url is plain http:// and no handshake was tried."""
    parts = urlsplit(url)
    where = f"{parts.hostname}:{parts.port or 443}"
    if outcome is None:
        return Verdict("warn", f"{url} is plain http://: batches are signed but not encrypted",
                       "use an https:// url for HQ in the field (allow_http is for tests and "
                       "VPNs)")
    facts: dict[str, Any] = {"where": where}
    if outcome.error == "ca_file":
        return Verdict("fail", f"[hq] ca_file cannot be used: {outcome.detail}",
                       "fix the path in [hq] ca_file (relative to the config file); it must be "
                       "a PEM file with HQ's CA certificate", facts)
    if outcome.error in ("refused", "timeout", "connect"):
        what = {"refused": "refuses connections", "timeout": "does not answer (timeout)"}.get(
            outcome.error, f"cannot be reached ({outcome.detail})")
        return Verdict("fail", f"HQ at {where} {what}",
                       "HQ is down or the url's port is wrong: check [hq] url and that HQ is "
                       f"running (from the box: curl -v {url})", facts)
    if outcome.error == "handshake":
        return Verdict("fail", f"TLS handshake with {where} failed: {outcome.detail}",
                       "check that the port in [hq] url serves HTTPS (not plain HTTP) and that "
                       "no proxy intercepts the connection", facts)
    code = outcome.verify_code
    if code is not None:
        facts.update(verify_code=code, detail=outcome.detail)
        if code == CERT_NOT_YET_VALID:
            return Verdict("fail", f"HQ's certificate is not yet valid by the box clock "
                           f"({box_utc}): the clock is probably behind", _CLOCK_FIX, facts)
        if code == CERT_HAS_EXPIRED:
            return Verdict("fail", f"HQ's certificate has expired by the box clock ({box_utc})",
                           "if the box clock is right, HQ must renew its certificate; if it "
                           "is ahead, " + _CLOCK_FIX, facts)
        if code == HOSTNAME_MISMATCH:
            return Verdict("fail", f"HQ's certificate is not for {parts.hostname} "
                           f"({outcome.detail})",
                           "put in [hq] url the host name HQ's certificate names, or get HQ a "
                           "certificate for this name", facts)
        trusted = f"the CA in {hq['ca_file']}" if hq["ca_file"] else "the box's CA bundle"
        kind = "is self-signed or signed by an unknown CA" if code in UNTRUSTED else \
            "was refused"
        return Verdict("fail", f"HQ's certificate {kind} ({outcome.detail}); not trusted by "
                       f"{trusted}",
                       "copy HQ's CA certificate (PEM) to the box and set [hq] ca_file to it, "
                       "or have HQ serve a certificate from a public CA", facts)
    if not hq["verify_tls"]:
        return Verdict("warn", f"TLS {outcome.version} to {where} works but HQ's certificate "
                       "is NOT checked (verify_tls = false)",
                       "set [hq] verify_tls = true and, for a private certificate, ca_file = "
                       "HQ's CA certificate", facts)
    via = f" (trusting {hq['ca_file']})" if hq["ca_file"] else ""
    return Verdict("ok", f"TLS {outcome.version} to {where}, certificate valid{via}", facts=facts)


_WRONG_KEY = ("wrong hq_secret or box id: set [box] id to the id HQ knows this box by and "
              "hq_secret in the secrets file to the string HQ holds for it")


def judge_manifest(reply: Reply | str, box: str, secret: bytes) -> Verdict | None:
    """The survey manifest GET; None when it proves nothing about the secret (nothing
    published, an unsigned page from a portal or proxy, a transport failure)."""
    if isinstance(reply, str):
        return None
    if reply.status == 401 and reply.error() == "unknown-box":
        return Verdict("fail", f"HQ does not know box {box!r} (401 unknown-box)", _WRONG_KEY)
    if reply.status == 401 and reply.error() == "bad-signature":
        # HQ gives the manifest only to its boxes: it refused this one's signature.
        return Verdict("fail", "HQ refuses this box's signature (401 bad-signature on the "
                       "signed survey manifest request)", _WRONG_KEY, facts={"via": "manifest"})
    signature = reply.headers.get(HEADER_SIGNATURE, "")
    if reply.status != 200 or not signature:
        return None
    if verify(secret, reply.headers.get(HEADER_TIMESTAMP, ""), reply.body, signature):
        return Verdict("ok", f"HQ knows box {box!r} and signs with the same hq_secret "
                       "(survey manifest verified)", facts={"via": "manifest"})
    return Verdict("fail", "HQ's survey manifest does not verify with this box's hq_secret",
                   _WRONG_KEY, facts={"via": "manifest"})


def probe_headers(box: str, secret: bytes, now: float) -> dict[str, str]:
    """Headers of the empty signed POST (the batch id names it as a doctor probe)."""
    stamp = int(now * 1000)
    batch = f"{box}.doctor.{stamp}"
    return {"Content-Type": CONTENT_TYPE, HEADER_BOX: box,
            HEADER_BATCH: batch, HEADER_TIMESTAMP: str(stamp),
            HEADER_SIGNATURE: sign(secret, stamp, b""),
            HEADER_AUTH: request_auth(secret, stamp, box, batch, 0, 0)}


def judge_probe(reply: Reply | str, box: str, url: str) -> Verdict:
    facts = {"via": "probe"}
    if isinstance(reply, str):
        return Verdict("fail", f"no answer from HQ at {url}: {reply}",
                       "HQ is down or unreachable: check [hq] url, the uplink and that HQ "
                       f"is running (from the box: curl -v {url})", facts)
    error = reply.error()
    facts["http"] = reply.status
    if reply.status == 400 or reply.status == 422 or (
            reply.status == 401 and error in ("stale-timestamp", "replay")):
        # Each of these comes after the box and signature checks (PROTOCOL.md order).
        answer = f"{reply.status} {error}".rstrip()
        return Verdict("ok", f"HQ knows box {box!r} and accepts its signature (an empty "
                       f"probe, nothing stored: {answer})", facts=facts)
    if reply.status in (401, 403):
        what = {"unknown-box": f"HQ does not know box {box!r}",
                "bad-signature": "HQ refuses the signature"}.get(
            error, f"HQ refuses the box ({reply.status} {error})")
        return Verdict("fail", f"{what} ({reply.status} {error})", _WRONG_KEY, facts)
    if reply.status in (404, 405):
        return Verdict("fail", f"nothing receives batches at {url} (HTTP {reply.status})",
                       "check [hq] url: it is HQ's batch endpoint, usually ending in "
                       "/v1/batches", facts)
    if 200 <= reply.status < 300:
        return Verdict("warn", f"{url} answered an empty probe with {reply.status}: not HQ "
                       "(captive portal, proxy page) or a receiver that skips checks",
                       "check [hq] url; on a captive network, log the box's uplink in first",
                       facts)
    if reply.status in (429, 503):
        return Verdict("warn", f"HQ is busy (HTTP {reply.status}); auth not confirmed",
                       "run 'edgecall doctor' again in a few minutes", facts)
    return Verdict("fail", f"HQ answered HTTP {reply.status} {error}".rstrip(),
                   "HQ has a problem: show its log to whoever runs HQ", facts)


def hq_epoch(reply: Reply) -> float | None:
    """HQ's clock from an answer: ``server_ms`` of a stale-timestamp refusal (ms), else the
    ``Date`` header (seconds)."""
    try:
        doc = json.loads(reply.body)
        if isinstance(doc, dict) and isinstance(doc.get("server_ms"), int):
            return doc["server_ms"] / 1000
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(reply.headers.get("Date", "")).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def _span(seconds: float) -> str:
    s = abs(seconds)
    if s >= 86400:
        return f"{s / 86400:.1f} days"
    if s >= 3600:
        return f"{s / 3600:.1f} h"
    if s >= 60:
        return f"{s / 60:.0f} min"
    return f"{s:.0f} s"


def judge_skew(skew_s: float | None) -> Verdict:
    """``skew_s``: HQ's clock minus the box's (positive: the box is behind)."""
    if skew_s is None:
        return Verdict("warn", "HQ's answer carries no Date header: clock skew unknown",
                       "nothing to do on the box; HQ should send a Date header")
    side = "behind" if skew_s > 0 else "ahead of"
    facts = {"skew_s": round(skew_s, 1)}
    if abs(skew_s) <= WARN_SKEW_S:
        return Verdict("ok", f"box clock within {_span(skew_s)} of HQ's", facts=facts)
    message = f"box clock is {_span(skew_s)} {side} HQ's"
    if abs(skew_s) > FAIL_SKEW_S:
        return Verdict("fail", message, _CLOCK_FIX + "; records are flagged and corrected at "
                       "HQ meanwhile (if the box is right, HQ's clock is wrong)", facts)
    return Verdict("warn", message, "enable NTP (timedatectl set-ntp true) or the modem's "
                   "network time; records are flagged and corrected anyway", facts)


_TWILIO_KEY_FIX = ("wrong api_key_sid or twilio_api_key_secret (or account_sid or "
                   "twilio_auth_token): copy both from the Twilio Console (Account > API keys, "
                   "or the Account Info) into [twilio] and the secrets file")


def judge_audio_encoder(problem: str | None, per_day: int, version: str = "") -> Verdict:
    """Can the box make the link copies of its recordings (opusenc)? Without it recordings
    wait on the box; nothing is lost and records are not held up."""
    if per_day <= 0:
        return Verdict("ok", "recordings stay on the box ([sync] audio_bytes_per_day = 0)")
    if problem:
        return Verdict("warn", problem, "install opus-tools (apt-get install opus-tools); "
                       "recordings are sent at the next sync run after that")
    from edge.words import size

    return Verdict("ok", f"opusenc {version}".strip() + ": recordings go to HQ after the "
                   f"records, up to {size(per_day)} a day")


def judge_twilio_service(reply: Reply | str, service_sid: str, base: str,
                         online: bool | None) -> Verdict:
    if isinstance(reply, str):
        if online is False:
            return Verdict("warn", "the box looks offline (no default route); Twilio not "
                           "checked", _OFFLINE_FIX)
        return Verdict("fail", f"cannot reach Twilio at {base}: {reply}",
                       "check the uplink (modem data, Ethernet) and [twilio] base_url")
    code = reply.error()
    facts = {"http": reply.status, "code": code}
    if reply.status == 200:
        try:
            name = json.loads(reply.body).get("friendly_name") or ""
        except (ValueError, AttributeError):
            name = ""
        label = f" ({name})" if name else ""
        return Verdict("ok", f"API key accepted; Sync Service {service_sid}{label} found",
                       facts=facts)
    if reply.status in (401, 403):
        return Verdict("fail", f"Twilio refuses the API key (HTTP {reply.status} {code})"
                       .rstrip(), _TWILIO_KEY_FIX, facts)
    if reply.status == 404:
        return Verdict("fail", f"no Sync Service {service_sid} for this API key (404)",
                       "set [twilio] service_sid to the Sync Service's SID (Console > Sync > "
                       "Services); the API key must belong to the same account", facts)
    return Verdict("fail", f"Twilio answered HTTP {reply.status} {code}".rstrip(),
                   "try again later and check status.twilio.com", facts)


def judge_twilio_maps(replies: Mapping[str, Reply | str]) -> Verdict:
    missing = [m for m, r in replies.items() if not isinstance(r, str) and r.status == 404]
    broken = {m: (r if isinstance(r, str) else f"HTTP {r.status} {r.error()}".rstrip())
              for m, r in replies.items()
              if isinstance(r, str) or r.status not in (200, 404)}
    facts: dict[str, Any] = {"missing": missing}
    if missing:
        return Verdict("fail", ("Sync Map missing: " if len(missing) == 1
                               else "Sync Maps missing: ") + ", ".join(missing),
                       "create them in the Sync Service (Console > Sync > Services > Maps, "
                       "unique names exactly as in [twilio] maps) or fix [twilio] maps", facts)
    if broken:
        first = next(iter(broken.items()))
        return Verdict("fail", f"Map {first[0]} could not be checked: {first[1]}",
                       "run 'edgecall doctor' again; if it persists check status.twilio.com",
                       facts)
    return Verdict("ok", f"{plural(len(replies), 'Map')} present: " + ", ".join(replies),
                   facts=facts)


# --- I/O: thin ----------------------------------------------------------------------------------

def online() -> bool | None:
    """None when the routing tables cannot be read: no telling, so no "looks offline"."""
    tables = read_route_tables()
    return None if tables is None else has_default_route(*tables)


def resolve(host: str, port: int, timeout_s: float = DNS_TIMEOUT_S
            ) -> tuple[list[str] | None, tuple[int, str] | None]:
    """getaddrinfo with a deadline (it has none of its own: a dead resolver takes 30 s+)."""
    box: dict[str, Any] = {}

    def lookup() -> None:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            box["addresses"] = list(dict.fromkeys(str(i[4][0]) for i in infos))
        except socket.gaierror as exc:
            box["error"] = (exc.errno or 0, exc.strerror or str(exc))
        except (OSError, UnicodeError) as exc:
            box["error"] = (0, str(exc))

    worker = threading.Thread(target=lookup, name="doctor-dns", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive():
        return None, (socket.EAI_AGAIN, f"no answer within {timeout_s:.0f} s")
    return box.get("addresses"), box.get("error")


def tls_handshake(host: str, port: int, verify_tls: bool, ca_file: str | None,
                  timeout_s: float = CONNECT_TIMEOUT_S) -> TlsOutcome:
    try:
        # requests (the sink) trusts certifi's bundle, or only ca_file: so does the check
        context = ssl.create_default_context(cafile=ca_file or requests.certs.where())
    except (OSError, ssl.SSLError) as exc:
        return TlsOutcome("ca_file", detail=str(exc))
    if not verify_tls:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    try:
        raw = socket.create_connection((host, port), timeout=timeout_s)
    except ConnectionRefusedError:
        return TlsOutcome("refused")
    except TimeoutError:
        return TlsOutcome("timeout")
    except OSError as exc:
        return TlsOutcome("connect", detail=str(exc))
    try:
        with context.wrap_socket(raw, server_hostname=host) as tls:
            return TlsOutcome(version=tls.version() or "")
    except ssl.SSLCertVerificationError as exc:
        return TlsOutcome(verify_code=exc.verify_code, detail=exc.verify_message or str(exc))
    except TimeoutError:
        return TlsOutcome("timeout")
    except (ssl.SSLError, OSError) as exc:
        return TlsOutcome("handshake", detail=str(exc))
    finally:
        raw.close()


def http(method: str, url: str, *, headers: Mapping[str, str] | None = None,
         verify_tls: bool | str = True, auth: tuple[str, str] | None = None,
         timeout: tuple[float, float] = (CONNECT_TIMEOUT_S, READ_TIMEOUT_S)) -> Reply | str:
    """One request; a transport failure comes back as a short reason string."""
    try:
        with warnings.catch_warnings():
            # verify_tls = false is already reported by the "hq tls" check
            warnings.simplefilter("ignore", InsecureRequestWarning)
            response = requests.request(method, url, headers=dict(headers or {}), auth=auth,
                                        data=b"" if method == "POST" else None,
                                        verify=verify_tls, timeout=timeout,
                                        allow_redirects=False)
            body = response.content
    except requests.ConnectTimeout:
        return "connection timed out"
    except requests.ReadTimeout:
        return f"no answer within {timeout[1]:.0f} s"
    except requests.exceptions.SSLError as exc:
        return f"TLS error: {str(exc)[:160]}"
    except (requests.RequestException, OSError) as exc:
        text = str(exc)
        return "connection refused" if "refused" in text.lower() else text[:200]
    return Reply(response.status_code, response.headers, body, time.time())


# --- the checks ---------------------------------------------------------------------------------

def hq_verdicts(config: Any, hq: Mapping[str, Any]) -> Iterator[tuple[str, Verdict]]:
    url = hq["url"]
    parts = urlsplit(url)
    host = parts.hostname or ""
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)

    addresses, error = resolve(host, port)
    dns = judge_dns(host, addresses, error, None if addresses else online())
    yield "hq dns", dns
    if dns.status != "ok":
        return

    ca_file = str(config.resolve(hq["ca_file"])) if hq["ca_file"] else None
    outcome = tls_handshake(host, port, hq["verify_tls"], ca_file) if https else None
    tls = judge_tls(url, hq, outcome, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    yield "hq tls", tls
    if tls.status == "fail":
        return  # every request would fail the same way

    verify_tls: bool | str = (ca_file or True) if hq["verify_tls"] else False
    timeout = (min(hq["connect_timeout_s"], CONNECT_TIMEOUT_S),
               min(hq["read_timeout_s"], READ_TIMEOUT_S))
    box = config.box_id
    secret_text = config.secrets.get("hq_secret")
    manifest_url = base_url(url) + "/v1/surveys/current.json"
    secret_or_none = config.secrets.get("hq_secret")
    manifest_headers = ({HEADER_BOX: box} if not isinstance(secret_or_none, str) else
                        signed_get(secret_or_none.encode(), int(time.time() * 1000), box,
                                   urlsplit(manifest_url).path))
    manifest = http("GET", manifest_url, headers=manifest_headers, verify_tls=verify_tls,
                    timeout=timeout)
    if not isinstance(secret_text, str) or not secret_text:
        yield "hq auth", Verdict("fail", "no hq_secret in the secrets file",
                                 "add hq_secret = \"...\" to the secrets file: the string HQ "
                                 f"holds for box {box!r}")
        replies = [manifest]
    else:
        secret = secret_text.encode()
        auth = judge_manifest(manifest, box, secret)
        replies = [manifest]
        if auth is None:
            probe = http("POST", url, headers=probe_headers(box, secret, time.time()),
                         verify_tls=verify_tls, timeout=timeout)
            replies.append(probe)
            auth = judge_probe(probe, box, url)
        yield "hq auth", auth
    answered = [r for r in replies if isinstance(r, Reply)]
    if answered:
        reply = answered[-1]
        epoch = hq_epoch(reply)
        yield "hq clock", judge_skew(None if epoch is None else epoch - reply.at)


def twilio_verdicts(config: Any, tw: Mapping[str, Any]) -> Iterator[tuple[str, Verdict]]:
    user, secret_key = twilio_login(dict(tw))
    secret = config.secrets.get(secret_key)
    if not isinstance(secret, str) or not secret:
        what = "API key" if secret_key == "twilio_api_key_secret" else "account"
        yield "twilio", Verdict("fail", f"no {secret_key} in the secrets file",
                                f"add {secret_key} = \"...\" (the secret of {what} {user}) "
                                "to the secrets file")
        return
    base = tw["base_url"].rstrip("/")
    service = f"{base}/v1/Services/{quote(tw['service_sid'])}"
    auth = (user, secret)
    timeout = (CONNECT_TIMEOUT_S, min(tw["read_timeout_s"], READ_TIMEOUT_S))
    reply = http("GET", service, auth=auth, timeout=timeout)
    verdict = judge_twilio_service(reply, tw["service_sid"], base,
                                   online() if isinstance(reply, str) else True)
    yield "twilio", verdict
    if verdict.status != "ok":
        return
    maps = {name: http("GET", f"{service}/Maps/{quote(name, safe='')}", auth=auth,
                       timeout=timeout) for name in tw["maps"]}
    yield "twilio maps", judge_twilio_maps(maps)


def doctor_checks(config: Any) -> Iterator[Any]:
    # Imported here: the result type lives in edge.doctor, loaded only when doctor runs.
    from edge.doctor import fail, ok, warn

    make = {"warn": warn, "fail": fail}
    has_store = "data_dir" in config.sections.get("box", {})
    if has_store and (config.section("hq") is not None or config.section("twilio") is not None):
        from ._identity import mismatch

        wrong = mismatch(config.box_id, config.data_dir / "edgecall.db")
        if wrong:
            yield warn("box id", wrong, "edit [box] id in the config (sync refuses to run "
                       "while unsent records carry another id)")
    if config.section("hq") is not None:
        from ._audio_codec import encoder_problem, encoder_version
        from ._setup import sync_settings

        v = judge_audio_encoder(encoder_problem(), sync_settings(config).get(
            "audio_bytes_per_day", 0), encoder_version())
        yield (ok("hq audio", v.message) if v.status == "ok" else
               make[v.status]("hq audio", v.message, v.fix))
    for section, verdicts in (("hq", hq_verdicts), ("twilio", twilio_verdicts)):
        settings = config.section(section)
        if settings is None:
            continue
        for name, v in verdicts(config, settings):
            if v.status == "ok":
                yield ok(name, v.message, **v.facts)
            else:
                yield make[v.status](name, v.message, v.fix, **v.facts)
