#!/usr/bin/python3
"""warren-server --data-dir killed with SIGKILL at random points.

Each round starts warren-server on the same data directory; pika clients publish persistent
messages with publisher confirms to a durable classic queue and a quorum queue and consume them
with acknowledgements (basic.get and basic.consume, some held unacknowledged), and publish
transient and persistent messages with confirms to a stream, until the server is killed with
SIGKILL after a random number of confirms (a point of the clients' progress, not of the wall
clock). The server is started again and every queue read to the end: each message that was
confirmed and not acknowledged must be there, none whose acknowledgement the server had
answered (a later reply on the same channel came back) may be, nothing unknown or twice. The
stream, read from its first offset, must hold every message ever confirmed to it, in the order
each publisher sent them, at increasing offsets, and begin with what the round before found.
Then the journal is damaged (last record cut, a byte flipped, a foreign file) and the server
must start with a warning, or refuse with a clear error, never crash.

    tests/crash/crash_test.py WARREN_SERVER [--rounds N] [--seed S]

Prints what each round published, confirmed, acknowledged and found, and the lost messages
(none); exits non-zero on any loss, resurrection or crash.
"""
import argparse
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading

import pika
import pika.exceptions

QUEUES = {
    "crash-classic": {},
    "crash-quorum": {"x-queue-type": "quorum"},
}
STREAM = "crash-stream"
STREAM_ARGS = {"x-queue-type": "stream"}


class Server:
    def __init__(self, binary, data_dir, log_path):
        self.log_path = log_path
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen(
            [binary, "--port", "0", "--data-dir", data_dir, "--log-level", "info"],
            stdout=subprocess.PIPE, stderr=self.log)
        line = self.proc.stdout.readline().decode()
        m = re.search(r"listening on [\d.]+:(\d+)", line)
        if not m:
            self.proc.wait(timeout=10)
            raise RuntimeError(f"warren-server did not start (exit {self.proc.returncode}); see {log_path}")
        self.port = int(m.group(1))

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.log.close()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=30)
        self.log.close()
        return rc


class Ledger:
    """What the clients know, shared by their threads."""

    def __init__(self):
        self.lock = threading.Condition()
        self.attempted = set()
        self.confirmed = set()
        self.ack_sent = set()   # basic.ack sent: may or may not have reached the server
        self.acked = set()      # a later reply on the channel proves the server took the ack
        # The stream's, kept across rounds: nothing ever leaves a stream without retention.
        self.stream_attempted = set()
        self.stream_confirmed = set()
        self.stream_found = []  # (offset, body) the last check read

    def add(self, name, item):
        with self.lock:
            getattr(self, name).add(item)
            self.lock.notify_all()

    def wait_confirmed(self, count, timeout):
        """Blocks until `count` messages are confirmed in all; False if that took over `timeout` s."""
        with self.lock:
            return self.lock.wait_for(lambda: len(self.confirmed) >= count, timeout)


def connect(port):
    return pika.BlockingConnection(pika.ConnectionParameters(
        host="127.0.0.1", port=port, heartbeat=0, blocked_connection_timeout=30,
        connection_attempts=1, socket_timeout=5))


def publisher(port, ledger, prefix, stop, queues=tuple(QUEUES), kept="", transient=False):
    """Publishes with confirms to each of `queues` in turn, noting each body in the ledger's
    "<kept>attempted" and "<kept>confirmed" sets; every other message transient if `transient`."""
    n = 0
    try:
        conn = connect(port)
        ch = conn.channel()
        ch.confirm_delivery()
        while not stop.is_set():
            for q in queues:
                body = f"{prefix}-{n}"
                n += 1
                mode = 1 + n % 2 if transient else 2
                ledger.add(kept + "attempted", body)
                ch.basic_publish("", q, body, pika.BasicProperties(delivery_mode=mode), mandatory=True)
                ledger.add(kept + "confirmed", body)
    except (pika.exceptions.AMQPError, OSError):
        pass  # the server was killed


def getter(port, ledger, stop):
    try:
        conn = connect(port)
        ch = conn.channel()
        while not stop.is_set():
            for q in QUEUES:
                method, _, body = ch.basic_get(q)
                if method is None:
                    continue
                body = body.decode()
                ledger.add("ack_sent", body)
                ch.basic_ack(method.delivery_tag)
                ch.queue_declare(q, passive=True)  # its reply proves the ack was taken
                ledger.add("acked", body)
    except (pika.exceptions.AMQPError, OSError):
        pass


def consumer(port, ledger, queue, stop, hold_every):
    """Consumes with a prefetch, acknowledging in batches; every hold_every-th delivery it
    never acknowledges (the server must give those back after the kill)."""
    try:
        conn = connect(port)
        ch = conn.channel()
        ch.basic_qos(prefetch_count=50)
        pending = []
        count = 0
        for method, _, body in ch.consume(queue, inactivity_timeout=0.05):
            if stop.is_set():
                break
            if method is not None:
                count += 1
                if count % hold_every == 0:
                    continue
                pending.append((method.delivery_tag, body.decode()))
            if len(pending) >= 10 or (method is None and pending):
                for _, b in pending:
                    ledger.add("ack_sent", b)
                for tag, _ in pending:
                    ch.basic_ack(tag)
                ch.basic_qos(prefetch_count=50)  # its reply proves the acks were taken
                for _, b in pending:
                    ledger.add("acked", b)
                pending = []
    except (pika.exceptions.AMQPError, OSError):
        pass


def read_all(port):
    """Every message now in the queues, taken with basic.get (auto-ack)."""
    conn = connect(port)
    ch = conn.channel()
    found = {}
    for q in QUEUES:
        ch.queue_declare(q, durable=True, arguments=QUEUES[q])
        items = []
        while True:
            method, _, body = ch.basic_get(q, auto_ack=True)
            if method is None:
                break
            items.append(body.decode())
        found[q] = items
    conn.close()
    return found


def read_stream(port):
    """(offset, body) of every message in the stream, read from its first offset until the
    reader has been given nothing for a second."""
    conn = connect(port)
    ch = conn.channel()
    ch.queue_declare(STREAM, durable=True, arguments=STREAM_ARGS)
    ch.basic_qos(prefetch_count=1000)
    found = []
    for method, props, body in ch.consume(STREAM, arguments={"x-stream-offset": "first"}, inactivity_timeout=1.0):
        if method is None:
            break
        found.append((props.headers["x-stream-offset"], body.decode()))
        ch.basic_ack(method.delivery_tag)
    conn.close()
    return found


def check_stream(port, ledger, rnd):
    found = read_stream(port)
    bodies = [b for _, b in found]
    seen = set(bodies)
    lost = sorted(ledger.stream_confirmed - seen)
    unknown = sorted(seen - ledger.stream_attempted)
    duplicates = len(bodies) - len(seen)
    offsets = [o for o, _ in found]
    increasing = all(a < b for a, b in zip(offsets, offsets[1:]))
    # Each publisher's messages in the order it sent them.
    last = {}
    disordered = []
    for b in bodies:
        prefix, n = b.rsplit("-", 1)
        if int(n) <= last.get(prefix, -1):
            disordered.append(b)
        last[prefix] = int(n)
    kept = found[:len(ledger.stream_found)] == ledger.stream_found
    print(f"round {rnd}: stream: confirmed {len(ledger.stream_confirmed)}, found {len(found)} "
          f"(offsets {offsets[0] if offsets else '-'}..{offsets[-1] if offsets else '-'}); lost {lost}, "
          f"unknown {unknown}, duplicates {duplicates}, out of order {disordered}, offsets increasing "
          f"{increasing}, the previous round's {len(ledger.stream_found)} kept {kept}", flush=True)
    ledger.stream_found = found
    return not (lost or unknown or duplicates or disordered) and increasing and kept


def round_trip(binary, data_dir, logs, ledger, rnd, rng):
    server = Server(binary, data_dir, logs)
    conn = connect(server.port)
    ch = conn.channel()
    for q, args in QUEUES.items():
        ch.queue_declare(q, durable=True, arguments=args)
    ch.queue_declare(STREAM, durable=True, arguments=STREAM_ARGS)
    conn.close()
    stop = threading.Event()
    threads = [threading.Thread(target=publisher, args=(server.port, ledger, f"r{rnd}p{i}", stop)) for i in range(2)]
    threads.append(threading.Thread(target=publisher, args=(server.port, ledger, f"r{rnd}s", stop),
                                    kwargs={"queues": (STREAM,), "kept": "stream_", "transient": True}))
    threads.append(threading.Thread(target=getter, args=(server.port, ledger, stop)))
    for q in QUEUES:
        threads.append(threading.Thread(target=consumer, args=(server.port, ledger, q, stop, 7)))
    for t in threads:
        t.daemon = True
        t.start()
    # The kill comes at a random point of the clients' progress (not of the wall clock): after
    # a random number of further confirms, with acks, gets and held deliveries under way.
    with ledger.lock:
        target = len(ledger.confirmed) + rng.randint(200, 3000)
    progressed = ledger.wait_confirmed(target, timeout=120)
    server.kill()
    stop.set()
    for t in threads:
        t.join(timeout=20)
        if t.is_alive():
            raise RuntimeError("a client thread did not end after the kill")
    if not progressed:
        raise RuntimeError(f"round {rnd}: the publishers did not get {target} confirms within 120 s")


def check_round(binary, data_dir, logs, ledger, rnd):
    server = Server(binary, data_dir, logs)
    found = read_all(server.port)
    stream_ok = check_stream(server.port, ledger, rnd)
    rc = server.stop()
    if rc != 0:
        raise RuntimeError(f"warren-server exited with {rc} after SIGTERM; see {logs}")
    present = [b for items in found.values() for b in items]
    seen = set(present)
    must = ledger.confirmed - ledger.ack_sent
    lost = sorted(must - seen)
    resurrected = sorted(ledger.acked & seen)
    unknown = sorted(seen - ledger.attempted)
    duplicates = len(present) - len(seen)
    print(f"round {rnd}: attempted {len(ledger.attempted)}, confirmed {len(ledger.confirmed)}, "
          f"acknowledged {len(ledger.acked)} (+{len(ledger.ack_sent - ledger.acked)} unanswered), "
          f"found {len(present)} after the restart; lost {lost}, acknowledged but back {resurrected}, "
          f"unknown {unknown}, duplicates {duplicates}", flush=True)
    return stream_ok and not (lost or resurrected or unknown or duplicates)


def start_damaged(binary, data_dir, logs, damage, expect):
    journal = os.path.join(data_dir, "warren.journal")
    damage(journal)
    with open(logs, "ab") as log:
        proc = subprocess.Popen([binary, "--port", "0", "--data-dir", data_dir],
                                stdout=subprocess.PIPE, stderr=log)
        line = proc.stdout.readline().decode()
        if "listening on" in line:
            proc.send_signal(signal.SIGTERM)
            rc = proc.wait(timeout=30)
            outcome = "started"
        else:
            rc = proc.wait(timeout=30)
            outcome = "refused"
    text = open(logs, encoding="utf-8", errors="replace").read()
    ok = outcome == expect[0] and rc >= 0 and (rc == 0 if outcome == "started" else rc == 1) and expect[1] in text
    print(f"damaged journal ({damage.__doc__}): {outcome}, exit {rc}, "
          f"{'says' if expect[1] in text else 'does NOT say'} '{expect[1]}'", flush=True)
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("server")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    work = tempfile.mkdtemp(prefix="warren-crash-")
    data_dir = os.path.join(work, "data")
    print(f"crash test: {args.rounds} rounds, seed {seed}, in {work}", flush=True)
    ok = True
    try:
        streams = Ledger()
        for rnd in range(1, args.rounds + 1):
            ledger = Ledger()
            for kept in ("stream_attempted", "stream_confirmed", "stream_found"):
                setattr(ledger, kept, getattr(streams, kept))
            logs = os.path.join(work, f"round-{rnd}.log")
            round_trip(args.server, data_dir, logs, ledger, rnd, rng)
            ok &= check_round(args.server, data_dir, logs, ledger, rnd)
            streams.stream_found = ledger.stream_found

        def cut_last(path):
            """the last record cut short"""
            with open(path, "ab") as f:
                f.write(b"\x00\x00\x01\x00\x12\x34")  # a record header promising 256 bytes
        def flip(path):
            """a byte flipped in the middle"""
            with open(path, "r+b") as f:
                size = os.path.getsize(path)
                f.seek(size // 2)
                b = f.read(1)
                f.seek(size // 2)
                f.write(bytes([b[0] ^ 0x40]))
        def foreign(path):
            """a file that is not a journal"""
            with open(path, "wb") as f:
                f.write(b"PK\x03\x04 not a journal")

        # Something to damage: messages in the queues.
        server = Server(args.server, data_dir, os.path.join(work, "fill.log"))
        conn = connect(server.port)
        ch = conn.channel()
        ch.confirm_delivery()
        for i in range(200):
            ch.basic_publish("", "crash-classic", f"fill-{i}", pika.BasicProperties(delivery_mode=2))
        conn.close()
        server.kill()
        ok &= start_damaged(args.server, data_dir, os.path.join(work, "cut.log"), cut_last,
                            ("started", "a record cut short"))
        ok &= start_damaged(args.server, data_dir, os.path.join(work, "flip.log"), flip,
                            ("started", "skipped"))
        ok &= start_damaged(args.server, data_dir, os.path.join(work, "foreign.log"), foreign,
                            ("refused", "is not a warren journal"))
    finally:
        if ok:
            shutil.rmtree(work, ignore_errors=True)
    print("crash test: " + ("passed" if ok else f"FAILED (logs in {work})"), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
