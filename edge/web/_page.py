"""The HTML page: one self-contained document (inline CSS, no script, no external files:
the box is offline) laid out for a phone first. ``data-figure`` attributes name each number
so tests (and scripts) can read them back."""

from __future__ import annotations

from bottle import SimpleTemplate

from edge.store import DISPOSITIONS

from ._figures import Figures

_STATE_CLASS = {"ready": "ok", "starting": "warn", "degraded": "warn", "down": "bad"}
_QUALITY_CLASS = {"ntp": "ok", "network": "warn", "unsynchronised": "bad"}
_QUALITY_WORDS = {"ntp": "synchronised (NTP)", "network": "from the GSM network",
                  "unsynchronised": "not synchronised"}


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def signal_text(dbm: int | None, words: str | None) -> str:
    if dbm is None and not words:
        return ""
    parts = [f"{dbm} dBm" if dbm is not None else "", f"({words})" if words else ""]
    return " ".join(p for p in parts if p)


_TEMPLATE = SimpleTemplate(r"""<!DOCTYPE html>
<html lang="en"><head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="{{refresh_s}}">
<title>edgecall {{f.box}}</title>
<style>
*{box-sizing:border-box}
body{margin:0;font:16px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
background:#f2f4f7;color:#1d2433}
header{background:#1d2433;color:#fff;padding:14px 16px}
header h1{margin:0;font-size:1.25rem}
header p{margin:4px 0 0;font-size:.85rem;opacity:.8}
main{padding:12px;max-width:960px;margin:0 auto}
.cards{display:grid;grid-template-columns:repeat(2,1fr);gap:10px}
@media(min-width:700px){.cards{grid-template-columns:repeat(4,1fr)}}
.card,section{background:#fff;border-radius:10px;padding:12px 14px;
box-shadow:0 1px 2px rgba(0,0,0,.08)}
.card .label{font-size:.8rem;text-transform:uppercase;letter-spacing:.04em;color:#5b6475}
.card .big{font-size:2rem;font-weight:700;line-height:1.2}
.card .sub{font-size:.85rem;color:#5b6475}
section{margin-top:12px}
section h2{margin:0 0 8px;font-size:1rem}
table{width:100%;border-collapse:collapse;font-size:.95rem}
th,td{text-align:left;padding:6px 4px;border-top:1px solid #e4e7ec;vertical-align:top}
th{font-weight:600;color:#5b6475;font-size:.8rem;border-top:0;white-space:nowrap}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.pill{display:inline-block;padding:1px 8px;border-radius:999px;font-size:.8rem;font-weight:600}
.ok{background:#dcfce7;color:#166534}.warn{background:#fef3c7;color:#92400e}
.bad{background:#fee2e2;color:#991b1b}
.muted{color:#5b6475;font-size:.85rem}
.err td{font-size:.85rem}
</style>
</head><body>
<header><h1>edgecall · {{f.box}}</h1>
<p>Updated <span data-figure="generated">{{f.generated_utc[:19].replace('T', ' ')}}</span> UTC
· reloads every {{refresh_s}} s</p></header>
<main>
<div class="cards">
 <div class="card"><div class="label">Calls today</div>
  <div class="big" data-figure="calls-today">{{f.today.calls}}</div>
  <div class="sub"><span data-figure="completion-today">{{percent(f.today.completion)}}</span>
   complete
   % if f.today.in_progress:
   · <span data-figure="in-progress">{{f.today.in_progress}}</span> now
   % end
  </div></div>
 <div class="card"><div class="label">Last 7 days</div>
  <div class="big" data-figure="calls-week">{{f.week.calls}}</div>
  <div class="sub"><span data-figure="completion-week">{{percent(f.week.completion)}}</span>
   complete</div></div>
 <div class="card"><div class="label">Waiting for HQ</div>
  <div class="big" data-figure="backlog">{{f.backlog}}</div>
  <div class="sub">records in the outbox</div></div>
 <div class="card"><div class="label">Clock</div>
  <div class="big"><span class="pill {{quality_class.get(f.clock_quality, 'warn')}}"
   data-figure="clock-quality">{{f.clock_quality}}</span></div>
  <div class="sub">{{quality_words.get(f.clock_quality, f.clock_quality)}}
   % if f.last_call_clock_quality:
   · last call: <span data-figure="last-call-clock">{{f.last_call_clock_quality}}</span>
   % end
  </div></div>
</div>

<section><h2>Lines</h2>
% if not f.lines:
<p class="muted">No lines running.</p>
% else:
<table><tr><th>Line</th><th>State</th><th>Signal</th></tr>
% for line in f.lines:
<tr data-line="{{line.name}}"><td><b>{{line.name}}</b> <span class="muted">{{line.kind}}</span>
% if line.detail:
<br><span class="muted">{{line.detail}}</span>
% end
</td><td><span class="pill {{state_class.get(line.state, 'warn')}}"
 data-figure="line-state">{{line.state}}</span></td>
<td data-figure="line-signal">{{signal_text(line.signal_dbm, line.signal)}}</td></tr>
% end
</table>
% end
</section>

<section><h2>Dispositions</h2>
<table><tr><th>Outcome</th><th class="n">Today</th><th class="n">7 days</th></tr>
% for name in dispositions:
% if f.today.dispositions.get(name) or f.week.dispositions.get(name) or name == 'complete':
<tr><td>{{name}}</td>
<td class="n" data-figure="today-{{name}}">{{f.today.dispositions.get(name, 0)}}</td>
<td class="n" data-figure="week-{{name}}">{{f.week.dispositions.get(name, 0)}}</td></tr>
% end
% end
% if f.today.in_progress or f.week.in_progress:
<tr><td>in progress</td><td class="n">{{f.today.in_progress}}</td>
<td class="n">{{f.week.in_progress}}</td></tr>
% end
</table>
</section>

<section><h2>Surveys</h2>
% if not f.surveys:
<p class="muted">No calls in the last 7 days.</p>
% else:
<table><tr><th>Survey</th><th class="n">Today</th><th class="n">7 days</th>
<th class="n">Complete</th></tr>
% for s in f.surveys:
<tr data-survey="{{s.survey}}"><td><b>{{s.survey}}</b><br><span class="muted">
{{', '.join(f'{k} {v}' for k, v in s.week.dispositions.items()) or 'none finished'}}</span></td>
<td class="n" data-figure="survey-today">{{s.today.calls}}</td>
<td class="n" data-figure="survey-week">{{s.week.calls}}</td>
<td class="n" data-figure="survey-completion">{{percent(s.week.completion)}}</td></tr>
% end
</table>
<p class="muted">Complete: share of the calls finished in 7 days that reached the end
(busy calls not counted).</p>
% end
</section>

<section><h2>Sync</h2>
<table>
<tr><td>Outbox backlog</td><td class="n">{{f.backlog}}</td></tr>
% for label, value in f.sync:
<tr><td>{{label}}</td><td>{{value}}</td></tr>
% end
</table>
</section>

% if f.outbound:
<section><h2>Calling back</h2>
<table data-figure="outbound">
% for label, value in f.outbound:
<tr><td>{{label}}</td><td>{{value}}</td></tr>
% end
</table>
</section>
% end

<section><h2>Recent errors</h2>
% if not f.errors:
<p class="muted" data-figure="errors">None.</p>
% else:
<table class="err"><tr><th>When (UTC)</th><th>What</th></tr>
% for e in f.errors:
<tr data-figure="error"><td>{{e.utc[:19].replace('T', ' ')}}</td>
<td><b>{{e.what}}</b> {{e.detail}}<br><span class="muted">{{e.call or ''}}</span></td></tr>
% end
</table>
% end
</section>
</main>
</body></html>
""")


def render(figures: Figures, refresh_s: int) -> str:
    return _TEMPLATE.render(
        f=figures, refresh_s=refresh_s, percent=percent, signal_text=signal_text,
        state_class=_STATE_CLASS, quality_class=_QUALITY_CLASS, quality_words=_QUALITY_WORDS,
        dispositions=DISPOSITIONS,
    )
