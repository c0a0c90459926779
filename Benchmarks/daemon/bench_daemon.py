#!/usr/bin/env python3
"""Daemon benchmarks (issue 4), run against a release build of `ordergate serve` on a temporary folder.

throughput: N files (one 20-line acme 850 each) are renamed into inbox/acme at once; the figure is files (= orders)
            per second until every 997 is in the outbox (written, fsynced, linked, folder fsynced, row marked).
latency:    files arrive at RATE per second for SECONDS; for each file, the time from its rename into the inbox to
            its 997 appearing in the outbox; p50 and p99.
delivery:   acme gets a push endpoint on a local receiver (asyncio, HTTP/1.1 keep-alive, answers 200 and counts
            each Idempotency-Key once). N files are processed with delivery off (each 997 is queued for delivery
            and written to the outbox), then the daemon is restarted with delivery on and drains the backlog: the
            figure is documents per second from the daemon's start to the last one received (and from the first
            received to the last).

With --rules on (the default) the daemon runs the business rules on every order against a generated catalogue
(the 20 items the orders name, one price list, one warehouse with ample stock, a large credit limit), and every file
also gets its 855: the figure counts a file as done when both its 997 and its 855 are in the outbox. --rules off
stores and validates the orders only (997 alone), for the comparison.

    swift build -c release --product ordergate
    python3 Benchmarks/daemon/bench_daemon.py throughput --files 10000 [--rules off]
    python3 Benchmarks/daemon/bench_daemon.py latency --rate 100 --seconds 20
    python3 Benchmarks/daemon/bench_daemon.py delivery --files 5000
"""
import argparse
import os
import sqlite3
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

REPOSITORY = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPOSITORY, "scripts"))
from push_receiver import PushReceiver  # noqa: E402  (the crash test's receiver too)


def order(number: int, lines: int = 20) -> bytes:
    control = f"{number:09d}"
    segments = [
        f"ISA*00*          *00*          *ZZ*ACMERETAIL     *ZZ*WIDGETWORKS    *261120*0930*U*00401*{control}*0*P*>",
        f"GS*PO*ACMERETAIL*WIDGETWORKS*20261120*0930*{number}*X*004010",
        "ST*850*0001",
        f"BEG*00*SA*BENCH-{number}**20261120",
        "N1*ST*ACME STORE 0042*92*0042",
    ]
    for line in range(1, lines + 1):
        segments.append(f"PO1*{line}*{line}*EA*4.25*PE*VP*WW-{1000 + line}")
    segments.append(f"CTT*{lines}*{lines * (lines + 1) // 2}")
    segments.append(f"SE*{len(segments) - 1}*0001")
    segments += [f"GE*1*{number}", f"IEA*1*{control}"]
    return ("~\n".join(segments) + "~\n").encode()


BUSINESS_DATA = {
    "items": "sku,description,vendorPart,baseUnit\n"
    + "".join(f"WW-{1000 + n},Bench item {n},WW-{1000 + n},EA\n" for n in range(1, 21)),
    "nodes": "node,kind,latitude,longitude\nDC-EAST,warehouse,39.9612,-82.9988\n",
    "prices": "priceList,sku,minQuantity,unitPrice,currency\n"
    + "".join(f"RETAIL-A,WW-{1000 + n},1,4.25,USD\n" for n in range(1, 21)),
    "credit": "account,limit,openBalance,currency\nACME,1000000000000,0,USD\n",
    "stock": "node,sku,onHand,safetyStock\n" + "".join(f"DC-EAST,WW-{1000 + n},100000000,0\n" for n in range(1, 21)),
}


class Daemon:
    def __init__(self, root: str, binary: str, rules: bool = False, mappings: str = None, delivery: bool = True):
        self.root = root
        config_path = os.path.join(root, "ordergate.yaml")
        with open(config_path, "w") as config:
            config.write(
                f"paths:\n  mappings: {mappings or os.path.join(REPOSITORY, 'mappings')}\n"
                "log:\n  level: warning\n"
                f"rules:\n  enabled: {'true' if rules else 'false'}\n"
                "api:\n  port: 0\n"
                f"delivery:\n  enabled: {'true' if delivery else 'false'}\n"
            )
        if rules:
            for kind, text in BUSINESS_DATA.items():
                path = os.path.join(root, f"{kind}.csv")
                with open(path, "w") as file:
                    file.write(text)
                subprocess.run([binary, "import", kind, path, "--config", config_path], check=True,
                               stdout=subprocess.DEVNULL)
        self.log = open(os.path.join(root, "serve.log"), "w")
        self.process = subprocess.Popen(
            [binary, "serve", "--config", os.path.join(root, "ordergate.yaml")],
            stdout=self.log, stderr=self.log, start_new_session=True,
        )
        deadline = time.time() + 60
        while not os.path.isdir(os.path.join(root, "inbox", "acme")) and time.time() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)
        self.log.close()


def outbox_count(folder: str) -> int:
    try:
        return sum(1 for entry in os.scandir(folder) if not entry.name.startswith("."))
    except FileNotFoundError:
        return 0


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process (all its threads) so far, from /proc."""
    with open(f"/proc/{pid}/stat") as file:
        fields = file.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def throughput(arguments):
    root = tempfile.mkdtemp(prefix="ordergate-bench-", dir=arguments.folder)
    try:
        staging = os.path.join(root, "staging")
        os.makedirs(staging)
        for number in range(1, arguments.files + 1):
            with open(os.path.join(staging, f"po-{number}.edi"), "wb") as file:
                file.write(order(number))
        rules = arguments.rules == "on"
        daemon = Daemon(root, arguments.binary, rules=rules)
        inbox = os.path.join(root, "inbox", "acme")
        outbox = os.path.join(root, "outbox", "acme")
        expected = arguments.files * (2 if rules else 1)
        cpu_before = cpu_seconds(daemon.process.pid)
        start = time.time()
        for number in range(1, arguments.files + 1):
            os.rename(os.path.join(staging, f"po-{number}.edi"), os.path.join(inbox, f"po-{number}.edi"))
        dropped = time.time()
        while outbox_count(outbox) < expected and time.time() - start < arguments.timeout:
            time.sleep(0.01)
        elapsed = time.time() - start
        cpu = cpu_seconds(daemon.process.pid) - cpu_before
        done = outbox_count(outbox) // (2 if rules else 1)
        daemon.stop()
        answers = "997 and 855" if rules else "997"
        print(f"throughput (rules {arguments.rules}): {done}/{arguments.files} files, each one order with {20} lines, "
              f"{answers} written and fsynced: {elapsed:.2f} s ({done / elapsed:.0f} orders/s; "
              f"dropping took {dropped - start:.2f} s; the daemon used {cpu:.2f} s of CPU, {cpu / elapsed:.2f} cores)")
    finally:
        if not arguments.keep:
            shutil.rmtree(root, ignore_errors=True)


def latency(arguments):
    root = tempfile.mkdtemp(prefix="ordergate-bench-", dir=arguments.folder)
    try:
        daemon = Daemon(root, arguments.binary)
        staging = os.path.join(root, "staging")
        os.makedirs(staging)
        inbox = os.path.join(root, "inbox", "acme")
        outbox = os.path.join(root, "outbox", "acme")
        total = arguments.rate * arguments.seconds
        for number in range(1, total + 1):
            with open(os.path.join(staging, f"po-{number}.edi"), "wb") as file:
                file.write(order(number))
        dropped_at = {}
        seen_at = {}
        finished = threading.Event()

        def watch():
            # Outbox files are named 997-acme-<row>.x12; rows are numbered in commit order, and each file's 997
            # names its group control number (= the file number) in AK1.
            known = set()
            while not finished.is_set():
                for entry in os.scandir(outbox) if os.path.isdir(outbox) else []:
                    if entry.name.startswith(".") or entry.name in known:
                        continue
                    known.add(entry.name)
                    now = time.time()
                    with open(entry.path, "rb") as file:
                        text = file.read().decode()
                    for segment in text.split("~"):
                        segment = segment.strip()
                        if segment.startswith("AK1*"):
                            seen_at[int(segment.split("*")[2])] = now
                time.sleep(0.0005)

        watcher = threading.Thread(target=watch)
        watcher.start()
        interval = 1.0 / arguments.rate
        start = time.time()
        for number in range(1, total + 1):
            target = start + (number - 1) * interval
            delay = target - time.time()
            if delay > 0:
                time.sleep(delay)
            dropped_at[number] = time.time()
            os.rename(os.path.join(staging, f"po-{number}.edi"), os.path.join(inbox, f"po-{number}.edi"))
        deadline = time.time() + 30
        while len(seen_at) < total and time.time() < deadline:
            time.sleep(0.01)
        finished.set()
        watcher.join()
        daemon.stop()
        latencies = sorted((seen_at[n] - dropped_at[n]) * 1000 for n in seen_at if n in dropped_at)
        if not latencies:
            print("latency: no acknowledgement seen")
            return 1
        def percentile(p):
            return latencies[min(len(latencies) - 1, int(len(latencies) * p))]
        print(f"latency: {len(latencies)}/{total} files at {arguments.rate}/s, drop to 997 in the outbox: "
              f"p50 {percentile(0.5):.1f} ms, p99 {percentile(0.99):.1f} ms, max {latencies[-1]:.1f} ms")
    finally:
        if not arguments.keep:
            shutil.rmtree(root, ignore_errors=True)
    return 0


def delivery(arguments):
    root = tempfile.mkdtemp(prefix="ordergate-bench-", dir=arguments.folder)
    try:
        receiver = PushReceiver()
        mappings = os.path.join(root, "mappings")
        shutil.copytree(os.path.join(REPOSITORY, "mappings"), mappings)
        profile = os.path.join(mappings, "partners", "acme.yaml")
        with open(profile) as file:
            text = file.read()
        anchor = "  outbox: acme     # a folder under the configured outbox folder\n"
        text = text.replace(anchor, anchor + f"  push: {{ url: \"http://127.0.0.1:{receiver.port}/inbound\" }}\n")
        with open(profile, "w") as file:
            file.write(text)
        staging = os.path.join(root, "staging")
        os.makedirs(staging)
        for number in range(1, arguments.files + 1):
            with open(os.path.join(staging, f"po-{number}.edi"), "wb") as file:
                file.write(order(number))
        # The backlog: every file processed, its 997 queued for delivery, while delivery is off.
        daemon = Daemon(root, arguments.binary, mappings=mappings, delivery=False)
        inbox = os.path.join(root, "inbox", "acme")
        outbox = os.path.join(root, "outbox", "acme")
        for number in range(1, arguments.files + 1):
            os.rename(os.path.join(staging, f"po-{number}.edi"), os.path.join(inbox, f"po-{number}.edi"))
        start = time.time()
        while outbox_count(outbox) < arguments.files and time.time() - start < arguments.timeout:
            time.sleep(0.05)
        daemon.stop()
        if receiver.posts:
            print("delivery: documents were sent while delivery was off")
            return 1
        # Delivery on: the daemon drains the backlog.
        start = time.time()
        daemon = Daemon(root, arguments.binary, mappings=mappings, delivery=True)
        while len(receiver.first_seen) < arguments.files and time.time() - start < arguments.timeout:
            time.sleep(0.01)
        received = len(receiver.first_seen)
        # Until every row is recorded delivered (the last batch's transaction may come just after its last POST).
        database = os.path.join(root, "data", "ordergate.sqlite")
        while time.time() - start < arguments.timeout:
            connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
            delivered = connection.execute("SELECT COUNT(*) FROM deliveries WHERE state = 'delivered'").fetchone()[0]
            connection.close()
            if delivered >= received:
                break
            time.sleep(0.01)
        recorded = time.time()
        daemon.stop()
        if not received:
            print("delivery: nothing received")
            return 1
        first, last = min(receiver.first_seen.values()), max(receiver.first_seen.values())
        print(f"delivery: {received}/{arguments.files} documents (997s) POSTed to a local receiver and recorded "
              f"delivered: {received / (last - start):.0f} documents/s from the daemon's start "
              f"({last - start:.2f} s), {received / max(last - first, 1e-6):.0f} documents/s first to last; "
              f"{receiver.posts} POSTs for {received} keys; all {delivered} rows recorded delivered "
              f"{recorded - start:.2f} s after the start ({delivered / (recorded - start):.0f} documents/s)")
    finally:
        if not arguments.keep:
            shutil.rmtree(root, ignore_errors=True)
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["throughput", "latency", "delivery"])
    parser.add_argument("--binary", default=os.path.join(REPOSITORY, ".build/release/ordergate"))
    parser.add_argument("--files", type=int, default=10000)
    parser.add_argument("--rate", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--folder", default=None, help="where the temporary folder goes (default: the system's)")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--rules", choices=["on", "off"], default="on",
                        help="throughput: run the business rules (997 and 855 per file) or not (997 only)")
    arguments = parser.parse_args()
    if not os.path.exists(arguments.binary):
        sys.exit(f"no {arguments.binary}: swift build -c release --product ordergate")
    if arguments.mode == "delivery":
        arguments.rules = "off"
        return delivery(arguments)
    return throughput(arguments) if arguments.mode == "throughput" else latency(arguments)


if __name__ == "__main__":
    sys.exit(main() or 0)
