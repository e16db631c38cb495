#!/usr/bin/python3
"""Tutorial two, "Work Queues": new_task.py and two worker.py in one program.

A durable task queue, persistent messages, manual acks and prefetch_count=1 ("fair dispatch").
The tutorial's workers sleep one second per dot; these ones acknowledge in turn instead, so that the
round-robin a broker does with prefetch 1 shows as a deterministic A, B, A, B order.

    work_queue.py amqp://guest:guest@127.0.0.1:5672/%2f
"""
import time

import pika

from _support import connect, say, unique

TASKS = ["First message.", "Second message..", "Third message...", "Fourth message....",
         "Fifth message.....", "Sixth message......"]

connection = connect()
channel = connection.channel()
queue = unique("task_queue", "queue")
channel.queue_declare(queue=queue, durable=True)
channel.confirm_delivery()

for task in TASKS:
    channel.basic_publish(
        exchange='',
        routing_key=queue,
        body=task,
        properties=pika.BasicProperties(delivery_mode=pika.spec.PERSISTENT_DELIVERY_MODE))
    say(" [x] Sent", repr(task))

ok = channel.queue_declare(queue=queue, passive=True)
say(" [*] ready:", ok.method.message_count, "consumers:", ok.method.consumer_count)


class Worker:
    def __init__(self, name):
        self.name = name
        self.channel = connection.channel()
        self.channel.basic_qos(prefetch_count=1)
        self.pending = []
        self.channel.basic_consume(queue=queue, on_message_callback=self.callback)

    def callback(self, ch, method, properties, body):
        self.pending.append((method, properties, body))

    def wait_for_task(self, limit=5.0):
        deadline = time.monotonic() + limit
        while not self.pending and time.monotonic() < deadline:
            connection.process_data_events(time_limit=0.05)
        return bool(self.pending)

    def work(self):
        method, properties, body = self.pending.pop(0)
        say(f" [x] Worker {self.name} received {body.decode()!r} (tag {method.delivery_tag},"
            f" redelivered {method.redelivered}, delivery_mode {properties.delivery_mode})")
        say(f" [x] Worker {self.name} done ({body.count(b'.')} dots of work)")
        self.channel.basic_ack(delivery_tag=method.delivery_tag)


workers = [Worker("A")]
workers[0].wait_for_task()
workers.append(Worker("B"))
workers[1].wait_for_task()
say(" [*] each worker holds", [len(w.pending) for w in workers], "unacked task")

ok = channel.queue_declare(queue=queue, passive=True)
say(" [*] ready:", ok.method.message_count, "consumers:", ok.method.consumer_count)

done = 0
while done < len(TASKS):
    progressed = False
    for worker in workers:
        if worker.pending:
            worker.work()
            done += 1
            progressed = True
            if done + sum(len(w.pending) for w in workers) < len(TASKS):
                worker.wait_for_task()
    if not progressed:
        say(" [!] no worker received a task;", done, "of", len(TASKS), "done")
        break

# Anything more than the six tasks would show here.
connection.process_data_events(time_limit=0.2)
say(" [*] extra deliveries:", sum(len(w.pending) for w in workers))
for worker in workers:
    worker.channel.close()
ok = channel.queue_delete(queue=queue)
say(" [*] deleted, messages:", ok.method.message_count)
connection.close()
