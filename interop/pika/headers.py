#!/usr/bin/python3
"""The fourth exchange type, headers: routing on message headers instead of the routing key.

RabbitMQ's tutorials stop at topics; this one is written the same way. One queue binds
x-match=all {format: pdf, type: report}, one x-match=any {format: pdf, type: log}, one
binds with no arguments (x-match defaults to all: matches everything).

    headers.py amqp://guest:guest@127.0.0.1:5672/%2f
"""
import pika

from _support import connect, drain, say, unique

connection = connect()
channel = connection.channel()

exchange = unique("header_logs", "exchange")
channel.exchange_declare(exchange=exchange, exchange_type='headers', auto_delete=True)

bindings = {
    "all-pdf-report": {"x-match": "all", "format": "pdf", "type": "report"},
    "any-pdf-or-log": {"x-match": "any", "format": "pdf", "type": "log"},
    "no-arguments": {},
}
queues = {}
for receiver, arguments in bindings.items():
    queue_name = channel.queue_declare(queue='', exclusive=True).method.queue
    channel.queue_bind(exchange=exchange, queue=queue_name, arguments=arguments)
    queues[receiver] = queue_name
    say(f" [*] {receiver} bound with", sorted(arguments.items()))

channel.confirm_delivery()
messages = [
    ("pdf report", {"format": "pdf", "type": "report"}),
    ("pdf report, more headers", {"format": "pdf", "type": "report", "pages": 3}),
    ("pdf log", {"format": "pdf", "type": "log"}),
    ("zip log", {"format": "zip", "type": "log"}),
    ("zip report", {"format": "zip", "type": "report"}),
    ("pdf only", {"format": "pdf"}),
    ("no headers", None),
]
for body, headers in messages:
    channel.basic_publish(exchange=exchange, routing_key='ignored', body=body,
                          properties=pika.BasicProperties(headers=headers))
say(" [x] Sent", len(messages), "messages")

for receiver, queue_name in queues.items():
    received = [body.decode() for method, properties, body in drain(channel, queue_name)]
    say(f" [x] {receiver} received", received)

channel.exchange_delete(exchange=exchange)
connection.close()
