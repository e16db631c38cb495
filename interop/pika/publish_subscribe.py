#!/usr/bin/python3
"""Tutorial three, "Publish/Subscribe": emit_log.py and two receive_logs.py, a fanout exchange.

Each receiver has a server-named, exclusive queue bound to the exchange; every log message
reaches both.

    publish_subscribe.py amqp://guest:guest@127.0.0.1:5672/%2f
"""
import pika

from _support import connect, drain, say, unique

connection = connect()
channel = connection.channel()

exchange = unique("logs", "exchange")
channel.exchange_declare(exchange=exchange, exchange_type='fanout', auto_delete=True)

receivers = []
for name in ("one", "two"):
    result = channel.queue_declare(queue='', exclusive=True)
    queue_name = result.method.queue
    channel.queue_bind(exchange=exchange, queue=queue_name)
    say(f" [*] receiver {name} bound", queue_name, "to", exchange)
    receivers.append((name, queue_name))

channel.confirm_delivery()
for message in ["info: Hello World!", "warning: disk 80% full", "error: disk full"]:
    channel.basic_publish(exchange=exchange, routing_key='', body=message)
    say(" [x] Sent", repr(message))

for name, queue_name in receivers:
    for method, properties, body in drain(channel, queue_name):
        say(f" [x] receiver {name}:", repr(body))

# A fanout exchange ignores the routing key.
channel.basic_publish(exchange=exchange, routing_key='any.key.at.all', body='ignored key')
for name, queue_name in receivers:
    say(f" [x] receiver {name} after a keyed publish:",
        [body for method, properties, body in drain(channel, queue_name)])

# The exchange is auto-delete: unbinding its last queue deletes it.
for name, queue_name in receivers:
    channel.queue_unbind(exchange=exchange, queue=queue_name)
    say(f" [*] receiver {name} unbound")
probe = connection.channel()
try:
    probe.exchange_declare(exchange=exchange, exchange_type='fanout', passive=True)
    say(" [*] the exchange is still there")
    probe.exchange_delete(exchange=exchange)
except pika.exceptions.ChannelClosedByBroker as e:
    say(" [*] the exchange is gone:", e.reply_code, e.reply_text)
connection.close()
