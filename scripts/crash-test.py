#!/usr/bin/env python3
"""Crash test for `ordergate serve`: proves that the daemon never loses or doubles a file under kill -9.

Each run (on a fresh temporary folder) generates distinct valid acme X12 850 files, a few files that are not EDI at
all and a few exact re-sends of earlier files; a feeder thread drops them into inbox/acme (most written as a hidden
temporary and renamed, some written in place in two chunks), while the main thread starts the daemon, SIGKILLs it
at a random moment and restarts it, K times. After the last kill the daemon is started once more, left to drain the
inbox, stopped with SIGTERM (it must exit 0), and the folders and the database are checked:

- every dropped file name has exactly one `files` row (reprocess_of NULL): good files processed, bad files
  quarantined (with an .error.txt report), re-sends duplicate; the stored copy is byte-identical to what was dropped;
- exactly one live order per good PO number, and no other orders;
- every live order decided exactly once (the sample business data of examples/data/ is imported first, so the rules
  reserve stock while the kills come); each stock row's reserved figure equals its active reservations and never
  exceeds what is available;
- one 997 and one 855 per processed file (the 997 answering its interchange and its group, the 855 its order, both
  committed with it), one TA1 R 025 per duplicate, none for a quarantined file;
- every outbound row written, its outbox file present with the same bytes, no other file in the outbox;
- no .tmp file under outbox/ or data/, data/work/ empty, no stray file in archive/ or quarantine/;
- PRAGMA integrity_check = ok; the control numbers (ISA13, GS06) of our acknowledgements never reused;
- delivery: acme has a push endpoint on a local receiver (which counts each Idempotency-Key once, like a partner
  that honours the key); every outbound row is queued for delivery and delivered, and the receiver holds every
  row's key with the row's exact bytes (a row whose answer was lost to a kill is sent again: at least once, and
  once per key at the receiver).

Python 3 standard library only. Usage:

    scripts/crash-test.py                                   # CI defaults: --runs 2 --kills 5 --files 150
    scripts/crash-test.py --runs 20 --kills 10 --files 1000 # by hand
    scripts/crash-test.py --generate-only /tmp/fixtures     # only write the generated files (to inspect them)

Exit status: 0 when every check of every run passed, 1 when one failed, 2 on a usage or setup problem.
"""

from __future__ import annotations

import argparse
import collections
import decimal
import hashlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from push_receiver import PushReceiver  # noqa: E402  (acme's push endpoint)

REPO = Path(__file__).resolve().parent.parent
DEFAULT_BINARY = REPO / ".build" / "debug" / "ordergate"
DEFAULT_TEMPLATE = REPO / "examples" / "acme" / "850-po-7731045.edi"
DEFAULT_MAPPINGS = REPO / "mappings"
PARTNER = "acme"

# ---------------------------------------------------------------------------------------------------------------------
# Fixtures


@dataclass
class Fixture:
    """One file the feeder drops into inbox/acme."""

    name: str
    data: bytes
    kind: str  # good | bad | resend
    method: str = "rename"  # rename (hidden temporary, then rename) | part (name.part, then rename) | chunks
    po: str | None = None  # good files: BEG03
    isa13: str | None = None  # good files and re-sends: ISA13 of the interchange
    gs06: str | None = None
    original: str | None = None  # re-sends: the name of the file they repeat

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


class X12Template:
    """The sample 850, split into segments, with the control numbers and the PO number replaceable."""

    def __init__(self, data: bytes):
        text = data.decode("ascii")
        if not text.startswith("ISA") or len(text) < 106:
            raise ValueError("the template does not start with a full ISA segment")
        self.element = text[3]
        self.terminator = text[105]
        self.segments = text.split(self.terminator)  # each piece keeps the line break that preceded it
        self.isa_length = len(self.segments[0])
        tags = [self.tag(piece) for piece in self.segments]
        for needed in ("ISA", "GS", "ST", "BEG", "SE", "GE", "IEA"):
            if tags.count(needed) != 1:
                raise ValueError(f"the template must have exactly one {needed} segment")

    @staticmethod
    def tag(piece: str) -> str:
        return piece.lstrip().split("*", 1)[0] if piece.strip() else ""

    def render(self, isa13: int, gs06: int, st02: str, po: str) -> bytes:
        e = self.element
        out = []
        for piece in self.segments:
            prefix = piece[: len(piece) - len(piece.lstrip())]
            body = piece[len(prefix):]
            elements = body.split(e)
            tag = elements[0]
            if tag == "ISA":
                elements[13] = f"{isa13:09d}"
            elif tag == "IEA":
                elements[2] = f"{isa13:09d}"
            elif tag == "GS":
                elements[6] = str(gs06)
            elif tag == "GE":
                elements[2] = str(gs06)
            elif tag == "ST":
                elements[2] = st02
            elif tag == "SE":
                elements[2] = st02
            elif tag == "BEG":
                elements[3] = po
            out.append(prefix + e.join(elements))
        text = self.terminator.join(out)
        if len(out[0]) != self.isa_length or text[105] != self.terminator:
            raise AssertionError("the ISA segment lost its fixed width")
        return text.encode("ascii")


BAD_TEXTS = [
    "Hello, please ship 40 widgets to our Joliet DC as soon as possible.\nThanks, Jane\n",
    "PO,LINE,SKU,QTY\n{po},1,WW-1001,480\n{po},2,WW-1002,240\n",
    "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n",
    "From: edi@acmeretail.example\nSubject: order {po}\n\nSee attachment.\n",
    "{{\"purchaseOrder\": \"{po}\", \"lines\": [{{\"sku\": \"WW-1001\", \"qty\": 480}}]}}\n",
]


def generate(rng: random.Random, template: X12Template, files: int, bad: int, resends: int,
             chunked_fraction: float, run_tag: str) -> list[Fixture]:
    """The fixtures of one run, in feeding order. Re-sends come well after the file they repeat."""
    base = rng.randrange(1, 999_999_999 - files - 1)
    good: list[Fixture] = []
    for i in range(files):
        isa13 = base + i
        po = f"CT{run_tag}{i:06d}"
        data = template.render(isa13=isa13, gs06=isa13, st02=f"{i + 1:04d}", po=po)
        method = "chunks" if rng.random() < chunked_fraction else ("part" if rng.random() < 0.1 else "rename")
        good.append(Fixture(name=f"po-{i:05d}-{po}.edi", data=data, kind="good", method=method, po=po,
                            isa13=f"{isa13:09d}", gs06=str(isa13)))
    plan: list[Fixture] = list(good)
    for j in range(bad):
        text = rng.choice(BAD_TEXTS).format(po=f"X{run_tag}{j:04d}") + f"# noise {rng.getrandbits(64):016x}\n"
        fixture = Fixture(name=f"bad-{j:03d}.txt", data=text.encode("utf-8", "surrogateescape"), kind="bad")
        plan.insert(rng.randrange(0, len(plan) + 1), fixture)
    for j in range(resends):
        # Repeat one of the first two thirds of the good files, dropped at least a few files later than it.
        source = good[rng.randrange(0, max(1, (2 * len(good)) // 3))]
        position = plan.index(source)
        at = rng.randrange(min(len(plan), position + 5), len(plan) + 1)
        plan.insert(at, Fixture(name=f"resend-{j:03d}-{source.name}", data=source.data, kind="resend",
                                isa13=source.isa13, gs06=source.gs06, original=source.name))
    names = [f.name for f in plan]
    assert len(names) == len(set(names)), "file names must be unique"
    return plan


# ---------------------------------------------------------------------------------------------------------------------
# Feeding


class Feeder(threading.Thread):
    """Drops the fixtures into the inbox at a steady pace. A re-send is held back until the file it repeats has left
    the inbox (claimed), so that the original is always the one processed first, whatever the kills do."""

    def __init__(self, plan: list[Fixture], inbox: Path, interval: float, rng: random.Random,
                 chunk_pause: tuple[float, float]):
        super().__init__(name="feeder", daemon=True)
        self.plan = plan
        self.inbox = inbox
        self.interval = interval
        self.rng = rng
        self.chunk_pause = chunk_pause
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.dropped: list[str] = []
        self.timers: list[threading.Thread] = []
        self.pending_chunks: set[str] = set()
        self.lock = threading.Lock()

    def original_gone(self, fixture: Fixture) -> bool:
        assert fixture.original is not None
        with self.lock:
            if fixture.original in self.pending_chunks or fixture.original not in self.dropped:
                return False
        return not (self.inbox / fixture.original).exists()

    def run(self) -> None:
        try:
            waiting: list[Fixture] = []
            for fixture in self.plan:
                if self.stop.is_set():
                    return
                waiting = [w for w in waiting if not self.try_resend(w)]
                if fixture.kind == "resend" and not self.try_resend(fixture):
                    waiting.append(fixture)
                elif fixture.kind != "resend":
                    self.drop(fixture)
                pause = self.interval * self.rng.uniform(0.0, 2.0)
                if self.rng.random() < 0.05:
                    pause = 0.0  # now and then a burst
                if pause > 0:
                    self.stop.wait(pause)
            while waiting and not self.stop.is_set():
                waiting = [w for w in waiting if not self.try_resend(w)]
                if waiting:
                    self.stop.wait(0.05)
            for timer in self.timers:
                timer.join()
        except BaseException as error:  # reported by the main thread
            self.error = error

    def try_resend(self, fixture: Fixture) -> bool:
        if not self.original_gone(fixture):
            return False
        self.drop(fixture)
        return True

    def drop(self, fixture: Fixture) -> None:
        final = self.inbox / fixture.name
        if fixture.method == "chunks":
            # Written in place, in two chunks: the first never holds the IEA trailer, so the daemon must wait.
            cut = self.rng.randrange(40, max(41, fixture.data.rfind(b"IEA")))
            fd = os.open(final, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            os.write(fd, fixture.data[:cut])
            with self.lock:
                self.pending_chunks.add(fixture.name)
                self.dropped.append(fixture.name)

            def finish() -> None:
                try:
                    os.write(fd, fixture.data[cut:])
                finally:
                    os.close(fd)
                    with self.lock:
                        self.pending_chunks.discard(fixture.name)

            timer = threading.Timer(self.rng.uniform(*self.chunk_pause), finish)
            timer.daemon = True
            timer.start()
            self.timers.append(timer)
            return
        temporary = self.inbox / (f"{fixture.name}.part" if fixture.method == "part" else f".{fixture.name}.tmp")
        with open(temporary, "wb") as handle:
            handle.write(fixture.data)
        os.rename(temporary, final)
        with self.lock:
            self.dropped.append(fixture.name)


# ---------------------------------------------------------------------------------------------------------------------
# The daemon


class Daemon:
    """Starts, kills and stops `ordergate serve`, with its output appended to one log per run."""

    live: "list[Daemon]" = []  # every daemon object, so that main() can make sure none outlives the script

    def __init__(self, binary: Path, config: Path, log: Path):
        Daemon.live.append(self)
        self.binary = binary
        self.config = config
        self.log = log
        self.process: subprocess.Popen | None = None
        self.starts = 0
        self.log_offset = 0
        self.env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")}

    def note(self, text: str) -> None:
        with open(self.log, "a") as handle:
            now = time.time()
            stamp = time.strftime("%H:%M:%S", time.localtime(now)) + f".{int(now % 1 * 1000):03d}"
            handle.write(f"=== crash-test {stamp}: {text} ===\n")

    def start(self) -> None:
        assert self.process is None
        self.starts += 1
        self.note(f"start #{self.starts}")
        self.log_offset = self.log.stat().st_size
        with open(self.log, "ab") as handle:
            self.process = subprocess.Popen(
                [str(self.binary), "serve", "--config", str(self.config)],
                stdin=subprocess.DEVNULL, stdout=handle, stderr=handle,
                start_new_session=True, env=self.env, cwd=str(self.config.parent),
            )

    def ready(self) -> bool:
        """Whether the running daemon has logged that it is ready (after its recovery scan)."""
        with open(self.log, "rb") as handle:
            handle.seek(self.log_offset)
            return b"ordergate is ready" in handle.read()

    def exited(self) -> int | None:
        """The exit status if the daemon ended by itself (it is then reaped)."""
        if self.process is None:
            return None
        status = self.process.poll()
        if status is not None:
            self.process = None
            self.note(f"the daemon exited by itself with status {status}")
        return status

    def kill(self, after: float) -> None:
        if self.process is None:
            return
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.process = None
        self.note(f"SIGKILL after {after:.3f} s")

    def terminate(self, timeout: float) -> int | None:
        """SIGTERM; the exit status, or None when it did not exit within `timeout` (it is then killed)."""
        if self.process is None:
            return None
        self.note("SIGTERM")
        os.kill(self.process.pid, signal.SIGTERM)
        try:
            status = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()
            self.process = None
            self.note(f"no exit within {timeout} s of SIGTERM; killed")
            return None
        self.process = None
        self.note(f"exited with status {status}")
        return status

    def ensure_dead(self) -> None:
        if self.process is not None:
            try:
                os.kill(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()
            self.process = None


# ---------------------------------------------------------------------------------------------------------------------
# Checks


def files_under(folder: Path) -> list[Path]:
    if not folder.exists():
        return []
    return sorted(p for p in folder.rglob("*") if not p.is_dir())


def connect_read_only(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    connection.row_factory = sqlite3.Row
    return connection


def x12_segments(data: bytes) -> list[list[str]]:
    text = data.decode("ascii", "replace")
    if len(text) < 106 or not text.startswith("ISA"):
        return []
    element, terminator = text[3], text[105]
    return [piece.strip().split(element) for piece in text.split(terminator) if piece.strip()]


class Report:
    """The failures of one run, by category, with how many of each."""

    def __init__(self) -> None:
        self.failures: dict[str, list[str]] = collections.OrderedDict()
        self.lost = 0
        self.doubled = 0

    def fail(self, category: str, detail: str) -> None:
        self.failures.setdefault(category, []).append(detail)

    @property
    def ok(self) -> bool:
        return not self.failures

    def print(self, prefix: str, limit: int = 8) -> None:
        for category, details in self.failures.items():
            print(f"{prefix}FAIL {category}: {len(details)}")
            for detail in details[:limit]:
                print(f"{prefix}    {detail}")
            if len(details) > limit:
                print(f"{prefix}    ... and {len(details) - limit} more")


def check_run(root: Path, plan: list[Fixture], report: Report) -> None:
    data = root / "data"
    outbox = root / "outbox"
    database = data / "ordergate.sqlite"
    if not database.exists():
        report.fail("database", f"{database} does not exist")
        return
    dropped = {f.name: f for f in plan}
    connection = connect_read_only(database)
    try:
        integrity = [row[0] for row in connection.execute("PRAGMA integrity_check")]
        if integrity != ["ok"]:
            report.fail("integrity_check", "; ".join(integrity[:10]))

        rows = [dict(r) for r in connection.execute("SELECT * FROM files ORDER BY id")]
        by_name: dict[str, list[dict]] = collections.defaultdict(list)
        for row in rows:
            by_name[row["original_name"]].append(row)
        file_by_id = {row["id"]: row for row in rows}

        # Exactly one row per dropped name.
        for name, fixture in dropped.items():
            found = by_name.get(name, [])
            originals = [r for r in found if r["reprocess_of"] is None]
            if not found:
                report.lost += 1
                report.fail("lost (no files row)", f"{name} ({fixture.kind})")
            elif len(found) > 1:
                report.doubled += 1
                report.fail("doubled (several files rows)",
                            f"{name}: rows " + ", ".join(f"{r['id']}={r['state']}" for r in found))
            elif not originals:
                report.fail("files row is a reprocess", f"{name}: reprocess_of={found[0]['reprocess_of']}")
        for name in by_name:
            if name not in dropped:
                report.fail("files row for a name never dropped", f"{name}: rows {[r['id'] for r in by_name[name]]}")

        expected_state = {"good": "processed", "bad": "quarantined", "resend": "duplicate"}
        for name, fixture in dropped.items():
            found = by_name.get(name, [])
            if len(found) != 1:
                continue
            row = found[0]
            if row["state"] != expected_state[fixture.kind]:
                report.fail("wrong file state", f"{name} ({fixture.kind}): {row['state']}, expected "
                            f"{expected_state[fixture.kind]}; error: {(row['error'] or '').splitlines()[:2]}")
            if row["partner_id"] != PARTNER or row["channel"] != "inbox":
                report.fail("wrong partner or channel", f"{name}: {row['partner_id']} / {row['channel']}")
            if row["sha256"] != fixture.sha256 or row["size"] != len(fixture.data):
                report.fail("files row sha256/size differs from what was dropped",
                            f"{name}: {row['sha256'][:12]}../{row['size']} vs {fixture.sha256[:12]}../"
                            f"{len(fixture.data)}")
            if fixture.kind == "resend":
                original = by_name.get(fixture.original or "", [])
                if len(original) == 1 and row["duplicate_of"] != original[0]["id"]:
                    report.fail("duplicate_of does not name the original",
                                f"{name}: duplicate_of={row['duplicate_of']}, original row {original[0]['id']}")
            stored_path = row["stored_path"] or ""
            want_prefix = "quarantine/" if fixture.kind == "bad" else "archive/"
            if not stored_path.startswith(want_prefix) or not stored_path.endswith("-" + name):
                report.fail("unexpected stored_path", f"{name}: {stored_path!r}")
            stored = data / stored_path
            if not stored.is_file():
                report.lost += 1
                report.fail("lost (stored copy missing)", f"{name}: {stored_path}")
            else:
                content = stored.read_bytes()
                if content != fixture.data:
                    report.fail("stored copy differs from what was dropped",
                                f"{name}: {stored_path} ({len(content)} bytes, sha256 "
                                f"{hashlib.sha256(content).hexdigest()[:12]}.. vs {len(fixture.data)} bytes, "
                                f"{fixture.sha256[:12]}..)")
            if fixture.kind == "bad":
                error_report = data / (stored_path + ".error.txt")
                if not error_report.is_file():
                    report.fail("quarantined file without .error.txt", f"{name}: {stored_path}.error.txt")
                elif not error_report.read_bytes().startswith(f"file ID: {row['id']}\n".encode()):
                    report.fail(".error.txt does not start with its file ID (empty or cut short?)",
                                f"{name}: {stored_path}.error.txt holds {error_report.stat().st_size} bytes: "
                                f"{error_report.read_bytes()[:40]!r}")

        # Stray files in the archive and the quarantine (a copy stored twice, a half-finished move).
        referenced = {row["stored_path"] for row in rows}
        for path in files_under(data / "archive") + files_under(data / "quarantine"):
            relative = str(path.relative_to(data))
            base = relative[: -len(".error.txt")] if relative.endswith(".error.txt") else relative
            if base not in referenced:
                report.fail("stray file in archive/quarantine", relative)

        # Interchanges.
        interchanges = [dict(r) for r in connection.execute("SELECT * FROM interchanges ORDER BY id")]
        interchanges_by_file: dict[int, list[dict]] = collections.defaultdict(list)
        for row in interchanges:
            interchanges_by_file[row["file_id"]].append(row)
        for name, fixture in dropped.items():
            found = by_name.get(name, [])
            if len(found) != 1:
                continue
            mine = interchanges_by_file.get(found[0]["id"], [])
            if fixture.kind == "bad":
                if mine:
                    report.fail("interchange stored for a quarantined file", name)
                continue
            if len(mine) != 1:
                report.fail("not exactly one interchange per EDI file", f"{name}: {len(mine)}")
                continue
            if mine[0]["control_number"] != fixture.isa13:
                report.fail("interchange control number", f"{name}: {mine[0]['control_number']} vs {fixture.isa13}")
            want = "duplicate" if fixture.kind == "resend" else "accepted"
            if mine[0]["status"] != want:
                report.fail("interchange status", f"{name}: {mine[0]['status']}, expected {want}")

        # Orders: exactly one live order per good PO, nothing else.
        orders = [dict(r) for r in connection.execute("SELECT * FROM orders ORDER BY id")]
        live = collections.defaultdict(list)
        for order in orders:
            if order["duplicate_of"] is None:
                live[order["po_number"]].append(order)
            else:
                report.fail("order stored as a duplicate (no PO is sent twice as a new interchange)",
                            f"order {order['id']} PO {order['po_number']} duplicate_of {order['duplicate_of']}")
        good = {f.po: f for f in plan if f.kind == "good"}
        for po, fixture in good.items():
            mine = live.get(po, [])
            if not mine:
                report.fail("no order for a good file", f"PO {po} ({fixture.name})")
            elif len(mine) > 1:
                report.doubled += 1
                report.fail("doubled (several live orders for one PO)",
                            f"PO {po}: orders {[o['id'] for o in mine]}")
            else:
                row = by_name.get(fixture.name, [])
                if len(row) == 1 and mine[0]["file_id"] != row[0]["id"]:
                    report.fail("order belongs to another file", f"PO {po}: file {mine[0]['file_id']}")
        for po in live:
            if po not in good:
                report.fail("order for an unknown PO", f"PO {po}")
        live_count = sum(len(v) for v in live.values())
        if live_count != len(good):
            report.fail("count of live orders", f"{live_count} orders with duplicate_of NULL, {len(good)} good files")

        # Decisions and reservations: every live order decided exactly once, in the transaction that stored it; the
        # stock's reserved figure is the sum of the active reservations, never more than is available.
        decided = collections.Counter(
            r[0] for r in connection.execute("SELECT order_id FROM order_decisions"))
        for po, mine in live.items():
            for order in mine:
                if decided[order["id"]] != 1:
                    report.fail("order not decided exactly once", f"order {order['id']} PO {po}: {decided[order['id']]}")
        reserved = collections.defaultdict(decimal.Decimal)
        for node, sku, quantity in connection.execute(
                "SELECT node_id, sku, quantity FROM reservations WHERE state = 'active'"):
            reserved[(node, sku)] += decimal.Decimal(quantity)
        for node, sku, on_hand, stock_reserved, safety in connection.execute(
                "SELECT node_id, sku, on_hand, reserved, safety_stock FROM stock"):
            if decimal.Decimal(stock_reserved) != reserved[(node, sku)]:
                report.fail("stock reserved differs from its active reservations",
                            f"{node} {sku}: {stock_reserved} vs {reserved[(node, sku)]}")
            if decimal.Decimal(stock_reserved) > decimal.Decimal(on_hand) - decimal.Decimal(safety):
                report.fail("more reserved than available", f"{node} {sku}: {stock_reserved} of {on_hand}")

        # Acknowledgements.
        outbound = {r["id"]: dict(r) for r in connection.execute("SELECT * FROM outbound ORDER BY id")}
        acks = [dict(r) for r in connection.execute("SELECT * FROM acknowledgements ORDER BY id")]
        acks_by_file: dict[int, list[dict]] = collections.defaultdict(list)
        interchange_file = {row["id"]: row["file_id"] for row in interchanges}
        for ack in acks:
            acks_by_file[ack["file_id"]].append(ack)
            if ack["interchange_id"] is not None and interchange_file.get(ack["interchange_id"]) != ack["file_id"]:
                report.fail("acknowledgement answers another file's interchange", f"ack {ack['id']}")
            if ack["outbound_id"] not in outbound:
                report.fail("acknowledgement without outbound row", f"ack {ack['id']}")
        for name, fixture in dropped.items():
            found = by_name.get(name, [])
            if len(found) != 1:
                continue
            mine = acks_by_file.get(found[0]["id"], [])
            kinds = collections.Counter(a["kind"] for a in mine)
            if fixture.kind == "bad":
                if mine:
                    report.fail("acknowledgement for a quarantined file", f"{name}: {dict(kinds)}")
                continue
            want = "997" if fixture.kind == "good" else "TA1"
            other = "TA1" if want == "997" else "997"
            # The rules answer each good file's order with exactly one 855 (committed with the order and its 997).
            wanted_855 = 1 if fixture.kind == "good" else 0
            if kinds["855"] != wanted_855:
                bucket = "doubled" if kinds["855"] > wanted_855 else "missing"
                report.fail(f"855 acknowledgements {bucket}", f"{name}: {dict(kinds)}")
            if kinds[want] != 1 or kinds[other] != 0:
                bucket = "doubled" if kinds[want] > 1 else "missing or wrong"
                report.fail(f"{want} acknowledgements {bucket}", f"{name}: {dict(kinds)}")
                continue
            ack = next(a for a in mine if a["kind"] == want)
            segments = x12_segments(bytes(outbound[ack["outbound_id"]]["content"])) \
                if ack["outbound_id"] in outbound else []
            if want == "997":
                ak1 = next((s for s in segments if s[0] == "AK1"), None)
                ak9 = next((s for s in segments if s[0] == "AK9"), None)
                if ack["status"] != "A" or not ak1 or ak1[2] != fixture.gs06 or not ak9 or ak9[1] != "A":
                    report.fail("997 does not accept the file's group",
                                f"{name}: status {ack['status']}, AK1 {ak1}, AK9 {ak9}")
            else:
                ta1 = next((s for s in segments if s[0] == "TA1"), None)
                if not ta1 or ta1[1] != fixture.isa13 or ta1[4:6] != ["R", "025"]:
                    report.fail("TA1 is not R 025 for the re-sent interchange", f"{name}: {ta1}")

        # Outbound rows and the outbox.
        expected_outbox: dict[str, bytes] = {}
        for row in outbound.values():
            relative = os.path.normpath(os.path.join(row["folder"], row["file_name"]))
            expected_outbox[relative] = bytes(row["content"])
            if row["state"] != "written":
                report.fail("outbound row not written", f"outbound {row['id']} {row['file_name']}: {row['state']}")
            path = root / relative
            if not path.is_file():
                report.fail("outbox file missing", f"outbound {row['id']}: {relative}")
            elif path.read_bytes() != bytes(row["content"]):
                report.fail("outbox file differs from its row", f"outbound {row['id']}: {relative}")
        for path in files_under(outbox):
            relative = str(path.relative_to(root))
            if relative not in expected_outbox:
                report.fail("extra file in the outbox", relative)
        ack_outbound = collections.Counter(a["outbound_id"] for a in acks)
        for outbound_id, count in ack_outbound.items():
            if count > 1:
                report.fail("outbound row shared by several acknowledgements", f"outbound {outbound_id}")

        # Control numbers never reused.
        isa13s: dict[str, list[int]] = collections.defaultdict(list)
        gs06s: dict[str, list[int]] = collections.defaultdict(list)
        for row in outbound.values():
            segments = x12_segments(bytes(row["content"]))
            isa = next((s for s in segments if s[0] == "ISA"), None)
            if isa is None or len(isa) < 14:
                report.fail("outbound document without ISA", f"outbound {row['id']}")
                continue
            isa13s[isa[13]].append(row["id"])
            if row["control_number"] is not None and int(row["control_number"]) != int(isa[13]):
                report.fail("outbound control_number differs from its ISA13",
                            f"outbound {row['id']}: {row['control_number']} vs {isa[13]}")
            for segment in segments:
                if segment[0] == "GS":
                    gs06s[segment[6]].append(row["id"])
        for number, ids in isa13s.items():
            if len(ids) > 1:
                report.fail("ISA13 reused in our acknowledgements", f"{number}: outbound {ids}")
        for number, ids in gs06s.items():
            if len(ids) > 1:
                report.fail("GS06 reused in our acknowledgements", f"{number}: outbound {ids}")
        counters = {(r["kind"]): r["value"] for r in
                    connection.execute("SELECT kind, value FROM control_numbers WHERE partner_id = ?", (PARTNER,))}
        if isa13s and counters.get("interchange", 0) < max(int(n) for n in isa13s):
            report.fail("interchange counter behind the numbers used",
                        f"counter {counters.get('interchange')}, max used {max(int(n) for n in isa13s)}")
    finally:
        connection.close()

    # Leftovers.
    for folder in (outbox, data):
        for path in files_under(folder):
            if path.name.endswith(".tmp"):
                report.fail(".tmp file left behind", str(path.relative_to(root)))
    work = files_under(data / "work")
    for path in work:
        report.fail("file left in data/work", str(path.relative_to(root)))
    inbox_left = files_under(root / "inbox" / PARTNER)
    for path in inbox_left:
        report.fail("file left in the inbox", str(path.relative_to(root)))


def check_status(binary: Path, config: Path, plan: list[Fixture], report: Report) -> None:
    """`ordergate status --json` must tell the same counts."""
    kinds = collections.Counter(f.kind for f in plan)
    expected = {
        "files": {k: v for k, v in (("processed", kinds["good"]), ("duplicate", kinds["resend"]),
                                     ("quarantined", kinds["bad"])) if v},
        "acknowledgements": {k: v for k, v in (("997", kinds["good"]), ("855", kinds["good"]),
                                                ("TA1", kinds["resend"])) if v},
        "outbound": {"written": 2 * kinds["good"] + kinds["resend"]},
    }
    try:
        done = subprocess.run([str(binary), "status", "--json", "--config", str(config)], capture_output=True,
                              timeout=60, cwd=str(config.parent))
    except subprocess.TimeoutExpired:
        report.fail("status --json", "no answer within 60 s")
        return
    if done.returncode != 0:
        report.fail("status --json", f"exit status {done.returncode}: {done.stderr.decode(errors='replace')[-300:]}")
        return
    try:
        summary = json.loads(done.stdout)
    except ValueError as error:
        report.fail("status --json", f"not JSON ({error}): {done.stdout[:200]!r}")
        return
    for key, want in expected.items():
        if summary.get(key) != want:
            report.fail("status --json counts", f"{key}: {summary.get(key)}, expected {want}")


# ---------------------------------------------------------------------------------------------------------------------
# One run


@dataclass
class RunResult:
    index: int
    root: Path
    log: Path
    dropped: int = 0
    kills: int = 0
    resent: int = 0
    report: Report = field(default_factory=Report)
    seconds: float = 0.0


def with_push_endpoint(mappings: Path, root: Path, port: int) -> Path:
    """A copy of the mapping folder in which acme's profile names the receiver as its push endpoint."""
    copy = root / "mappings"
    shutil.copytree(mappings, copy)
    profile = copy / "partners" / f"{PARTNER}.yaml"
    lines = profile.read_text().splitlines(keepends=True)
    for index, line in enumerate(lines):
        if line.startswith("transports:"):
            lines.insert(index + 1, f'  push: {{ url: "http://127.0.0.1:{port}/inbound", timeoutSeconds: 5 }}\n')
            break
    else:
        lines.append(f'transports:\n  push: {{ url: "http://127.0.0.1:{port}/inbound", timeoutSeconds: 5 }}\n')
    profile.write_text("".join(lines))
    return copy


def check_deliveries(root: Path, receiver: PushReceiver, report: Report) -> None:
    """Every outbound row was queued for delivery and delivered, and the receiver holds its bytes under its key."""
    connection = connect_read_only(root / "data" / "ordergate.sqlite")
    try:
        rows = connection.execute(
            "SELECT o.id, o.content, d.state FROM outbound o LEFT JOIN deliveries d ON d.outbound_id = o.id"
        ).fetchall()
    finally:
        connection.close()
    # Keys are <installation>-<outbound row ID>, one installation per database.
    bodies = {key.rsplit("-", 1)[-1]: body for key, body in receiver.bodies.items()}
    prefixes = {key.rsplit("-", 1)[0] for key in receiver.bodies}
    if len(prefixes) > 1:
        report.fail("idempotency keys with more than one installation prefix", f"{sorted(prefixes)[:3]}")
    for outbound_id, content, state in rows:
        if state is None:
            report.fail("outbound row not queued for delivery", f"outbound {outbound_id}")
        elif state != "delivered":
            report.fail("delivery not finished", f"outbound {outbound_id}: {state}")
        received = bodies.get(str(outbound_id))
        if received is None:
            report.fail("document never received by the partner", f"outbound {outbound_id}")
            report.lost += 1
        elif received != bytes(content):
            report.fail("document received with other bytes", f"outbound {outbound_id}")
    known = {str(row[0]) for row in rows}
    strangers = [key for key in bodies if key not in known]
    if strangers:
        report.fail("the receiver got keys of no outbound row", f"{strangers[:5]}")


def write_config(root: Path, args: argparse.Namespace, mappings: Path) -> Path:
    config = root / "ordergate.yaml"
    config.write_text(
        "# Written by scripts/crash-test.py\n"
        "paths:\n"
        "  inbox: inbox\n"
        "  outbox: outbox\n"
        f"  mappings: {mappings}\n"
        "  data: data\n"
        "inbox:\n"
        "  rescanSeconds: 1\n"
        f"  settleMilliseconds: {args.settle_ms}\n"
        "  incompleteAfterSeconds: 86400\n"
        f"  inotify: {'false' if args.no_inotify else 'true'}\n"
        "log:\n"
        f"  level: {args.log_level}\n"
        "api:\n"
        "  port: 0\n"
        "delivery:\n"
        "  minimumRetrySeconds: 1\n"
        "  maximumRetrySeconds: 2\n"
    )
    return config


def wait_drained(root: Path, daemon: Daemon, timeout: float, feeder: Feeder, wait_ready: bool) -> str | None:
    """Waits until the daemon said it is ready (when its log level shows that), the feeder is done, inbox/acme is
    empty, data/work is empty and no outbound row is pending. Returns None when drained, else what was waiting."""
    deadline = time.monotonic() + timeout
    database = root / "data" / "ordergate.sqlite"
    inbox = root / "inbox" / PARTNER
    work = root / "data" / "work"
    what = "nothing checked yet"
    ready_since = None
    while time.monotonic() < deadline:
        status = daemon.exited()
        if status is not None:
            return f"the daemon exited by itself with status {status} while draining"
        if ready_since is None and (not wait_ready or daemon.ready()):
            ready_since = time.monotonic()
        if ready_since is None:
            what = "the daemon has not logged 'ordergate is ready'"
        elif time.monotonic() - ready_since < 0.5:
            what = "the daemon logged 'ordergate is ready' less than 0.5 s ago"  # its signal handlers come next
        elif feeder.is_alive():
            what = "the feeder is still dropping files"
        else:
            inbox_left = [p.name for p in inbox.iterdir()] if inbox.exists() else []
            work_left = files_under(work)
            if inbox_left:
                what = f"{len(inbox_left)} files in inbox/{PARTNER} (e.g. {sorted(inbox_left)[:3]})"
            elif work_left:
                what = f"{len(work_left)} files in data/work"
            else:
                try:
                    connection = connect_read_only(database)
                    try:
                        pending = connection.execute("SELECT COUNT(*) FROM outbound WHERE state = 'pending'")
                        count = pending.fetchone()[0]
                        waiting = connection.execute("SELECT COUNT(*) FROM deliveries WHERE state = 'waiting'")
                        undelivered = waiting.fetchone()[0]
                    finally:
                        connection.close()
                    if count == 0 and undelivered == 0:
                        return None
                    what = f"{count} outbound rows pending" if count else f"{undelivered} deliveries waiting"
                except sqlite3.Error as error:
                    what = f"cannot read the database: {error}"
        time.sleep(0.1)
    return what


def run_once(index: int, args: argparse.Namespace, binary: Path, session: Path, rng: random.Random,
             template: X12Template) -> RunResult:
    root = session / f"run-{index:03d}"
    root.mkdir()
    (root / "inbox" / PARTNER).mkdir(parents=True)
    log = root / "daemon.log"
    result = RunResult(index=index, root=root, log=log)
    started = time.monotonic()
    run_tag = f"{rng.randrange(36 ** 4):04X}"[-4:]
    plan = generate(rng, template, args.files, args.bad, args.resends, args.chunked_fraction, run_tag)
    receiver = PushReceiver()
    config = write_config(root, args, with_push_endpoint(args.mappings, root, receiver.port))
    # The sample business data, so that the rules decide every order and reserve stock while the kills come.
    for kind in ("items", "nodes", "prices", "contracts", "credit", "stock", "locations"):
        subprocess.run([str(binary), "import", kind, str(REPO / "examples" / "data" / f"{kind}.csv"),
                        "--config", str(config)], check=True, stdout=subprocess.DEVNULL, cwd=str(root))
    daemon = Daemon(binary, config, log)
    kill_phase = args.kills * ((args.kill_min + args.kill_max) / 2 + args.down_max / 2)
    interval = args.feed_interval if args.feed_interval is not None else 0.8 * kill_phase / max(1, len(plan))
    feeder = Feeder(plan, root / "inbox" / PARTNER, interval, random.Random(rng.random()),
                    (args.chunk_pause_min, args.chunk_pause_max))
    report = result.report
    try:
        feeder.start()
        for kill in range(args.kills):
            daemon.start()
            delay = rng.uniform(args.kill_min, args.kill_max)
            deadline = time.monotonic() + delay
            status = None
            while time.monotonic() < deadline:
                status = daemon.exited()
                if status is not None:
                    break
                time.sleep(min(0.01, max(0.0, deadline - time.monotonic())))
            if status is not None:
                report.fail("daemon exited by itself between kills",
                            f"start #{daemon.starts}: exit status {status} (see the log)")
            else:
                daemon.kill(delay)
                result.kills += 1
            down = rng.uniform(0.0, args.down_max)
            if down > 0:
                time.sleep(down)
        daemon.start()
        wait_ready = args.log_level in ("trace", "debug", "info", "notice")
        drained = wait_drained(root, daemon, args.drain_timeout, feeder, wait_ready)
        if drained is not None:
            report.fail("did not drain", f"after {args.drain_timeout:.0f} s: {drained}")
        if feeder.is_alive():
            feeder.stop.set()
            feeder.join(5)
        if feeder.error is not None:
            report.fail("feeder failed", repr(feeder.error))
        if daemon.process is not None:
            status = daemon.terminate(args.term_timeout)
            if status is None:
                report.fail("SIGTERM", f"the daemon did not exit within {args.term_timeout} s")
            elif status != 0:
                report.fail("SIGTERM", f"the daemon exited with status {status}, expected 0")
        result.dropped = len(feeder.dropped)
        if len(feeder.dropped) != len(plan):
            never = [f.name for f in plan if f.name not in set(feeder.dropped)]
            report.fail("not every file was dropped (test problem)", f"{len(never)}: {never[:5]}")
            plan = [f for f in plan if f.name in set(feeder.dropped)]
        check_run(root, plan, report)  # after a failed drain too: worth knowing what else is wrong
        check_deliveries(root, receiver, report)
        result.resent = receiver.posts - len(receiver.bodies)
        if drained is None:
            check_status(binary, config, plan, report)
    finally:
        feeder.stop.set()
        daemon.ensure_dead()
        feeder.join(5)
    result.seconds = time.monotonic() - started
    return result


def log_tail(path: Path, lines: int) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(text[-lines:])


def log_counts(path: Path) -> dict[str, int]:
    counts = collections.Counter()
    try:
        for line in path.read_text(errors="replace").splitlines():
            if "recovery finished" in line:
                counts["recoveries"] += 1
            if "recovered a committed file" in line:
                counts["committed files finished"] += 1
            if "processing failed" in line:
                counts["processing failed"] += 1
            if "ordergate is ready" in line:
                counts["ready"] += 1
    except OSError:
        pass
    return dict(counts)


# ---------------------------------------------------------------------------------------------------------------------
# Main


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=2, help="runs, each on a fresh folder (default 2)")
    parser.add_argument("--kills", type=int, default=5, help="SIGKILLs per run (default 5)")
    parser.add_argument("--files", type=int, default=150, help="good 850 files per run (default 150)")
    parser.add_argument("--bad", type=int, default=None, help="files that are not EDI, per run (default files/30, >=2)")
    parser.add_argument("--resends", type=int, default=None,
                        help="exact re-sends of earlier files, per run (default files/30, >=2)")
    parser.add_argument("--chunked-fraction", type=float, default=0.1,
                        help="share of good files written in place in two chunks (default 0.1)")
    parser.add_argument("--chunk-pause-min", type=float, default=0.2)
    parser.add_argument("--chunk-pause-max", type=float, default=0.6)
    parser.add_argument("--kill-min", type=float, default=0.05, help="earliest kill after a start, s (default 0.05)")
    parser.add_argument("--kill-max", type=float, default=1.5, help="latest kill after a start, s (default 1.5)")
    parser.add_argument("--down-max", type=float, default=0.3,
                        help="the daemon stays down up to this long after a kill, s (default 0.3)")
    parser.add_argument("--feed-interval", type=float, default=None,
                        help="mean pause between drops, s (default: spread the files over the kill phase)")
    parser.add_argument("--settle-ms", type=int, default=100, help="inbox.settleMilliseconds (default 100)")
    parser.add_argument("--no-inotify", action="store_true", help="run the daemon with inotify off (polling)")
    parser.add_argument("--log-level", default="info", help="daemon log level (default info)")
    parser.add_argument("--drain-timeout", type=float, default=None,
                        help="how long the final start may take to drain, s (default 60 + files/5)")
    parser.add_argument("--term-timeout", type=float, default=5.0,
                        help="how long SIGTERM may take, s (default 5)")
    parser.add_argument("--binary", type=Path, default=DEFAULT_BINARY, help=f"default {DEFAULT_BINARY}")
    parser.add_argument("--no-copy-binary", action="store_true",
                        help="run the binary in place (default: run a copy, so a rebuild cannot change it mid-test)")
    parser.add_argument("--mappings", type=Path, default=DEFAULT_MAPPINGS, help=f"default {DEFAULT_MAPPINGS}")
    parser.add_argument("--template", type=Path, default=DEFAULT_TEMPLATE, help=f"default {DEFAULT_TEMPLATE}")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: random; printed)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders")
    parser.add_argument("--keep-failed", action="store_true", help="keep the temporary folders when a run fails")
    parser.add_argument("--stop-on-failure", action="store_true", help="stop after the first failed run")
    parser.add_argument("--log-tail", type=int, default=40, help="log lines shown for a failed run (default 40)")
    parser.add_argument("--generate-only", type=Path, metavar="DIR",
                        help="write one run's generated files into DIR and exit")
    args = parser.parse_args(argv)
    if args.bad is None:
        args.bad = max(2, args.files // 30)
    if args.resends is None:
        args.resends = max(2, args.files // 30)
    if args.drain_timeout is None:
        args.drain_timeout = 60 + args.files / 5
    if args.files < 1 or args.runs < 1 or args.kills < 0:
        parser.error("--files and --runs must be at least 1, --kills at least 0")
    if not 0 < args.kill_min <= args.kill_max:
        parser.error("need 0 < --kill-min <= --kill-max")
    args.mappings = args.mappings.resolve()
    return args


class Interrupted(Exception):
    pass


def main(argv: list[str]) -> int:
    args = parse_arguments(argv)
    seed = args.seed if args.seed is not None else random.randrange(2 ** 32)
    rng = random.Random(seed)
    try:
        template = X12Template(args.template.read_bytes())
    except (OSError, ValueError) as error:
        print(f"crash-test: cannot use the template {args.template}: {error}", file=sys.stderr)
        return 2

    if args.generate_only is not None:
        args.generate_only.mkdir(parents=True, exist_ok=True)
        plan = generate(rng, template, args.files, args.bad, args.resends, args.chunked_fraction, "GEN0")
        for fixture in plan:
            (args.generate_only / fixture.name).write_bytes(fixture.data)
        print(f"crash-test: wrote {len(plan)} files to {args.generate_only} (seed {seed})")
        return 0

    if not args.binary.is_file() or not os.access(args.binary, os.X_OK):
        print(f"crash-test: no executable at {args.binary} (build it first)", file=sys.stderr)
        return 2
    if not (args.mappings / "partners" / f"{PARTNER}.yaml").is_file():
        print(f"crash-test: no partner profile {PARTNER}.yaml under {args.mappings}", file=sys.stderr)
        return 2

    def on_signal(number, _frame):
        raise Interrupted(signal.Signals(number).name)

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGHUP)}
    session = Path(tempfile.mkdtemp(prefix="ordergate-crash-"))
    results: list[RunResult] = []
    failed = False
    interrupted = None
    try:
        binary = args.binary.resolve()
        if not args.no_copy_binary:
            copy = session / "ordergate"
            shutil.copy2(binary, copy)
            binary = copy
        help_check = subprocess.run([str(binary), "serve", "--help"], capture_output=True, timeout=60)
        if help_check.returncode != 0:
            print(f"crash-test: `{binary} serve --help` failed (status {help_check.returncode}); "
                  f"is the binary built with the daemon?\n{help_check.stderr.decode(errors='replace')[-2000:]}",
                  file=sys.stderr)
            return 2
        print(f"crash-test: seed={seed} runs={args.runs} kills={args.kills} files={args.files} bad={args.bad} "
              f"resends={args.resends} folder={session}", flush=True)
        for index in range(1, args.runs + 1):
            result = run_once(index, args, binary, session, rng, template)
            results.append(result)
            counts = log_counts(result.log)
            state = "ok" if result.report.ok else "FAILED"
            print(f"crash-test: run {index}: {result.dropped} files, {result.kills} kills, "
                  f"{counts.get('ready', 0)} ready of {result.kills + 1} starts, "
                  f"{counts.get('recoveries', 0)} recoveries ({counts.get('committed files finished', 0)} committed "
                  f"files finished), {result.resent} deliveries resent after a kill, {result.seconds:.1f} s: {state}",
                  flush=True)
            if not result.report.ok:
                failed = True
                result.report.print(f"crash-test: run {index}: ")
                print(f"crash-test: run {index}: last {args.log_tail} lines of {result.log}:")
                print("\n".join("    " + line for line in log_tail(result.log, args.log_tail).splitlines()))
                if args.stop_on_failure:
                    break
    except (Interrupted, KeyboardInterrupt) as error:
        interrupted = str(error) or "interrupted"
        failed = True
    finally:
        for daemon in Daemon.live:
            daemon.ensure_dead()
        for number, handler in previous.items():
            signal.signal(number, handler)
        keep = args.keep or (failed and args.keep_failed)
        if keep:
            print(f"crash-test: kept {session}")
        else:
            shutil.rmtree(session, ignore_errors=True)
            if failed:
                print("crash-test: (the folders were removed; --keep-failed keeps them for a look)")

    if interrupted:
        print(f"crash-test: interrupted ({interrupted})", file=sys.stderr)
        return 1
    lost = sum(r.report.lost for r in results)
    doubled = sum(r.report.doubled for r in results)
    files = sum(r.dropped for r in results)
    kills = sum(r.kills for r in results)
    failures = sum(sum(len(v) for v in r.report.failures.values()) for r in results)
    verdict = "ok" if not failed else f"FAILED ({failures} failed checks in " \
        f"{sum(1 for r in results if not r.report.ok)} of {len(results)} runs)"
    print(f"crash-test: runs={len(results)} kills={kills} files={files} lost={lost} doubled={doubled} {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
