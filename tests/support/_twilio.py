"""A Twilio Sync stand-in: the Map item endpoints with the documented behaviour that matters
to the sink (Basic auth with an API key or with the Account SID and Auth Token, 16 KiB Data,
writes per second per Map -> 429 / 54009, 54208 on a duplicate key, 54201 on a missing item),
the Service and Map GETs doctor makes, and the Messages API HQ sends SMS with
(``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``: To, From or MessagingServiceSid,
Body or MediaUrl; 201 with the message; 21604/21602/21603 when one is missing)."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections import deque
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote

MAX_DATA = 16 * 1024


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in one segment: with Nagle on and unbuffered writes, each
    # response waits for the client's delayed ACK (40 ms per request on Linux).
    disable_nagle_algorithm = True
    wbufsize = 1 << 16
    server: TwilioSyncStandIn

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _reply(self, status: int, doc: dict[str, Any]) -> None:
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: int, code: int, message: str) -> None:
        self.server.count(f"error-{code}")
        self._reply(status, {"code": code, "message": message, "status": status,
                             "more_info": f"https://www.twilio.com/docs/errors/{code}"})

    def _route(self) -> tuple[str, str | None] | None:
        # /v1/Services/{IS}/Maps/{map}/Items[/{key}]
        parts = self.path.split("?")[0].split("/")
        if (len(parts) not in (7, 8) or parts[1:3] != ["v1", "Services"]
                or parts[3] != self.server.service_sid or parts[4] != "Maps"
                or parts[6] != "Items"):
            return None
        return unquote(parts[5]), unquote(parts[7]) if len(parts) == 8 else None

    def _authorised(self) -> bool:
        # An API key (SK + secret) or the account (AC + Auth Token), as Twilio accepts both.
        logins = [(self.server.key_sid, self.server.key_secret)]
        if self.server.account_sid:
            logins.append((self.server.account_sid, self.server.auth_token))
        accepted = {"Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
                    for user, password in logins}
        if self.headers.get("Authorization", "") not in accepted:
            self._error(401, 20003, "Authenticate")
            return False
        return True

    def _item(self, map_name: str, key: str) -> dict[str, Any]:
        data = self.server.items[map_name][key]
        return {"key": key, "data": data, "map_sid": map_name, "revision": "0",
                "service_sid": self.server.service_sid}

    def _resource(self) -> dict[str, Any] | None:
        """GET /v1/Services/{IS} and /v1/Services/{IS}/Maps/{name} (what doctor asks)."""
        parts = self.path.split("?")[0].split("/")
        if parts[1:3] != ["v1", "Services"] or len(parts) < 4 or \
                parts[3] != self.server.service_sid:
            return None
        if len(parts) == 4:
            return {"sid": self.server.service_sid, "friendly_name": "edgecall"}
        if len(parts) == 6 and parts[4] == "Maps" and unquote(parts[5]) in self.server.items:
            return {"unique_name": unquote(parts[5]), "service_sid": self.server.service_sid}
        return None

    def do_GET(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.server.paths.append(self.path)
        route = self._route()
        if not self._authorised():
            return
        if route is None and (resource := self._resource()) is not None:
            self._reply(200, resource)
            return
        if route is not None and route[0] in self.server.items and route[1] is None:
            self._list(route[0])  # HQ's import reads the Map page by page
            return
        if route is None or route[0] not in self.server.items or route[1] is None:
            self._error(404, 20404, "not found")
            return
        map_name, key = route
        if key not in self.server.items[map_name]:
            self._error(404, 54201, "Map Item not found")
            return
        self._reply(200, self._item(map_name, key))

    def _list(self, map_name: str) -> None:
        query = parse_qs(self.path.partition("?")[2])
        size = int(query.get("PageSize", ["50"])[0])
        start = int(query.get("Page", ["0"])[0])
        with self.server.lock:
            keys = sorted(self.server.items[map_name])
        page = keys[start * size:(start + 1) * size]
        more = (start + 1) * size < len(keys)
        base = self.path.partition("?")[0]
        self._reply(200, {"items": [self._item(map_name, k) for k in page], "meta": {
            "page": start, "page_size": size,
            "next_page_url": (f"{self.server.url}{base}?PageSize={size}&Page={start + 1}"
                              if more else None)}})

    def do_DELETE(self) -> None:
        route = self._route()
        if not self._authorised():
            return
        if route is None or route[1] is None or route[0] not in self.server.items:
            self._error(404, 20404, "not found")
            return
        with self.server.lock:
            found = self.server.items[route[0]].pop(route[1], None)
        if found is None:
            self._error(404, 54201, "Map Item not found")
            return
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _messages(self, raw: bytes) -> None:
        """Twilio's Messages API: the account's own path, its credentials."""
        if not self._authorised():
            return
        form = parse_qs(raw.decode("utf-8"), keep_blank_values=True)
        fields = {k: v if len(v) > 1 else v[0] for k, v in form.items()}
        if not fields.get("To"):
            self._error(400, 21604, "A 'To' phone number is required.")
            return
        if not (fields.get("From") or fields.get("MessagingServiceSid")):
            self._error(400, 21603, "A 'From' phone number is required.")
            return
        if not (fields.get("Body") or fields.get("MediaUrl")):
            self._error(400, 21602, "Message body is required.")
            return
        with self.server.lock:
            self.server.messages.append({"fields": fields,
                                         "auth": self.headers.get("Authorization", "")})
            sid = f"SM{len(self.server.messages):032x}"
        self.server.count("message")
        self._reply(201, {"sid": sid, "account_sid": self.server.account_sid,
                          "to": fields["To"], "from": fields.get("From"),
                          "messaging_service_sid": fields.get("MessagingServiceSid"),
                          "body": fields.get("Body", ""), "status": "queued"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.server.account_sid and self.path.split("?")[0] == (
                f"/2010-04-01/Accounts/{self.server.account_sid}/Messages.json"):
            self._messages(raw)
            return
        route = self._route()
        if not self._authorised():
            return
        if route is None or route[1] is not None:
            self._error(404, 20404, "not found")
            return
        map_name = route[0]
        if map_name not in self.server.items:
            self._error(404, 54200, "Map not found")
            return
        if not self.server.take_write(map_name):
            self._error(429, 54009, "Rate limit exceeded")
            return
        form = parse_qs(raw.decode("utf-8"), keep_blank_values=True)
        key = form.get("Key", [""])[0]
        data_text = form.get("Data", [""])[0]
        if not 1 <= len(key) <= 320:
            self._error(400, 54209, "Invalid Map Item key")
            return
        if len(data_text.encode()) > MAX_DATA:
            self._error(413, 54006, "Request entity too large")
            return
        try:
            data = json.loads(data_text)
        except ValueError:
            self._error(400, 54008, "Invalid data: not JSON")
            return
        with self.server.lock:
            if key in self.server.items[map_name]:
                exists = True
            else:
                exists = False
                self.server.items[map_name][key] = data
        if exists:
            self._error(409, 54208, "Map Item already exists")
            return
        self.server.count("created")
        self._reply(201, self._item(map_name, key))


class TwilioSyncStandIn(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, service_sid: str = "IS" + "0" * 32, key_sid: str = "SK" + "0" * 32,
                 key_secret: str = "", maps: Iterable[str] = (),
                 writes_per_window: int = 20, window_s: float = 1.0,
                 account_sid: str = "", auth_token: str = "") -> None:
        self.service_sid = service_sid
        self.key_sid = key_sid
        self.key_secret = key_secret
        self.account_sid = account_sid  # also accepted: the account and its Auth Token
        self.auth_token = auth_token
        self.items: dict[str, dict[str, Any]] = {m: {} for m in maps}
        self.writes_per_window = writes_per_window
        self.window_s = window_s
        self.writes: dict[str, deque[float]] = {m: deque() for m in self.items}
        self.stats: dict[str, int] = {}
        self.paths: list[str] = []  # every GET, in order
        self.messages: list[dict[str, Any]] = []  # every SMS accepted: form fields, auth
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)
        threading.Thread(target=self.serve_forever, name="twilio-standin", daemon=True).start()

    def take_write(self, map_name: str) -> bool:
        now = time.monotonic()
        with self.lock:
            window = self.writes[map_name]
            while window and window[0] <= now - self.window_s:
                window.popleft()
            if len(window) >= self.writes_per_window:
                return False
            window.append(now)
            return True

    def count(self, what: str) -> None:
        with self.lock:
            self.stats[what] = self.stats.get(what, 0) + 1

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def close(self) -> None:
        self.shutdown()
        self.server_close()
