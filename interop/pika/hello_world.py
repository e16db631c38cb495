#!/usr/bin/python3
"""Tutorial one, "Hello World!": send.py and receive.py in one program.

    hello_world.py amqp://guest:guest@127.0.0.1:5672/%2f
"""
import pika

from _support import connect, say, unique

connection = connect()
channel = connection.channel()

queue = unique("hello", "queue")
ok = channel.queue_declare(queue=queue)
say(" [*] declared", ok.method.queue, "messages:", ok.method.message_count,
    "consumers:", ok.method.consumer_count)

channel.basic_publish(exchange='', routing_key=queue, body='Hello World!')
say(" [x] Sent 'Hello World!'")


def callback(ch, method, properties, body):
    say(" [x] Received", repr(body))
    say("     exchange:", repr(method.exchange), "routing key:", method.routing_key,
        "redelivered:", method.redelivered, "delivery tag:", method.delivery_tag)
    ch.stop_consuming()


tag = channel.basic_consume(queue=queue, on_message_callback=callback, auto_ack=True)
say(" [*] Waiting for messages, consumer tag", tag)
channel.start_consuming()

ok = channel.queue_delete(queue=queue)
say(" [*] deleted, messages:", ok.method.message_count)
connection.close()
