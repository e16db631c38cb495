"""What the interop programs share: the broker URL, names unique to this run, and output that
reads the same on any broker (run ids and server-generated names are replaced by placeholders).

Not an exercise itself: interop/run.sh skips files whose name starts with an underscore.
"""
import atexit
import os
import re
import signal
import sys
import time
import uuid

import pika

RUN = uuid.uuid4().hex[:12]


def url():
    if len(sys.argv) != 2:
        sys.exit(f"usage: {os.path.basename(sys.argv[0])} AMQP_URL")
    return sys.argv[1]


def connect():
    """A BlockingConnection to the URL on the command line; the whole program has 30 s."""
    signal.signal(signal.SIGALRM, _timed_out)
    signal.alarm(30)
    return pika.BlockingConnection(pika.URLParameters(url()))


def _timed_out(signum, frame):
    print(" [!] timed out after 30 s", flush=True)
    sys.exit(3)


_leftovers = []


def unique(name, kind):
    """A name of this run's own for a queue or an exchange (kind), so that runs never see each
    other's; whatever the program leaves of it (when it fails half-way) is deleted at exit."""
    full = f"interop-{name}-{RUN}"
    _leftovers.append((kind, full))
    return full


@atexit.register
def _clean_up():
    signal.alarm(0)
    try:
        connection = pika.BlockingConnection(pika.URLParameters(url()))
        channel = connection.channel()
        for kind, name in _leftovers:
            if kind == "queue":
                channel.queue_delete(queue=name)
            else:
                channel.exchange_delete(exchange=name)
        connection.close()
    except Exception:  # the broker is gone, or was never there: nothing to clean
        pass


_GEN = re.compile(r"amq\.gen-[A-Za-z0-9_-]{22}")
_CTAG = re.compile(r"ctag1\.[0-9a-f]{32}")


def show(value):
    """The text of value with this run's id and any server-generated name made deterministic."""
    text = value if isinstance(value, str) else repr(value)
    text = text.replace(RUN, "<run>")
    text = _GEN.sub("amq.gen-<22 chars>", text)
    return _CTAG.sub("ctag1.<32 hex>", text)


def say(*parts):
    print(show(" ".join(str(p) for p in parts)), flush=True)


def drain(channel, queue):
    """Consumes queue (auto-ack) as the tutorials' receivers do, until it has had as many
    messages as it held at the start (passive queue.declare), then a little longer so that any
    extra would show; [(method, properties, body)]. Deterministic on a loaded machine too."""
    ready = channel.queue_declare(queue=queue, passive=True).method.message_count
    deliveries = []
    deadline = time.monotonic() + 10
    for delivery in channel.consume(queue, auto_ack=True, inactivity_timeout=0.1):
        if delivery[0] is None:
            if len(deliveries) >= ready or time.monotonic() > deadline:
                break
            continue
        deliveries.append(delivery)
    channel.cancel()
    return deliveries
