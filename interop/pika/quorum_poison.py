#!/usr/bin/python3
"""A quorum queue with a delivery limit: a poison message that keeps being requeued carries
x-delivery-count, comes back to the front while the limit lasts, and is then dead-lettered with
reason delivery_limit; global qos is refused to a quorum consumer.

    quorum_poison.py amqp://guest:guest@127.0.0.1:5672/%2f
"""
import time

import pika

from _support import connect, say, unique

connection = connect()
channel = connection.channel()
queue = unique("orders", "queue")
parked = unique("orders-parked", "queue")
channel.queue_declare(queue=parked, durable=True)
channel.queue_declare(queue=queue, durable=True, arguments={
    "x-queue-type": "quorum", "x-delivery-limit": 2,
    "x-dead-letter-exchange": "", "x-dead-letter-routing-key": parked})
channel.confirm_delivery()
for body in ("poison", "good 1", "good 2"):
    channel.basic_publish(exchange="", routing_key=queue, body=body)
say(" [x] Sent poison, good 1, good 2")

worker = connection.channel()
worker.basic_qos(prefetch_count=1)
seen = []


def on_message(ch, method, properties, body):
    count = (properties.headers or {}).get("x-delivery-count")
    say(f" [x] got {body.decode()!r} redelivered {method.redelivered} x-delivery-count {count}")
    seen.append(body)
    if body == b"poison":
        ch.basic_nack(delivery_tag=method.delivery_tag, requeue=True)
    else:
        ch.basic_ack(delivery_tag=method.delivery_tag)


worker.basic_consume(queue=queue, on_message_callback=on_message)
deadline = time.monotonic() + 5
while len(seen) < 5 and time.monotonic() < deadline:
    connection.process_data_events(time_limit=0.05)
connection.process_data_events(time_limit=0.3)

ok = channel.queue_declare(queue=parked, passive=True)
say(" [*] parked:", ok.method.message_count)
method, properties, body = channel.basic_get(queue=parked, auto_ack=True)
death = properties.headers["x-death"][0]
say(" [x] parked", repr(body.decode()), "reason", death["reason"], "count", death["count"],
    "queue", death["queue"])

# Global prefetch and a quorum consumer do not mix: the connection closes with 540.
other = pika.BlockingConnection(connection._impl.params)
ch = other.channel()
ch.basic_qos(prefetch_count=5, global_qos=True)
try:
    ch.basic_consume(queue=queue, on_message_callback=lambda *a: None)
    say(" [!] consumer with global qos accepted")
except pika.exceptions.ConnectionClosedByBroker as e:
    say(" [x] global qos:", e.reply_code, e.reply_text)
connection.close()
