#!/usr/bin/python3
"""Tutorial four, "Routing": emit_log_direct.py and receive_logs_direct.py, a direct exchange.

One receiver saves errors to disk (binding "error"); the other prints everything it is bound for
("info", "warning", "error"). A "debug" message has no binding: published mandatory, the broker
returns it.

    routing.py amqp://guest:guest@127.0.0.1:5672/%2f
"""
import pika

from _support import connect, drain, say, unique

connection = connect()
channel = connection.channel()

exchange = unique("direct_logs", "exchange")
channel.exchange_declare(exchange=exchange, exchange_type='direct', auto_delete=True)

bindings = {"disk": ["error"], "screen": ["info", "warning", "error"]}
queues = {}
for receiver, severities in bindings.items():
    queue_name = channel.queue_declare(queue='', exclusive=True).method.queue
    for severity in severities:
        channel.queue_bind(exchange=exchange, queue=queue_name, routing_key=severity)
    say(f" [*] {receiver} receiver bound for", severities)
    queues[receiver] = queue_name

channel.confirm_delivery()
messages = [("info", "Run. Run. Or it will explode."),
            ("warning", "Disk almost full."),
            ("error", "Run out of disk."),
            ("info", "Recovered.")]
for severity, message in messages:
    channel.basic_publish(exchange=exchange, routing_key=severity, body=message)
    say(f" [x] Sent {severity!r}:{message!r}")

try:
    channel.basic_publish(exchange=exchange, routing_key='debug', body='Nobody listens.',
                          mandatory=True)
    say(" [x] Sent 'debug' (mandatory): not returned")
except pika.exceptions.UnroutableError as e:
    for returned in e.messages:
        say(" [x] Returned", returned.method.reply_code, returned.method.reply_text,
            "routing key", returned.method.routing_key, "body", repr(returned.body))

for receiver, queue_name in queues.items():
    for method, properties, body in drain(channel, queue_name):
        say(f" [x] {receiver}: {method.routing_key!r}:{body!r}")

channel.exchange_delete(exchange=exchange)
connection.close()
