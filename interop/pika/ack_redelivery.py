#!/usr/bin/python3
"""Manual acknowledgements and redelivery ("Work Queues", "Message acknowledgment").

A consumer with prefetch 3 acks the first message, nacks the second with requeue (it comes back
marked redelivered), rejects the third without requeue (it is dropped) and dies -- its channel
closes -- holding the second (redelivered), the fourth and the fifth; those go back to the queue
in their original order, marked redelivered, for the next consumer. basic.recover redelivers what a
channel holds unacked.

    ack_redelivery.py amqp://guest:guest@127.0.0.1:5672/%2f
"""
import time

import pika

from _support import connect, say, unique

connection = connect()
channel = connection.channel()
queue = unique("acks", "queue")
channel.queue_declare(queue=queue, durable=True)
channel.confirm_delivery()
for i in range(1, 6):
    channel.basic_publish(exchange='', routing_key=queue, body=f"task {i}",
                          properties=pika.BasicProperties(
                              delivery_mode=pika.spec.PERSISTENT_DELIVERY_MODE))
say(" [x] Sent 5 tasks")


def ready():
    ok = channel.queue_declare(queue=queue, passive=True)
    return f"ready {ok.method.message_count}, consumers {ok.method.consumer_count}"


class Consumer:
    def __init__(self, name, prefetch):
        self.name = name
        self.channel = connection.channel()
        self.channel.basic_qos(prefetch_count=prefetch)
        self.deliveries = []
        self.channel.basic_consume(queue=queue, on_message_callback=self.on_message)

    def on_message(self, ch, method, properties, body):
        say(f" [x] {self.name} got {body.decode()!r} tag {method.delivery_tag}"
            f" redelivered {method.redelivered}")
        self.deliveries.append(method)

    def wait(self, count, limit=5.0):
        deadline = time.monotonic() + limit
        while len(self.deliveries) < count and time.monotonic() < deadline:
            connection.process_data_events(time_limit=0.05)


first = Consumer("worker 1", prefetch=3)
first.wait(3)
say(" [*] after three deliveries:", ready())

first.channel.basic_ack(delivery_tag=first.deliveries[0].delivery_tag)
say(" [x] worker 1 acks tag 1")
first.channel.basic_nack(delivery_tag=first.deliveries[1].delivery_tag, requeue=True)
say(" [x] worker 1 nacks tag 2, requeue")
first.wait(5)
first.channel.basic_reject(delivery_tag=first.deliveries[2].delivery_tag, requeue=False)
say(" [x] worker 1 rejects tag 3, no requeue")
first.wait(6)
connection.process_data_events(time_limit=0.2)
say(" [*] worker 1 holds", len(first.deliveries) - 3, "unacked;", ready())

first.channel.close()
say(" [x] worker 1's channel closed")
say(" [*]", ready())

second = Consumer("worker 2", prefetch=10)
second.wait(3)
connection.process_data_events(time_limit=0.2)
say(" [*] worker 2 holds", len(second.deliveries), "unacked;", ready())

second.channel.basic_recover(requeue=True)
say(" [x] worker 2 basic.recover(requeue=True)")
second.wait(2 * len(second.deliveries))
connection.process_data_events(time_limit=0.2)
for method in second.deliveries[-3:]:
    second.channel.basic_ack(delivery_tag=method.delivery_tag)
say(" [x] worker 2 acks the last three")
connection.process_data_events(time_limit=0.2)
say(" [*]", ready())

# An unknown delivery tag closes the channel with 406 PRECONDITION_FAILED.
try:
    second.channel.basic_ack(delivery_tag=99)
    second.channel.basic_qos(prefetch_count=1)
    say(" [!] acking tag 99 was accepted")
except pika.exceptions.ChannelClosedByBroker as e:
    say(" [x] acking tag 99:", e.reply_code, e.reply_text)

ok = channel.queue_delete(queue=queue)
say(" [*] deleted, messages:", ok.method.message_count)
connection.close()
