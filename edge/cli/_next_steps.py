"""What ``edgecall init`` tells a newcomer to do next: which section turns on which kind of
line, where the secrets are, and the next command. Kept apart from the file writing so the
wording can be read (and tested) in one place."""

from __future__ import annotations

from pathlib import Path

from edge.words import plural

DOCS = "docs/configuration.md"


def _serve(config_path: Path) -> str:
    return f"edgecall serve --config {config_path}"


def after_init(config_path: Path, secrets_path: Path) -> str:
    """The steps after a plain ``init``: no line is on yet, so say how to turn one on."""
    doctor = f"edgecall doctor --config {config_path}"
    return f"""
Next: turn on one telephone line in {config_path}: remove the '# ' in front of its
section header and its keys, then set:
  [sip]        a GSM-to-SIP gateway or PBX: gateway_address (trunk mode, no registration),
               or also account to register (its password goes in {secrets_path.name} as
               sip_password)
  [modem]      a USB/serial GSM modem: port (e.g. /dev/ttyUSB2) and profile
               (sim800, ec25, sim7600)
  [simulated]  scripted callers, no hardware: calls_file; or start over with
               'edgecall init --simulated DIR', which writes a working one
Sync to HQ: uncomment [hq] (url) or [twilio]. Every section and key: {DOCS}.
Secrets (pseudonym key, status page password, hq_secret; sip_password and
twilio_api_key_secret when you use them) are in {secrets_path} (keep it mode 0600).
Then check the box and run it (Ctrl-C stops it):
  {doctor}
  {_serve(config_path)}"""


def after_init_simulated(config_path: Path, calls_path: Path, calls: int) -> str:
    """The steps after ``init --simulated``: the box runs as written."""
    return f"""
The [simulated] line is on: {plural(calls, "scripted caller")} from {calls_path.name} answer the
built-in demo survey within about half a minute of start.
Next: run the box; it logs each call as it ends (Ctrl-C stops it):
  {_serve(config_path)}
Then, with the same --config: 'edgecall status' for the figures, 'edgecall export --format csv'
for the answers.
For a real line, set enabled = false under [simulated] and turn on [sip] (a GSM-to-SIP
gateway) or [modem] (a USB/serial modem) in {config_path}; see {DOCS}."""
