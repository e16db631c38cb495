#!/usr/bin/python3
"""Tutorial five, "Topics": emit_log_topic.py and receive_logs_topic.py, a topic exchange.

The tutorial's animals: Q1 binds "*.orange.*", Q2 binds "*.*.rabbit" and "lazy.#"; a third
receiver binds "#" and sees everything; a fourth binds "kern.*" and "*.critical".

    topics.py amqp://guest:guest@127.0.0.1:5672/%2f
"""
from _support import connect, drain, say, unique

connection = connect()
channel = connection.channel()

exchange = unique("topic_logs", "exchange")
channel.exchange_declare(exchange=exchange, exchange_type='topic', auto_delete=True)

bindings = {"Q1": ["*.orange.*"], "Q2": ["*.*.rabbit", "lazy.#"], "all": ["#"],
            "kern": ["kern.*", "*.critical"]}
queues = {}
for receiver, keys in bindings.items():
    queue_name = channel.queue_declare(queue='', exclusive=True).method.queue
    for binding_key in keys:
        channel.queue_bind(exchange=exchange, queue=queue_name, routing_key=binding_key)
    queues[receiver] = queue_name
    say(f" [*] {receiver} bound with", keys)

channel.confirm_delivery()
routing_keys = ["quick.orange.rabbit", "lazy.orange.elephant", "quick.orange.fox",
                "lazy.brown.fox", "lazy.pink.rabbit", "quick.brown.fox", "orange",
                "quick.orange.male.rabbit", "lazy.orange.male.rabbit", "lazy", "kern.critical",
                "kern.info.x", "anonymous.info", "", "..", "lazy."]
for routing_key in routing_keys:
    channel.basic_publish(exchange=exchange, routing_key=routing_key, body=f"A message for {routing_key}")
say(" [x] Sent", len(routing_keys), "messages")

for receiver, queue_name in queues.items():
    keys = [method.routing_key for method, properties, body in drain(channel, queue_name)]
    say(f" [x] {receiver} received", keys)

channel.exchange_delete(exchange=exchange)
connection.close()
