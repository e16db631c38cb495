#!/usr/bin/python3
"""A stream: messages stay after they are read, each reader starts where x-stream-offset says
(first, a numeric offset, next), deliveries carry the x-stream-offset header, and an ack gives a
reader credit for one more. basic.get is refused.

    stream_replay.py amqp://guest:guest@127.0.0.1:5672/%2f
"""
import time

import pika

from _support import connect, say, unique

connection = connect()
channel = connection.channel()
stream = unique("events", "queue")
channel.queue_declare(queue=stream, durable=True, arguments={"x-queue-type": "stream"})
channel.confirm_delivery()
for i in range(5):
    channel.basic_publish(exchange="", routing_key=stream, body=f"event {i}",
                          properties=pika.BasicProperties(headers={"n": i}, content_type="text/plain"))
say(" [x] Sent 5 events")


class Reader:
    def __init__(self, name, offset, prefetch, ack):
        self.name, self.ack, self.got, self.lines = name, ack, [], []
        self.channel = connection.channel()
        self.channel.basic_qos(prefetch_count=prefetch)
        arguments = {} if offset is None else {"x-stream-offset": offset}
        self.channel.basic_consume(queue=stream, on_message_callback=self.on_message, arguments=arguments)

    def on_message(self, ch, method, properties, body):
        # Kept and shown per reader: readers of one stream get their deliveries in any order
        # relative to each other.
        self.got.append(body)
        self.lines.append(f" [x] {self.name} got {body.decode()!r} headers {sorted(properties.headers.items())}"
                          f" redelivered {method.redelivered}")
        if self.ack:
            ch.basic_ack(delivery_tag=method.delivery_tag)

    def wait(self, count, limit=5.0):
        deadline = time.monotonic() + limit
        while len(self.got) < count and time.monotonic() < deadline:
            connection.process_data_events(time_limit=0.05)

    def show(self):
        for line in self.lines:
            say(line)
        self.lines.clear()


replay = Reader("replay", "first", 10, ack=True)
replay.wait(5)
replay.show()
late = Reader("from 3", 3, 10, ack=True)
late.wait(2)
late.show()
slow = Reader("slow", "first", 2, ack=False)
slow.wait(2)
connection.process_data_events(time_limit=0.3)
slow.show()
say(" [*] slow holds", len(slow.got), "without acking")
tail = Reader("tail", None, 10, ack=True)
channel.basic_publish(exchange="", routing_key=stream, body="event 5")
for reader in (replay, late, tail):
    reader.wait(len(reader.got) + 1)
connection.process_data_events(time_limit=0.3)
for reader in (replay, late, tail, slow):
    reader.show()
ok = channel.queue_declare(queue=stream, passive=True)
# The message count is the one at the node's last statistics tick (every 5 s): not shown.
say(" [*] declare-ok: consumers", ok.method.consumer_count)

try:
    channel.basic_get(queue=stream)
    say(" [!] basic.get accepted")
except pika.exceptions.ConnectionClosedByBroker as e:
    say(" [x] basic.get:", e.reply_code, e.reply_text)
