#!/usr/bin/env python3
"""Records the definitions fixture from a live RabbitMQ 3.10.8 with its management plugin:
builds a service's topology through the HTTP API (two vhosts, users with tags and
permissions, every exchange type, an alternate and an internal exchange, an exchange-to-
exchange binding, headers binding arguments, classic / quorum / stream queues with their
arguments, an auto-delete and a transient queue, an exclusive queue held by an AMQP client),
then saves GET /api/definitions verbatim.

    record.py http://127.0.0.1:15674 5674 > rabbitmq-3.10.8.json

Run it on a freshly started broker (scripts/rabbitmq.sh with WARREN_RABBITMQ_PLUGINS=
rabbitmq_management and ports of its own), so that nothing else is in the export.
"""
import base64
import json
import sys
import urllib.request

import pika

base, amqp_port = sys.argv[1].rstrip("/") + "/api", int(sys.argv[2])
auth = "Basic " + base64.b64encode(b"guest:guest").decode()


def call(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Authorization": auth, "content-type": "application/json"})
    with urllib.request.urlopen(req) as resp:
        return resp.read().decode()


call("PUT", "/vhosts/shop", {"description": "the shop", "tags": "production"})
call("PUT", "/users/orders-service", {"password": "s3cret", "tags": "monitoring"})
call("PUT", "/users/ops", {"password": "ops", "tags": "administrator,policymaker"})
call("PUT", "/permissions/shop/orders-service", {"configure": "^orders\\.", "write": ".*", "read": "^orders\\."})
call("PUT", "/permissions/shop/guest", {"configure": ".*", "write": ".*", "read": ".*"})
call("PUT", "/permissions/shop/ops", {"configure": "", "write": "", "read": ".*"})

x = lambda v, n, **kw: call("PUT", f"/exchanges/{v}/{n}", dict({"durable": True}, **kw))
q = lambda v, n, **kw: call("PUT", f"/queues/{v}/{n}", dict({"durable": True}, **kw))
b = lambda v, s, kind, d, key="", args=None: call(
    "POST", f"/bindings/{v}/e/{s}/{kind}/{d}", {"routing_key": key, "arguments": args or {}})

x("shop", "orders", type="topic", arguments={"alternate-exchange": "orders.unrouted"})
x("shop", "orders.unrouted", type="fanout")
x("shop", "orders.internal", type="direct", internal=True)
x("shop", "billing", type="headers")
x("shop", "dlx", type="direct")
x("shop", "scratch", type="fanout", durable=False, auto_delete=True)
q("shop", "orders.created", arguments={"x-message-ttl": 60000, "x-dead-letter-exchange": "dlx",
                                       "x-dead-letter-routing-key": "orders.dead", "x-max-length": 1000,
                                       "x-overflow": "reject-publish"})
q("shop", "orders.dead")
q("shop", "orders.unrouted")
q("shop", "payments", arguments={"x-queue-type": "quorum", "x-delivery-limit": 5})
q("shop", "audit", arguments={"x-queue-type": "stream", "x-max-length-bytes": 100000000, "x-max-age": "7D"})
q("shop", "priority", arguments={"x-max-priority": 10, "x-queue-mode": "lazy"})
q("shop", "sessions", durable=False, auto_delete=True, arguments={"x-expires": 1800000})
b("shop", "orders", "q", "orders.created", "order.*.created")
b("shop", "orders", "e", "billing", "order.#")
b("shop", "orders.unrouted", "q", "orders.unrouted")
b("shop", "dlx", "q", "orders.dead", "orders.dead")
b("shop", "billing", "q", "payments", "", {"x-match": "all", "kind": "invoice", "priority": 2})
b("shop", "orders.internal", "q", "audit", "audit")
b("shop", "amq.topic", "q", "audit", "#")
q("%2F", "hello")
b("%2F", "amq.direct", "q", "hello", "hello")

# An exclusive queue (and its binding) lives with its connection: the export leaves it out.
conn = pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1", amqp_port, "shop"))
ch = conn.channel()
ch.queue_declare("orders.reply", exclusive=True)
ch.queue_bind("orders.reply", "orders", "reply.#")
sys.stdout.write(json.dumps(json.loads(call("GET", "/definitions")), indent=2) + "\n")
conn.close()
