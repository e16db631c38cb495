#!/usr/bin/python3
"""Retrying through a delay queue, counting attempts with x-death.

The work queue dead-letters what its consumer rejects to a retry exchange; the retry queue
holds each message for a short TTL (100 ms) and dead-letters it back to the work exchange. The
consumer reads the attempt number from the x-death header the broker maintains: "flaky"
succeeds on its third attempt, "poison" fails every time and is parked on its third.

    retry_x_death.py amqp://guest:guest@127.0.0.1:5672/%2f
"""
import time

import pika

from _support import connect, say, unique

RETRY_DELAY_MS = 100
MAX_ATTEMPTS = 3

connection = connect()
channel = connection.channel()

work_exchange = unique("work", "exchange")
retry_exchange = unique("retry", "exchange")
work_queue = unique("work", "queue")
retry_queue = unique("retry", "queue")
parked_queue = unique("parked", "queue")

channel.exchange_declare(exchange=work_exchange, exchange_type='direct')
channel.exchange_declare(exchange=retry_exchange, exchange_type='direct')
channel.queue_declare(queue=work_queue, durable=True,
                      arguments={"x-dead-letter-exchange": retry_exchange})
channel.queue_declare(queue=retry_queue, durable=True,
                      arguments={"x-message-ttl": RETRY_DELAY_MS,
                                 "x-dead-letter-exchange": work_exchange})
channel.queue_declare(queue=parked_queue, durable=True)
channel.queue_bind(queue=work_queue, exchange=work_exchange, routing_key="task")
channel.queue_bind(queue=retry_queue, exchange=retry_exchange, routing_key="task")
say(" [*] work", work_queue, "-> retry", retry_queue, f"({RETRY_DELAY_MS} ms) -> work")


def x_death(properties):
    """x-death as a list of entries without their timestamps, in the broker's order."""
    entries = (properties.headers or {}).get("x-death", [])
    return [{k: v for k, v in sorted(entry.items()) if k != "time"} for entry in entries]


def other_headers(properties):
    return {k: v for k, v in sorted((properties.headers or {}).items()) if k != "x-death"}


def attempt_of(properties):
    return 1 + sum(entry["count"] for entry in x_death(properties)
                   if entry["queue"] == work_queue and entry["reason"] == "rejected")


finished = []


def on_message(ch, method, properties, body):
    attempt = attempt_of(properties)
    say(f" [x] {body.decode()!r} attempt {attempt}, routing key {method.routing_key!r},"
        f" exchange {method.exchange!r}, redelivered {method.redelivered}")
    say("     x-death:", x_death(properties))
    say("     other headers:", other_headers(properties))
    if body == b"flaky" and attempt == 3:
        say("     succeeded")
        ch.basic_ack(delivery_tag=method.delivery_tag)
        finished.append(body)
    elif attempt >= MAX_ATTEMPTS:
        ch.basic_publish(exchange='', routing_key=parked_queue, body=body, properties=properties)
        ch.basic_ack(delivery_tag=method.delivery_tag)
        say("     parked after", attempt, "attempts")
        finished.append(body)
    else:
        ch.basic_reject(delivery_tag=method.delivery_tag, requeue=False)
        say("     failed, rejected to the retry queue")


channel.confirm_delivery()
for body in ("flaky", "poison"):
    channel.basic_publish(exchange=work_exchange, routing_key="task", body=body,
                          properties=pika.BasicProperties(
                              delivery_mode=pika.spec.PERSISTENT_DELIVERY_MODE,
                              headers={"job": body}))
    say(" [x] Sent", repr(body))

consumer = connection.channel()
consumer.basic_qos(prefetch_count=10)
consumer.basic_consume(queue=work_queue, on_message_callback=on_message)
deadline = time.monotonic() + 10
while len(finished) < 2 and time.monotonic() < deadline:
    connection.process_data_events(time_limit=0.05)
connection.process_data_events(time_limit=RETRY_DELAY_MS / 1000 * 3)

# The consumer's channel published the parked message: give it time to land.
deadline = time.monotonic() + 5
method, properties, body = channel.basic_get(queue=parked_queue, auto_ack=True)
while method is None and time.monotonic() < deadline:
    connection.sleep(0.05)
    method, properties, body = channel.basic_get(queue=parked_queue, auto_ack=True)
if method is None:
    say(" [!] nothing parked")
else:
    say(" [*] parked:", repr(body), "remaining", method.message_count)
    say("     x-death:", x_death(properties))
    say("     other headers:", other_headers(properties))

for queue in (work_queue, retry_queue, parked_queue):
    ok = channel.queue_delete(queue=queue)
    say(" [*] deleted", queue, "messages:", ok.method.message_count)
for exchange in (work_exchange, retry_exchange):
    channel.exchange_delete(exchange=exchange)
connection.close()
