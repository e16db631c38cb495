#!/usr/bin/python3
"""Tutorial six, "RPC", with direct reply-to instead of a callback queue.

The client consumes the pseudo-queue amq.rabbitmq.reply-to (no-ack) and publishes each request
with reply_to "amq.rabbitmq.reply-to"; the broker rewrites it to a name of its own, and the
server's reply to that name reaches the client's consumer without any queue. Then what a
request gets on a channel with no reply consumer.

    rpc_direct_reply_to.py amqp://guest:guest@127.0.0.1:5672/%2f
"""
import time
import uuid

import pika

from _support import connect, say, unique

REPLY_TO = "amq.rabbitmq.reply-to"

connection = connect()
rpc_queue = unique("rpc_direct_queue", "queue")


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


# The server.
server = connection.channel()
server.queue_declare(queue=rpc_queue)


def on_request(ch, method, props, body):
    n = int(body)
    rewritten = props.reply_to.startswith(REPLY_TO + ".") and len(props.reply_to) > len(REPLY_TO) + 1
    say(f" [.] server: fib({n}), reply_to rewritten by the broker: {rewritten}")
    ch.basic_publish(exchange='', routing_key=props.reply_to,
                     properties=pika.BasicProperties(correlation_id=props.correlation_id),
                     body=str(fib(n)))
    ch.basic_ack(delivery_tag=method.delivery_tag)


server.basic_qos(prefetch_count=1)
server.basic_consume(queue=rpc_queue, on_message_callback=on_request)

# The client.
client = connection.channel()
replies = []


def on_reply(ch, method, props, body):
    replies.append((method.exchange, method.redelivered, props.correlation_id, body))


client.basic_consume(queue=REPLY_TO, on_message_callback=on_reply, auto_ack=True)
declared = client.queue_declare(queue=REPLY_TO, passive=True).method
say(" [*] passive declare of", REPLY_TO, "messages:", declared.message_count,
    "consumers:", declared.consumer_count)

for n in (1, 10, 20):
    corr_id = str(uuid.uuid4())
    replies.clear()
    say(f" [x] client: requesting fib({n})")
    client.basic_publish(exchange='', routing_key=rpc_queue,
                         properties=pika.BasicProperties(reply_to=REPLY_TO, correlation_id=corr_id),
                         body=str(n))
    deadline = time.monotonic() + 10
    while not replies and time.monotonic() < deadline:
        connection.process_data_events(time_limit=0.05)
    for exchange, redelivered, correlation_id, body in replies:
        say(f" [.] client: got {body!r} (exchange {exchange!r}, redelivered {redelivered},"
            f" own correlation id {correlation_id == corr_id})")

# A request from a channel without a reply consumer is refused, and the channel closed.
lonely = connection.channel()
try:
    lonely.basic_publish(exchange='', routing_key=rpc_queue,
                         properties=pika.BasicProperties(reply_to=REPLY_TO), body="5")
    lonely.queue_declare(queue=rpc_queue, passive=True)  # a round trip, to see the close
    say(" [!] the request without a reply consumer was accepted")
except pika.exceptions.ChannelClosedByBroker as e:
    say(" [*] without a reply consumer:", e.reply_code, e.reply_text)

ok = server.queue_delete(queue=rpc_queue)
say(" [*] deleted", rpc_queue, "messages:", ok.method.message_count)
connection.close()
