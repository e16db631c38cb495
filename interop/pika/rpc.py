#!/usr/bin/python3
"""Tutorial six, "RPC": rpc_server.py and rpc_client.py in one program.

The server consumes "rpc_queue" with prefetch 1 and answers fib(n) to each request's reply_to
queue with its correlation_id; the client's callback queue is server-named and exclusive.

    rpc.py amqp://guest:guest@127.0.0.1:5672/%2f
"""
import time
import uuid

import pika

from _support import connect, say, unique

connection = connect()
rpc_queue = unique("rpc_queue", "queue")


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


# The server.
server = connection.channel()
server.queue_declare(queue=rpc_queue)


def on_request(ch, method, props, body):
    n = int(body)
    say(f" [.] server: fib({n}), reply to {props.reply_to}")
    ch.basic_publish(exchange='', routing_key=props.reply_to,
                     properties=pika.BasicProperties(correlation_id=props.correlation_id),
                     body=str(fib(n)))
    ch.basic_ack(delivery_tag=method.delivery_tag)


server.basic_qos(prefetch_count=1)
server.basic_consume(queue=rpc_queue, on_message_callback=on_request)
say(" [x] Awaiting RPC requests on", rpc_queue)


# The client.
class FibonacciRpcClient:
    def __init__(self):
        self.channel = connection.channel()
        result = self.channel.queue_declare(queue='', exclusive=True)
        self.callback_queue = result.method.queue
        self.channel.basic_consume(queue=self.callback_queue, on_message_callback=self.on_response,
                                   auto_ack=True)
        self.response = None
        self.corr_id = None

    def on_response(self, ch, method, props, body):
        if self.corr_id == props.correlation_id:
            self.response = body
        else:
            say(" [!] client: a reply for another request:", repr(body))

    def call(self, n):
        self.response = None
        self.corr_id = str(uuid.uuid4())
        self.channel.basic_publish(exchange='', routing_key=rpc_queue,
                                   properties=pika.BasicProperties(reply_to=self.callback_queue,
                                                                   correlation_id=self.corr_id),
                                   body=str(n))
        deadline = time.monotonic() + 10
        while self.response is None and time.monotonic() < deadline:
            connection.process_data_events(time_limit=0.05)
        return int(self.response) if self.response is not None else None


client = FibonacciRpcClient()
for n in (0, 1, 10, 20):
    say(f" [x] client: requesting fib({n})")
    say(f" [.] client: got {client.call(n)!r}")

ok = server.queue_delete(queue=rpc_queue)
say(" [*] deleted", rpc_queue, "messages:", ok.method.message_count)
connection.close()
