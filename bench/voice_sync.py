#!/usr/bin/env python3
"""Recorded answers over a slow link: what a minute of speech costs on the wire per codec,
and the drain of a day's answers with recordings through the emulated 40 kbit/s link, all
measured in the same run.

1. Bytes per minute of speech: a minute of synthetic speech (espeak-ng, made 8 kHz 16-bit
   mono with SoX, as the box records) as the box's WAV, as AMR-NB at 12.2 kbit/s (its
   highest mode; modules record at 4.75 to 12.2) and 4.75 kbit/s (its smallest), and as
   Opus at 8 kbit/s (the link copy the box sends, sync/_audio_codec.py) and two variants.
2. The drain: a real store with 1,000 answers (100 ten-answer surveys) and 50 one-minute
   recordings left between them, sent by the real sync code (records, then recordings in
   chunks) to ``edgecall hq serve`` through the link emulator (40 kbit/s, 600 ms RTT, a
   dropped connection every ~90 s). Prints when the last record was acknowledged, when the
   first recording byte left, the total drain time, and wire bytes per minute of speech.

    .venv/bin/python bench/voice_sync.py [--recordings 50] [--surveys 100] [--only codecs]

Needs espeak-ng, sox (libsox-fmt-base) and opusenc (opus-tools).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sync_drain import SECRET, HqProcess, LinkProcess

from edge.lines import pcm_wav
from sync._audio_codec import OPUSENC_ARGS, ensure_link_copy
from sync._audio_http import HqAudio
from sync._audio_sync import AudioUploader, drain_then_upload
from sync._batching import Backoff
from sync._hq import HqSink
from sync._ledger import Ledger, connect
from sync._runner import drain
from sync.codec import batch_encoder
from sync.hq import open_storage
from tests.support import fill_surveys, open_store
from tests.support._recorded import add_recording

TEXTS = (
    "Hello, I am calling about the water point in the northern camp. It has been broken for "
    "three days and the families there walk two hours to the river. Please send someone.",
    "My name is Amina. We received the food parcels last week but the rice was wet and the "
    "children are sick. We need a nurse to visit the block near the school.",
    "Good morning. The distribution list does not have my mother's name on it although she "
    "registered in March. Can someone call me back about her card, please?",
    "There is no light in the latrines at night and the women are afraid to go there. We "
    "ask for lamps or solar lights near the blocks on the east side of the camp.",
)
VOICES = ("en", "en-us", "en+f3", "en+m3")


def need(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        raise SystemExit(f"{tool} is not installed (apt-get install espeak-ng sox "
                         "libsox-fmt-base opus-tools)")
    return found


def speech_pcm(tmp: Path, seconds: float) -> bytes:
    """At least ``seconds`` of synthetic speech, 8 kHz 16-bit mono PCM (espeak-ng + SoX)."""
    pcm = bytearray()
    n = 0
    while len(pcm) < seconds * 16000:
        raw, wav = tmp / f"say-{n}.wav", tmp / f"say-{n}-8k.wav"
        subprocess.run([need("espeak-ng"), "-v", VOICES[n % len(VOICES)], "-s", "150", "-w",
                        str(raw), TEXTS[n % len(TEXTS)]], check=True)
        subprocess.run([need("sox"), str(raw), "-r", "8000", "-b", "16", "-c", "1", str(wav)],
                       check=True)
        with wave.open(str(wav)) as source:
            pcm += source.readframes(source.getnframes())
        pcm += bytes(8000)  # a breath between sentences: 0.5 s
        n += 1
    return bytes(pcm)


def minute(pcm: bytes, start_s: float) -> bytes:
    """One minute of ``pcm`` from ``start_s`` (wrapping), as a WAV file."""
    offset = int(start_s * 8000) * 2 % len(pcm)
    doubled = pcm + pcm
    return pcm_wav(doubled[offset:offset + 960_000])


def codecs(tmp: Path, wav: bytes) -> list[tuple[str, int]]:
    source = tmp / "codec" / "speech.wav"
    source.parent.mkdir()
    source.write_bytes(wav)
    rows = [("WAV 8 kHz 16-bit (stored on the box)", len(wav))]
    sox = need("sox")
    for mode, label in ((7, "AMR-NB 12.2 kbit/s (its highest mode)"),
                        (0, "AMR-NB 4.75 kbit/s (its smallest mode)")):
        out = tmp / "codec" / f"amr{mode}.amr"
        subprocess.run([sox, str(source), "-t", "amr-nb", "-C", str(mode), str(out)],
                       check=True)
        rows.append((label, out.stat().st_size))
    rows.append(("Opus 8 kbit/s speech, 60 ms (the link copy)",
                 ensure_link_copy(source).size))
    opusenc = need("opusenc")
    for extra, label in ((("--framesize", "20"), "Opus 8 kbit/s speech, 20 ms frames"),
                         (("--bitrate", "12"), "Opus 12 kbit/s speech, 60 ms")):
        args = list(OPUSENC_ARGS)
        for i in range(0, len(extra), 2):
            args[args.index(extra[i]) + 1] = extra[i + 1]
        out = tmp / "codec" / f"variant-{len(rows)}.opus"
        subprocess.run([opusenc, *args, str(source), str(out)], check=True)
        rows.append((label, out.stat().st_size))
    return rows


class Timed(HqAudio):
    """The real transport, noting when the first recording byte left and the link's byte
    count then (what the records cost; the rest is the recordings')."""

    first_at: float | None = None
    wire_before = 0
    link: Any = None

    def send(self, reference: str, copy: Any, offset: int, data: bytes) -> Any:
        if self.first_at is None:
            self.first_at = time.monotonic()
            self.wire_before = int(self.link.stats()["total"])
        return super().send(reference, copy, offset, data)


def drain_run(args: argparse.Namespace, tmp: Path, pcm: bytes) -> None:
    store, sim = open_store(tmp / "box", box_id="box-1", fast=True)
    per_gap = max(1, args.surveys // max(1, args.recordings))
    surveys = recordings = 0
    while surveys < args.surveys or recordings < args.recordings:
        if surveys < args.surveys:
            fill_surveys(store, sim, min(per_gap, args.surveys - surveys))
            surveys += min(per_gap, args.surveys - surveys)
        if recordings < args.recordings:
            add_recording(store, minute(pcm, 7.3 * recordings))
            recordings += 1
    answers = len(store.reads.answers())
    records = len(store.reads.outbox_after(0, 10**7))
    speech_s = sum(a["seconds"] for a in store.reads.audio())
    print(f"box: {answers:,} answers, {records:,} records, {recordings} recordings "
          f"({speech_s / 60:.1f} min of speech, "
          f"{sum(a['bytes'] for a in store.reads.audio()):,} bytes of WAV)")
    # Link copies are made as the upload reaches each one (encoding time is in the drain).
    hq = HqProcess(tmp, "hq-voice", ("--audio-dir", str(tmp / "hq-audio")))
    link = LinkProcess(hq.server_address[:2], args.rate, args.rtt, args.drop_every, seed=5)
    try:
        sink = HqSink(link.url + "/v1/batches", "box-1", SECRET, read_timeout_s=120)
        ledger = Ledger(connect(store.path), "hq", "box-1", batch_encoder("box-1"), 20000,
                        48 * 1024)
        transport = Timed(sink)
        transport.link = link
        uploader = AudioUploader(ledger, transport, args.budget, 48 * 1024)
        acked: list[float] = []
        started = time.monotonic()

        def records() -> Any:
            return drain(ledger, sink, wait=lambda s: time.sleep(s) or False,
                         max_wait_s=3600, backoff=Backoff(base_s=1.0, cap_s=10.0),
                         progress=lambda report, batch: acked.append(time.monotonic()))

        runs = 0
        while True:
            runs += 1
            report, uploads = drain_then_upload(records, uploader)
            if report.done and uploads is not None and uploads.done:
                break
            if runs > 200:
                raise SystemExit(f"the drain did not finish: {report} {uploads}")
            time.sleep(1.0)  # a failed chunk (a dropped connection): the next run resumes
        took = time.monotonic() - started
        wire = link.stats()
        storage = open_storage(hq.db_path)
        held = storage.audio_files()
        at_hq = storage.count()
        storage.close()
    finally:
        hq.stop()
        link.close()
    copies = sum(h["bytes"] for h in held)
    last_record = max(acked) - started
    first_audio = (transport.first_at or started) - started
    print(f"link: {args.rate / 1000:.0f} kbit/s, {args.rtt * 1000:.0f} ms RTT, "
          f"{wire['drops']} dropped connections; {runs} sync runs; {sink.requests} requests")
    print(f"records: all {at_hq:,} at HQ; last acknowledged at {last_record:.1f} s")
    print(f"recordings: first byte left at {first_audio:.1f} s "
          f"({'after' if first_audio >= last_record else 'BEFORE'} the last record); "
          f"{len(held)} of {recordings} at HQ, {copies:,} bytes of Opus")
    audio_wire = wire["total"] - transport.wire_before
    print(f"total drain: {took:.1f} s; wire bytes {wire['total']:,}, of which recordings "
          f"{audio_wire:,} = {audio_wire / (speech_s / 60):,.0f} per minute of speech (HTTP "
          f"headers, HQ's answers and resent parts included; Opus alone "
          f"{copies / (speech_s / 60):,.0f})")
    print("PASS  answers all arrive first" if first_audio >= last_record
          else "MISS  answers all arrive first")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recordings", type=int, default=50)
    parser.add_argument("--surveys", type=int, default=100, help="ten-answer surveys")
    parser.add_argument("--rate", type=float, default=40_000, help="link bits per second")
    parser.add_argument("--rtt", type=float, default=0.6, help="link round trip, seconds")
    parser.add_argument("--drop-every", type=float, default=90.0,
                        help="mean seconds between dropped connections (0: none)")
    parser.add_argument("--budget", type=int, default=64 * 1024 * 1024,
                        help="[sync] audio_bytes_per_day for the run")
    parser.add_argument("--only", default="codecs,drain")
    args = parser.parse_args()
    args.drop_every = args.drop_every or None
    only = set(args.only.split(","))
    tmp = Path(tempfile.mkdtemp(prefix="voice-bench-"))
    pcm = speech_pcm(tmp, 75.0)
    if "codecs" in only:
        rows = codecs(tmp, minute(pcm, 0.0))
        wav = rows[0][1]
        print("one minute of speech (espeak-ng, 8 kHz):")
        for label, size in rows:
            print(f"  {label:<45} {size:>9,} bytes/min  {size * 8 / 60000:5.1f} kbit/s"
                  f"  {wav / size:5.1f}x smaller than WAV")
    if "drain" in only:
        drain_run(args, tmp, pcm)
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
