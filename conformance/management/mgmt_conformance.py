#!/usr/bin/env python3
"""Management HTTP API conformance check for warren-server, recorded from RabbitMQ 3.10.8.

Plays one fixed sequence of HTTP requests (plus a few AMQP actions through pika) against a
management base URL and either records what came back (--record) or compares it with a
recording (--golden). See README.md next to this file for what is compared and why.

    mgmt_conformance.py --url http://127.0.0.1:15672 --amqp-port 5672 --record golden.json
    mgmt_conformance.py --url http://127.0.0.1:PORT  --amqp-port PORT --golden golden.json

Exit status: 0 identical, 1 differences (each printed with its step number, method and path),
2 usage error or target unreachable.
"""

import argparse
import base64
import hashlib
import http.client
import json
import sys
import time
import urllib.parse

# --------------------------------------------------------------------------------------------
# Names. Everything the sequence creates lives in these vhosts / users, so a shared broker is
# fine; they are deleted before the sequence starts (unrecorded) and at its end (recorded).

V = "mgmt-conformance"            # main vhost
V2 = "mgmt-conformance/2"         # second vhost; its name needs %2F in paths
VX = "mgmt-conformance-missing"   # never exists
U = "mgmt-conformance-user"       # tag "management", created from a known password_hash
U_PW = "mc-user-secret"
P = "mgmt-conformance-plain"      # no tags: may use AMQP but not the management API
P_PW = "mc-plain-secret"
I = "mgmt-conformance-imported"   # created by a global definitions import
I_PW = "mc-imported-secret"
XU = "mgmt-conformance-other"     # exists only for a few steps (an update without password)

OUR_VHOSTS = [V, V2]
OUR_USERS = [U, P, I]


def sha256_password_hash(salt, password):
    """RabbitMQ's rabbit_password_hashing_sha256 format: base64(salt ++ sha256(salt ++ pw))."""
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


U_HASH = sha256_password_hash(b"mcU1", U_PW)
I_HASH = sha256_password_hash(b"mcI1", I_PW)

# Every name the paths use, substituted into "{V}" etc. and percent-encoded as a path segment.
NAMES = {"V": V, "V2": V2, "VX": VX, "U": U, "P": P, "I": I, "XU": XU}


# --------------------------------------------------------------------------------------------
# Projections: what of a JSON answer is compared.
#
#   None            keep the whole value
#   "@name"         replace the value by TRANSFORMS[name](value)
#   [item, ...]     keep only these members of an object (absent members stay absent);
#                   item = "member" (whole value) or {"member": projection}
#                   applied to a list, it is applied to every element
#   {"filter": {member: value or [values]}, "sort": [member, ...], "each": projection}
#                   a list: keep the elements whose members (dotted paths allowed) equal the
#                   value (or one of the values), project each, then sort by the members
#                   named in "sort" (after projection); without "sort" RabbitMQ's order stays.

def _argshash(value):
    # A binding's properties_key is "<quoted routing key>~<hash of the arguments>" when the
    # binding has arguments; the hash is base64url(erlang:phash2(Args, 2^32)) and is not
    # compared. "~" alone (empty key, no arguments) stays as is.
    if isinstance(value, str) and "~" in value:
        head, _, tail = value.rpartition("~")
        if tail:
            return head + "~<hash>"
    return value


def _b64len(value):
    # A password_hash made from a password has a random salt: compare only its decoded length.
    if not isinstance(value, str):
        return value
    try:
        return "<%d bytes>" % len(base64.b64decode(value, validate=True))
    except ValueError:
        return "<not base64>"


TRANSFORMS = {"argshash": _argshash, "b64len": _b64len}

# Per-object projections, shared by the steps below.
OVERVIEW = ["management_version", "rabbitmq_version", "product_name", "product_version",
            "rates_mode", {"exchange_types": ["name", "description", "enabled"]}]
VHOST = ["name", "description", "tags", "metadata", "tracing", "default_queue_type"]
USER = ["name", "password_hash", "hashing_algorithm", "tags", "limits"]
USER_SALTED = ["name", {"password_hash": "@b64len"}, "hashing_algorithm", "tags", "limits"]
PERMISSION = ["user", "vhost", "configure", "write", "read"]
EXCHANGE = ["name", "vhost", "type", "durable", "auto_delete", "internal", "arguments"]
QUEUE = ["name", "vhost", "type", "durable", "auto_delete", "exclusive", "arguments"]
# Figures RabbitMQ computes from periodic statistics: only read in "wait" steps.
QUEUE_COUNTS = QUEUE + ["state", "messages", "messages_ready", "messages_unacknowledged",
                        "consumers"]
BINDING = ["source", "vhost", "destination", "destination_type", "routing_key", "arguments",
           {"properties_key": "@argshash"}]
MESSAGE = ["payload", "payload_bytes", "payload_encoding", "redelivered", "exchange",
           "routing_key", "message_count", "properties"]
CONSUMER = ["consumer_tag", "ack_required", "exclusive", "prefetch_count", "arguments",
            "active", "activity_status", {"queue": ["name", "vhost"]},
            {"channel_details": ["number", "user"]}]
QUEUE_WITH_CONSUMERS = QUEUE_COUNTS + [{"consumer_details": CONSUMER}]
CONNECTION = ["user", "vhost", "channels", "protocol", "auth_mechanism", "user_provided_name",
              "state", "type", "ssl", "channel_max", "frame_max", "timeout",
              {"client_properties": ["connection_name", "product", "capabilities"]}]
CHANNEL = ["number", "user", "vhost", "consumer_count", "prefetch_count",
           "global_prefetch_count", "confirm", "transactional", "state",
           "messages_unacknowledged", "messages_unconfirmed", "messages_uncommitted",
           "acks_uncommitted"]
OVERVIEW_TOTALS = [{"object_totals": ["connections", "channels", "exchanges", "queues"]},
                   {"queue_totals": ["messages", "messages_ready",
                                     "messages_unacknowledged"]}]


def in_vhosts(each, key="vhost", sort=None):
    spec = {"filter": {key: OUR_VHOSTS}, "each": each}
    if sort:
        spec["sort"] = sort
    return spec


DEFS_QUEUE = ["name", "vhost", "durable", "auto_delete", "arguments"]
DEFS_EXCHANGE = ["name", "vhost", "type", "durable", "auto_delete", "internal", "arguments"]
DEFS_BINDING = ["source", "vhost", "destination", "destination_type", "routing_key",
                "arguments"]
DEFS_BINDING_SORT = ["source", "destination_type", "destination", "routing_key"]
# GET /api/definitions/{vhost}: the vhost's objects only, no "vhost" members.
DEFS_VHOST = ["rabbit_version", "parameters", "policies",
              {"queues": {"sort": ["name"], "each": DEFS_QUEUE}},
              {"exchanges": {"sort": ["name"], "each": DEFS_EXCHANGE}},
              {"bindings": {"sort": DEFS_BINDING_SORT, "each": DEFS_BINDING}}]
# GET /api/definitions: everything, filtered to our vhosts and users.
DEFS_ALL = ["rabbit_version", "rabbitmq_version", "product_name", "product_version",
            {"users": {"filter": {"name": OUR_USERS}, "sort": ["name"], "each": USER_SALTED}},
            {"vhosts": {"filter": {"name": OUR_VHOSTS}, "sort": ["name"], "each": None}},
            {"permissions": in_vhosts(PERMISSION, sort=["vhost", "user"])},
            {"topic_permissions": in_vhosts(None)},
            {"parameters": in_vhosts(None)},
            {"policies": in_vhosts(None)},
            {"queues": in_vhosts(DEFS_QUEUE, sort=["vhost", "name"])},
            {"exchanges": in_vhosts(DEFS_EXCHANGE, sort=["vhost", "name"])},
            {"bindings": in_vhosts(DEFS_BINDING, sort=["vhost"] + DEFS_BINDING_SORT)}]


# --------------------------------------------------------------------------------------------
# The sequence.

class Step:
    """One HTTP request (or, with action set, one AMQP action that is not a request)."""

    def __init__(self, method=None, path=None, body=None, *, raw=None, auth="admin",
                 keep=None, headers=(), wait=None, capture=None, action=None, note=None):
        self.method = method
        self.path = path                # template: {V} etc. and captured {VARS}
        self.body = body                # JSON-encoded when not None
        self.raw = raw                  # sent verbatim instead (malformed bodies)
        self.auth = auth                # admin | none | badpw | unknown | U | P | I
        self.keep = keep                # projection of a JSON answer (None: all of it)
        self.headers = tuple(headers)   # response headers to record besides the defaults
        self.wait = wait                # {"status": int, "expect": partial projected body}
        self.capture = capture          # (var, {member: value}, member): value from a list
        self.action = action            # AMQP action instead of a request
        self.note = note

    def describe(self):
        if self.action:
            return "amqp %s" % self.action
        return "%s %s" % (self.method, self.path)


def GET(path, **kw):
    return Step("GET", path, **kw)


def PUT(path, body=None, **kw):
    return Step("PUT", path, body, **kw)


def POST(path, body=None, **kw):
    return Step("POST", path, body, **kw)


def DELETE(path, **kw):
    return Step("DELETE", path, **kw)


def AMQP(action, note=None):
    return Step(action=action, note=note)


def wait(expect, status=200):
    return {"status": status, "expect": expect}


CT = ("content-type",)
FULL_PERMS = {"configure": ".*", "write": ".*", "read": ".*"}
ALL_PROPERTIES = {
    "content_type": "text/plain", "content_encoding": "identity", "delivery_mode": 2,
    "priority": 3, "correlation_id": "corr-1", "reply_to": "reply-queue",
    "expiration": "600000", "message_id": "msg-1", "timestamp": 1700000000, "type": "kind",
    "user_id": "guest", "app_id": "mgmt-conformance",
    "headers": {"str": "v", "int": 5, "neg": -7, "big": 12345678901234, "bool": True,
                "float": 1.5, "list": ["a", 1, False], "table": {"n": 1, "s": "x"}}}
# b"h\xc3\xa9llo\x00\xff": valid UTF-8 up to "hé", then a NUL and an invalid byte.
BINARY_PAYLOAD = base64.b64encode(b"h\xc3\xa9llo\x00\xff").decode()


def publish(vhost, exchange, routing_key, payload, encoding="string", properties=None, **kw):
    body = {"routing_key": routing_key, "payload": payload, "payload_encoding": encoding,
            "properties": {} if properties is None else properties}
    return POST("/api/exchanges/%s/%s/publish" % (vhost, exchange), body, **kw)


def get(vhost, queue, count, ackmode, encoding="auto", truncate=None, **kw):
    body = {"count": count, "ackmode": ackmode, "encoding": encoding}
    if truncate is not None:
        body["truncate"] = truncate
    kw.setdefault("keep", MESSAGE)
    return POST("/api/queues/%s/%s/get" % (vhost, queue), body, **kw)


def qcounts(messages, ready, unacked, consumers, state="running"):
    return {"state": state, "messages": messages, "messages_ready": ready,
            "messages_unacknowledged": unacked, "consumers": consumers}


SEQUENCE = [
    # ---- basics, authentication, routing of unknown paths and methods
    GET("/api/overview", keep=OVERVIEW, headers=CT),
    GET("/api/whoami", headers=CT),
    GET("/api/overview", auth="none", note="no credentials"),
    GET("/api/overview", auth="badpw", note="wrong password", headers=CT),
    GET("/api/whoami", auth="unknown", note="unknown user"),
    GET("/api/mgmt-conformance-no-such-endpoint", headers=CT),
    PUT("/api/overview", {}),
    DELETE("/api/whoami"),
    # Cowboy routes a request before the handler authenticates it.
    GET("/api/mgmt-conformance-no-such-endpoint", auth="none", note="unrouted, no credentials"),
    DELETE("/api/mgmt-conformance-no-such-endpoint", auth="none", note="unrouted: HEAD, GET, OPTIONS"),
    DELETE("/api/overview", auth="badpw", note="a method the route refuses, wrong password"),
    GET("/api/queues/{V2}/q/mgmt-conformance-no-such-endpoint", auth="none",
        note="unrouted, a segment holding an encoded /"),
    GET("/api/mgmt-conformance-%zz", note="a broken percent escape"),
    Step("OPTIONS", "/api/queues/{V}/q", auth="none", headers=("allow",), note="the route's methods"),
    Step("OPTIONS", "/api/mgmt-conformance-no-such-endpoint", auth="none", headers=("allow",)),
    Step("HEAD", "/api/whoami", headers=("content-type", "content-length"), note="the GET answer's headers"),
    Step("HEAD", "/api/vhost-limits", note="a route without HEAD"),

    # ---- vhosts
    GET("/api/vhosts/{V}", headers=CT),
    PUT("/api/vhosts/{V}", {"description": "warren management conformance",
                            "tags": "conformance, test"}),
    PUT("/api/vhosts/{V}", {"description": "warren management conformance",
                            "tags": "conformance, test"}),
    GET("/api/vhosts/{V}", keep=VHOST, headers=CT),
    PUT("/api/vhosts/{V2}"),
    GET("/api/vhosts/{V2}", keep=VHOST),
    GET("/api/vhosts", keep={"filter": {"name": OUR_VHOSTS}, "each": VHOST}),
    PUT("/api/vhosts/{V2}", {"description": "second", "tags": "b, a"}),
    GET("/api/vhosts/{V2}", keep=VHOST),
    PUT("/api/vhosts/{V2}", {}, note="an update without description and tags"),
    GET("/api/vhosts/{V2}", keep=VHOST),
    GET("/api/vhosts/{V}/permissions", keep=PERMISSION,
        note="the creating user got full permissions"),
    PUT("/api/vhosts/{VX}", raw="{not json", note="malformed JSON"),
    GET("/api/vhosts/{VX}"),
    DELETE("/api/vhosts/{VX}"),
    POST("/api/vhosts/{V}", {}),

    # ---- users
    GET("/api/users/{U}"),
    PUT("/api/users/{U}", {"password_hash": U_HASH, "tags": "management"}),
    PUT("/api/users/{U}", {"password_hash": U_HASH, "tags": "management, custom-tag"}),
    GET("/api/users/{U}", keep=USER, headers=CT),
    PUT("/api/users/{U}", {"password_hash": U_HASH, "tags": ["management"]},
        note="tags as a JSON list"),
    GET("/api/users/{U}", keep=USER),
    PUT("/api/users/{P}", {"password": P_PW, "tags": ""}),
    GET("/api/users/{P}", keep=USER_SALTED),
    GET("/api/users", keep={"filter": {"name": OUR_USERS}, "each": USER_SALTED}),
    PUT("/api/users/{XU}", {"password": "x"}, note="no tags"),
    PUT("/api/users/{XU}", {"password": "x", "password_hash": U_HASH, "tags": ""}),
    PUT("/api/users/{XU}", {"password_hash": "%%%", "tags": ""}),
    GET("/api/users/{XU}"),
    PUT("/api/users/{XU}", {"password": "x", "tags": "management"}),
    GET("/api/whoami", auth="unknown", note="{XU} with its password"),
    PUT("/api/users/{XU}", {"tags": "management"}, note="an update without password"),
    GET("/api/users/{XU}", keep=USER),
    GET("/api/whoami", auth="unknown", note="{XU} with its former password"),
    DELETE("/api/users/{XU}"),
    GET("/api/whoami", auth="U"),
    GET("/api/whoami", auth="P", note="user without the management tag", headers=CT),
    GET("/api/users", auth="U", note="management user, not administrator"),
    GET("/api/queues/{V}", auth="U", note="no permissions in the vhost yet"),

    # ---- permissions
    GET("/api/permissions/{V}/{U}"),
    PUT("/api/permissions/{V}/{U}", FULL_PERMS),
    PUT("/api/permissions/{V}/{U}", FULL_PERMS),
    GET("/api/permissions/{V}/{U}", keep=PERMISSION),
    PUT("/api/permissions/{V}/{P}", {"configure": ".*", "write": ".*"}, note="no read"),
    PUT("/api/permissions/{V}/{XU}", FULL_PERMS),
    PUT("/api/permissions/{VX}/{U}", FULL_PERMS),
    PUT("/api/permissions/{V2}/{P}", {"configure": "^$", "write": "^$", "read": "^$"}),
    GET("/api/permissions", keep=in_vhosts(PERMISSION, sort=["vhost", "user"])),
    GET("/api/vhosts/{V}/permissions", keep=PERMISSION),
    GET("/api/users/{U}/permissions", keep=PERMISSION),
    GET("/api/vhosts", auth="U", keep=VHOST, note="only the vhosts the user may use"),
    GET("/api/queues/{V2}", auth="U", note="vhost without permissions"),

    # ---- policies and limits: none in our vhosts, read under RabbitMQ's rules
    GET("/api/policies/{V}", auth="U"),
    GET("/api/policies/{V2}", auth="U", note="vhost without permissions"),
    GET("/api/policies/{VX}", auth="U"),
    GET("/api/policies/{V}/mc-policy", auth="U", note="not a policymaker"),
    GET("/api/policies/{V}/mc-policy"),
    GET("/api/operator-policies/{V}/mc-policy", auth="U"),
    GET("/api/vhost-limits/{V}", auth="U"),
    GET("/api/vhost-limits/{V2}", auth="U"),
    GET("/api/user-limits/{U}", auth="U"),
    GET("/api/user-limits/{VX}", note="no such user"),

    # ---- exchanges
    GET("/api/exchanges/{V}", keep=EXCHANGE, headers=CT),
    PUT("/api/exchanges/{V}/mc.topic", {"type": "topic", "durable": True,
                                        "auto_delete": False, "internal": False,
                                        "arguments": {"alternate-exchange": "mc.alt"}}),
    PUT("/api/exchanges/{V}/mc.topic", {"type": "topic", "durable": True,
                                        "auto_delete": False, "internal": False,
                                        "arguments": {"alternate-exchange": "mc.alt"}}),
    PUT("/api/exchanges/{V}/mc.topic", {"type": "direct", "durable": True}),
    PUT("/api/exchanges/{V}/mc.topic", {"type": "topic", "durable": False}),
    PUT("/api/exchanges/{V}/mc.direct", {"type": "direct", "durable": True}),
    PUT("/api/exchanges/{V}/mc.fanout", {"type": "fanout", "durable": False,
                                         "auto_delete": True, "internal": True}),
    PUT("/api/exchanges/{V}/mc.defaults", {}, note="every field defaulted"),
    PUT("/api/exchanges/{V}/mc.bad", {"type": "no-such-type"}),
    PUT("/api/exchanges/{V}/mc.bad", raw="{not json"),
    PUT("/api/exchanges/{V}/mc.bad", {"type": "direct",
                                      "arguments": {"alternate-exchange": 5}}),
    PUT("/api/exchanges/{V}/amq.mc", {"type": "direct"}, note="reserved prefix"),
    PUT("/api/exchanges/{V}/amq.direct", {"type": "direct", "durable": True},
        note="equivalent re-declare of a built-in exchange"),
    DELETE("/api/exchanges/{V}/amq.direct"),
    PUT("/api/exchanges/{VX}/mc.topic", {"type": "topic"}),
    GET("/api/exchanges/{V}/mc.topic", keep=EXCHANGE),
    GET("/api/exchanges/{V}/mc.fanout", keep=EXCHANGE),
    GET("/api/exchanges/{V}/mc.defaults", keep=EXCHANGE),
    GET("/api/exchanges/{V}/amq.default", keep=EXCHANGE),
    GET("/api/exchanges/{V}/mc.missing"),
    GET("/api/exchanges/{VX}"),
    GET("/api/exchanges", keep=in_vhosts(EXCHANGE)),
    GET("/api/exchanges/{V}", keep=EXCHANGE),

    # ---- queues
    PUT("/api/queues/{V}/mc.classic", {"durable": True, "auto_delete": False,
                                       "arguments": {"x-max-length": 100,
                                                     "x-message-ttl": 600000}}),
    PUT("/api/queues/{V}/mc.classic", {"durable": True, "auto_delete": False,
                                       "arguments": {"x-max-length": 100,
                                                     "x-message-ttl": 600000}}),
    PUT("/api/queues/{V}/mc.classic", {"durable": True, "auto_delete": False,
                                       "arguments": {"x-max-length": 101,
                                                     "x-message-ttl": 600000}}),
    PUT("/api/queues/{V}/mc.classic", {"durable": False}),
    PUT("/api/queues/{V}/mc.quorum", {"durable": True, "arguments": {
        "x-queue-type": "quorum", "x-delivery-limit": 5}}),
    PUT("/api/queues/{V}/mc.stream", {"durable": True, "arguments": {
        "x-queue-type": "stream", "x-max-length-bytes": 10000000}}),
    PUT("/api/queues/{V}/mc.scratch", {}, note="every field defaulted"),
    PUT("/api/queues/{V}/mc.bad", {"durable": False, "arguments": {"x-queue-type": "quorum"}}),
    PUT("/api/queues/{V}/mc.bad", {"arguments": {"x-queue-type": "no-such-type"}}),
    PUT("/api/queues/{V}/mc.bad", {"arguments": {"x-max-length": "abc"}}),
    PUT("/api/queues/{V}/mc.bad", {"durable": "yes"}),
    PUT("/api/queues/{V}/mc.bad", {"durable": True, "arguments": {
        "x-queue-type": "quorum", "x-max-priority": 5}}),
    PUT("/api/queues/{V}/mc.bad", raw="{not json"),
    PUT("/api/queues/{V}/amq.mc", {}, note="reserved prefix"),
    PUT("/api/queues/{VX}/mc.classic", {}),
    GET("/api/queues/{V}/mc.classic", keep=QUEUE, headers=CT),
    GET("/api/queues/{V}/mc.quorum", keep=QUEUE),
    GET("/api/queues/{V}/mc.stream", keep=QUEUE),
    GET("/api/queues/{V}/mc.scratch", keep=QUEUE),
    GET("/api/queues/{V}/mc.missing"),
    GET("/api/queues/{VX}"),
    GET("/api/queues/{V}", keep=QUEUE),
    GET("/api/queues", keep=in_vhosts(QUEUE)),
    POST("/api/queues/{V}/mc.classic", {}),

    # ---- bindings
    POST("/api/bindings/{V}/e/mc.topic/q/mc.classic", {"routing_key": "a.*",
                                                       "arguments": {}}),
    POST("/api/bindings/{V}/e/mc.topic/q/mc.classic", {"routing_key": "a.*",
                                                       "arguments": {}}),
    POST("/api/bindings/{V}/e/mc.topic/q/mc.classic", {"routing_key": "b.#",
                                                       "arguments": {"x-note": "n"}},
         keep=None),
    POST("/api/bindings/{V}/e/mc.topic/q/mc.quorum", {}),
    POST("/api/bindings/{V}/e/mc.topic/e/mc.direct", {"routing_key": "c"}),
    POST("/api/bindings/{V}/e/mc.missing/q/mc.classic", {"routing_key": "k"}),
    POST("/api/bindings/{V}/e/mc.topic/q/mc.missing", {"routing_key": "k"}),
    POST("/api/bindings/{V}/e/amq.default/q/mc.classic", {"routing_key": "k"}),
    GET("/api/bindings/{V}/e/mc.topic/q/mc.classic", keep=BINDING, headers=CT,
        capture=("ARGSKEY", {"routing_key": "b.#"}, "properties_key")),
    GET("/api/bindings/{V}/e/mc.topic/e/mc.direct", keep=BINDING),
    GET("/api/bindings/{V}/e/mc.topic/q/mc.classic/a.%252A", keep=BINDING,
        note="properties_key a.%2A, percent-encoded once more in the path"),
    GET("/api/bindings/{V}/e/mc.topic/q/mc.classic/{ARGSKEY}", keep=BINDING),
    GET("/api/bindings/{V}/e/mc.topic/q/mc.quorum/~", keep=BINDING),
    GET("/api/bindings/{V}/e/mc.topic/q/mc.classic/b.%2523",
        note="key of a binding that has arguments, without their hash"),
    GET("/api/bindings/{V}/e/mc.missing/q/mc.classic", keep=BINDING),
    GET("/api/bindings/{V}", keep=BINDING),
    GET("/api/bindings", keep=in_vhosts(BINDING)),
    GET("/api/exchanges/{V}/mc.topic/bindings/source", keep=BINDING),
    GET("/api/exchanges/{V}/mc.direct/bindings/destination", keep=BINDING),
    GET("/api/queues/{V}/mc.classic/bindings", keep=BINDING),
    GET("/api/bindings/{VX}"),
    DELETE("/api/exchanges/{V}/mc.topic?if-unused=true"),
    DELETE("/api/bindings/{V}/e/mc.topic/e/mc.direct/c"),
    DELETE("/api/bindings/{V}/e/mc.topic/e/mc.direct/c"),
    GET("/api/exchanges/{V}/mc.direct/bindings/destination", keep=BINDING),

    # ---- publish
    publish("{V}", "amq.default", "mc.classic", "hello", properties=ALL_PROPERTIES,
            headers=CT),
    publish("{V}", "amq.default", "mc.classic", BINARY_PAYLOAD, encoding="base64"),
    publish("{V}", "mc.topic", "a.x", "via topic", properties={"delivery_mode": 1,
                                                              "headers": {}}),
    publish("{V}", "mc.topic", "nothing.matches", "lost"),
    publish("{V}", "mc.missing", "k", "x"),
    POST("/api/exchanges/{V}/amq.default/publish", {"routing_key": "mc.classic",
                                                    "payload": "x", "properties": {}},
         note="no payload_encoding"),
    POST("/api/exchanges/{V}/amq.default/publish", {"routing_key": "mc.classic",
                                                    "payload": "x",
                                                    "payload_encoding": "string"},
         note="no properties"),
    publish("{V}", "amq.default", "mc.classic", "x", encoding="no-such-encoding"),
    publish("{V}", "amq.default", "mc.classic", "!!!", encoding="base64"),
    publish("{V}", "amq.default", "mc.classic", "x", properties={"headers": {"n": None}}),
    publish("{V}", "amq.default", "mc.classic", "x", properties={"delivery_mode": "2"}),
    publish("{V}", "amq.default", "mc.classic", "x", properties={"user_id": "someone-else"}),
    GET("/api/exchanges/{V}/amq.default/publish"),
    GET("/api/queues/{V}/mc.classic", keep=QUEUE_COUNTS,
        wait=wait(qcounts(3, 3, 0, 0))),

    # ---- get
    get("{V}", "mc.classic", 10, "ack_requeue_true", headers=CT),
    get("{V}", "mc.classic", 1, "ack_requeue_true", encoding="base64"),
    get("{V}", "mc.classic", 3, "reject_requeue_true", truncate=2),
    get("{V}", "mc.classic", 3, "ack_requeue_true", truncate=3),
    get("{V}", "mc.classic", 1, "ack_requeue_false"),
    get("{V}", "mc.classic", 5, "ack_requeue_true"),
    POST("/api/queues/{V}/mc.classic/get", {"count": 1, "encoding": "auto"},
         note="no ackmode"),
    POST("/api/queues/{V}/mc.classic/get", {"ackmode": "ack_requeue_true",
                                            "encoding": "auto"}, note="no count"),
    get("{V}", "mc.classic", 1, "ack_requeue_true", encoding="no-such-encoding"),
    get("{V}", "mc.missing", 1, "ack_requeue_true"),
    get("{V}", "mc.stream", 1, "ack_requeue_true"),
    GET("/api/queues/{V}/mc.classic/get"),
    GET("/api/queues/{V}/mc.classic", keep=QUEUE_COUNTS,
        wait=wait(qcounts(2, 2, 0, 0))),
    publish("{V}", "amq.default", "mc.quorum", "q-one"),
    publish("{V}", "amq.default", "mc.quorum", "q-two", properties={"priority": 1}),
    get("{V}", "mc.quorum", 1, "ack_requeue_true"),
    get("{V}", "mc.quorum", 2, "reject_requeue_true"),
    get("{V}", "mc.quorum", 1, "reject_requeue_false"),
    get("{V}", "mc.quorum", 5, "ack_requeue_true"),
    publish("{V}", "amq.default", "mc.stream", "s-one"),
    publish("{V}", "amq.default", "mc.stream", "s-two"),
    publish("{V}", "mc.topic", "nothing", "s-three"),
    GET("/api/queues/{V}/mc.quorum", keep=QUEUE_COUNTS, wait=wait(qcounts(1, 1, 0, 0))),
    GET("/api/queues/{V}/mc.stream", keep=QUEUE_COUNTS, wait=wait(qcounts(2, 2, 0, 0))),
    GET("/api/queues/{V}", keep=QUEUE_COUNTS,
        wait=wait([qcounts(2, 2, 0, 0), qcounts(1, 1, 0, 0), qcounts(0, 0, 0, 0),
                   qcounts(2, 2, 0, 0)])),

    # ---- purge
    DELETE("/api/queues/{V}/mc.scratch/contents"),
    DELETE("/api/queues/{V}/mc.stream/contents"),
    DELETE("/api/queues/{V}/mc.missing/contents"),
    DELETE("/api/queues/{V}/mc.quorum/contents"),
    GET("/api/queues/{V}/mc.quorum", keep=QUEUE_COUNTS, wait=wait(qcounts(0, 0, 0, 0))),

    # ---- an AMQP connection with a consumer, as the management user
    AMQP("open", note="connection 'mgmt-conformance' as {U} to {V}: channel 1 basic.qos 7 and "
                      "a consumer 'mc-ctag' (x-priority 5, manual ack) on mc.classic, which "
                      "holds 2 messages it does not ack; channel 2 in confirm mode"),
    GET("/api/connections", keep=in_vhosts(CONNECTION),
        wait=wait([{"user": U, "vhost": V, "channels": 2, "state": "running"}])),
    GET("/api/vhosts/{V}/connections", keep=CONNECTION,
        wait=wait([{"user": U, "channels": 2}])),
    GET("/api/connections", auth="U", keep=CONNECTION,
        wait=wait([{"user": U, "channels": 2}])),
    GET("/api/channels", keep=in_vhosts(CHANNEL, sort=["number"]),
        wait=wait([{"number": 1, "consumer_count": 1, "prefetch_count": 7,
                    "messages_unacknowledged": 2, "confirm": False},
                   {"number": 2, "consumer_count": 0, "confirm": True}])),
    GET("/api/vhosts/{V}/channels", keep={"sort": ["number"], "each": CHANNEL},
        wait=wait([{"number": 1, "messages_unacknowledged": 2},
                   {"number": 2, "confirm": True}])),
    GET("/api/consumers", keep=in_vhosts(CONSUMER, key="queue.vhost"),
        wait=wait([{"consumer_tag": "mc-ctag"}])),
    GET("/api/consumers/{V}", keep=CONSUMER, wait=wait([{"consumer_tag": "mc-ctag"}])),
    GET("/api/queues/{V}/mc.classic", keep=QUEUE_WITH_CONSUMERS,
        wait=wait(dict(qcounts(2, 0, 2, 1), consumer_details=[{"consumer_tag": "mc-ctag"}]))),
    GET("/api/overview", auth="U", keep=OVERVIEW_TOTALS,
        wait=wait({"object_totals": {"connections": 1, "channels": 2, "queues": 4},
                   "queue_totals": {"messages": 4, "messages_ready": 2,
                                    "messages_unacknowledged": 2}})),
    DELETE("/api/queues/{V}/mc.classic?if-unused=true"),
    AMQP("close"),
    GET("/api/connections", keep=in_vhosts(CONNECTION), wait=wait([])),
    GET("/api/consumers/{V}", keep=CONSUMER, wait=wait([])),
    GET("/api/queues/{V}/mc.classic", keep=QUEUE_WITH_CONSUMERS,
        wait=wait(dict(qcounts(2, 2, 0, 0), consumer_details=[]))),
    get("{V}", "mc.classic", 5, "ack_requeue_true"),

    # ---- deletes
    DELETE("/api/queues/{V}/mc.classic?if-empty=true"),
    DELETE("/api/queues/{V}/mc.quorum?if-empty=true"),
    DELETE("/api/queues/{V}/mc.quorum?if-unused=true"),
    DELETE("/api/queues/{V}/mc.scratch?if-empty=true&if-unused=true"),
    DELETE("/api/queues/{V}/mc.scratch"),
    DELETE("/api/queues/{V}/mc.classic"),
    DELETE("/api/queues/{V}/mc.classic"),
    DELETE("/api/exchanges/{V}/mc.fanout?if-unused=true"),
    DELETE("/api/exchanges/{V}/mc.missing"),
    DELETE("/api/exchanges/{V}/mc.topic"),
    GET("/api/exchanges/{V}/mc.topic"),
    GET("/api/bindings/{V}", keep=BINDING),
    GET("/api/queues/{V}", keep=QUEUE),

    # ---- definitions
    POST("/api/definitions/{V2}", {
        "exchanges": [{"name": "mc.def.x", "type": "fanout", "durable": True,
                       "auto_delete": False, "internal": False, "arguments": {}}],
        "queues": [{"name": "mc.def.q1", "durable": True, "auto_delete": False,
                    "arguments": {"x-max-priority": 5}},
                   {"name": "mc.def.q2", "durable": True, "auto_delete": False,
                    "arguments": {"x-queue-type": "quorum"}}],
        "bindings": [{"source": "mc.def.x", "destination": "mc.def.q1",
                      "destination_type": "queue", "routing_key": "r", "arguments": {}},
                     {"source": "mc.def.x", "destination": "mc.def.q2",
                      "destination_type": "queue", "routing_key": "", "arguments": {}}]}),
    GET("/api/definitions/{V2}", keep=DEFS_VHOST, headers=CT),
    POST("/api/definitions/{V2}", {"queues": [{"name": "mc.def.q1", "durable": False,
                                               "auto_delete": False, "arguments": {}}]},
         note="an existing queue with other properties"),
    GET("/api/queues/{V2}/mc.def.q1", keep=QUEUE),
    POST("/api/definitions/{V2}", raw="{not json"),
    POST("/api/definitions/{V2}", {"queues": [{"name": "mc.def.q3"}]},
         note="queue without durable/auto_delete/arguments"),
    POST("/api/definitions/{VX}", {"queues": []}),
    GET("/api/definitions/{VX}"),
    GET("/api/definitions/{V}", keep=DEFS_VHOST),
    POST("/api/definitions", {
        "users": [{"name": I, "password_hash": I_HASH,
                   "hashing_algorithm": "rabbit_password_hashing_sha256",
                   "tags": ["management"]}],
        "permissions": [{"user": I, "vhost": V2, "configure": ".*", "write": ".*",
                         "read": ""}],
        "queues": [{"name": "mc.def.imported", "vhost": V2, "durable": True,
                    "auto_delete": False, "arguments": {}}]}),
    GET("/api/users/{I}", keep=USER),
    GET("/api/permissions/{V2}/{I}", keep=PERMISSION),
    GET("/api/whoami", auth="I"),
    GET("/api/queues/{V2}", keep=QUEUE),
    GET("/api/bindings/{V2}", keep=BINDING),
    GET("/api/definitions", keep=DEFS_ALL),
    POST("/api/definitions", raw="{not json"),
    GET("/api/definitions/{V2}", auth="U"),

    # ---- health checks
    GET("/api/aliveness-test/{V}", headers=CT),
    GET("/api/queues/{V}/aliveness-test", keep=QUEUE),
    GET("/api/aliveness-test/{VX}"),
    GET("/api/aliveness-test/{V}", auth="P"),
    GET("/api/healthchecks/node", headers=CT),

    # ---- a management user with narrow permissions
    PUT("/api/permissions/{V}/{U}", {"configure": "^mc\\.own\\.", "write": "^mc\\.own\\.",
                                     "read": "^mc\\.own\\."}),
    PUT("/api/queues/{V}/mc.forbidden", {}, auth="U"),
    PUT("/api/queues/{V}/mc.own.q", {}, auth="U"),
    get("{V}", "mc.quorum", 1, "ack_requeue_true", auth="U"),
    publish("{V}", "amq.default", "mc.own.q", "x", auth="U"),
    DELETE("/api/queues/{V}/mc.quorum", auth="U"),
    DELETE("/api/queues/{V}/mc.quorum/contents", auth="U"),
    POST("/api/bindings/{V}/e/amq.direct/q/mc.own.q", {"routing_key": "k"}, auth="U"),
    GET("/api/aliveness-test/{V}", auth="U"),
    PUT("/api/vhosts/{VX}", {}, auth="U"),
    DELETE("/api/users/{P}", auth="U"),
    GET("/api/queues/{V}/mc.own.q", auth="U", keep=QUEUE),

    # ---- clean up
    DELETE("/api/permissions/{V}/{U}"),
    DELETE("/api/permissions/{V}/{U}"),
    DELETE("/api/users/{U}"),
    DELETE("/api/users/{P}"),
    DELETE("/api/users/{I}"),
    DELETE("/api/users/{U}"),
    GET("/api/users", keep={"filter": {"name": OUR_USERS}, "each": USER_SALTED}),
    DELETE("/api/vhosts/{V}"),
    DELETE("/api/vhosts/{V2}"),
    DELETE("/api/vhosts/{V}"),
    GET("/api/vhosts/{V}"),
    GET("/api/vhosts", keep={"filter": {"name": OUR_VHOSTS}, "each": VHOST}),
    GET("/api/permissions", keep=in_vhosts(PERMISSION, sort=["vhost", "user"])),
]


# --------------------------------------------------------------------------------------------
# Projection and comparison.

def _dotted(value, path):
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _sort_key(value):
    return json.dumps(value, sort_keys=True)


def project(value, spec):
    if spec is None:
        return value
    if isinstance(spec, str):
        return TRANSFORMS[spec[1:]](value)
    if isinstance(spec, dict):
        if not isinstance(value, list):
            return value
        items = value
        for key, wanted in spec.get("filter", {}).items():
            allowed = wanted if isinstance(wanted, list) else [wanted]
            items = [x for x in items if _dotted(x, key) in allowed]
        items = [project(x, spec.get("each")) for x in items]
        if "sort" in spec:
            items.sort(key=lambda x: [_sort_key(_dotted(x, k)) for k in spec["sort"]])
        return items
    if isinstance(value, list):
        return [project(x, spec) for x in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for item in spec:
        if isinstance(item, str):
            if item in value:
                out[item] = value[item]
        else:
            for key, sub in item.items():
                if key in value:
                    out[key] = project(value[key], sub)
    return out


def matches(value, expect):
    """Whether value contains expect (objects: these members; lists: same length)."""
    if isinstance(expect, dict):
        return isinstance(value, dict) and all(
            k in value and matches(value[k], v) for k, v in expect.items())
    if isinstance(expect, list):
        return (isinstance(value, list) and len(value) == len(expect)
                and all(matches(a, b) for a, b in zip(value, expect)))
    return value == expect and type(value) is type(expect)


def differences(expected, got, where="$"):
    """Readable list of differences between two JSON values."""
    if type(expected) is not type(got):
        return ["%s: expected %s, got %s" % (where, _show(expected), _show(got))]
    if isinstance(expected, dict):
        out = []
        for k in expected:
            if k not in got:
                out.append("%s.%s: expected %s, got nothing" % (where, k, _show(expected[k])))
            else:
                out += differences(expected[k], got[k], "%s.%s" % (where, k))
        for k in got:
            if k not in expected:
                out.append("%s.%s: unexpected %s" % (where, k, _show(got[k])))
        return out
    if isinstance(expected, list):
        if len(expected) != len(got):
            return ["%s: expected %d elements %s, got %d %s"
                    % (where, len(expected), _show(expected), len(got), _show(got))]
        out = []
        for i, (a, b) in enumerate(zip(expected, got)):
            out += differences(a, b, "%s[%d]" % (where, i))
        return out
    if expected != got:
        return ["%s: expected %s, got %s" % (where, _show(expected), _show(got))]
    return []


def _show(value, limit=400):
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= limit else text[:limit] + "..."


# --------------------------------------------------------------------------------------------
# Running.

class Target:
    def __init__(self, url, amqp_port, admin_user, admin_password, timeout):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise SystemExit("mgmt_conformance: --url must be http://host:port")
        self.host = parts.hostname
        self.port = parts.port or 80
        self.prefix = parts.path.rstrip("/")
        self.amqp_port = amqp_port
        self.timeout = timeout
        self.creds = {"admin": (admin_user, admin_password),
                      "badpw": (admin_user, admin_password + "-wrong"),
                      "unknown": (XU, "x"),
                      "U": (U, U_PW), "P": (P, P_PW), "I": (I, I_PW)}
        self.admin_user = admin_user
        self.amqp = None

    def request(self, method, path, auth="admin", body=None, raw=None):
        headers = {}
        if auth != "none":
            user, password = self.creds[auth]
            token = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
            headers["Authorization"] = "Basic " + token
        data = None
        if raw is not None:
            data = raw.encode()
        elif body is not None:
            data = json.dumps(body).encode()
        if data is not None:
            headers["Content-Type"] = "application/json"
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            conn.request(method, self.prefix + path, body=data, headers=headers)
            resp = conn.getresponse()
            payload = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, payload
        except (OSError, http.client.HTTPException) as e:
            # No answer at all: status 0 and the error as the body, so it shows as a difference.
            return 0, {}, json.dumps({"$no_answer": "%s: %s" % (type(e).__name__, e)}).encode()
        finally:
            conn.close()

    # AMQP side (pika is imported only here).
    def amqp_open(self):
        import pika
        params = pika.ConnectionParameters(
            host=self.host, port=self.amqp_port, virtual_host=V,
            credentials=pika.PlainCredentials(U, U_PW),
            client_properties={"connection_name": "mgmt-conformance"})
        conn = pika.BlockingConnection(params)
        ch1 = conn.channel()
        ch1.basic_qos(prefetch_count=7)
        ch1.basic_consume("mc.classic", lambda *a: None, auto_ack=False,
                          consumer_tag="mc-ctag", arguments={"x-priority": 5})
        ch2 = conn.channel()
        ch2.confirm_delivery()
        self.amqp = conn
        self.pump()

    def amqp_close(self):
        if self.amqp is not None:
            conn, self.amqp = self.amqp, None
            conn.close()

    def pump(self):
        if self.amqp is not None:
            self.amqp.process_data_events(time_limit=0)


def expand(template, variables):
    names = dict(NAMES)
    names.update(variables)
    out = template
    for key, value in names.items():
        out = out.replace("{%s}" % key, urllib.parse.quote(value, safe=""))
    return out


def record_of(step, status, headers, payload):
    rec = {"status": status}
    wanted = list(step.headers)
    if status == 201:
        wanted.append("location")
    if status == 405:
        wanted.append("allow")
    if status == 401:
        wanted.append("www-authenticate")
    if wanted:
        rec["headers"] = {h: headers.get(h) for h in wanted}
    if not payload:
        rec["body"] = ""
    else:
        try:
            body = json.loads(payload)
        except ValueError:
            rec["body"] = {"$text": payload.decode("utf-8", "replace")}
        else:
            rec["body"] = project(body, step.keep) if status < 300 else body
    return rec


def mask_location(rec):
    # The hash in a binding's Location is not compared either (see _argshash).
    loc = rec.get("headers", {}).get("location")
    if loc:
        rec["headers"]["location"] = _argshash(loc)
    return rec


def play(target, mode, golden_steps, wait_timeout, show):
    """Runs the sequence; returns (records, list of difference texts)."""
    records, problems, variables = [], [], {}
    requests = 0
    for number, step in enumerate(SEQUENCE, 1):
        golden = golden_steps[number - 1] if golden_steps and number <= len(golden_steps) \
            else None
        if step.action:
            entry = {"step": number, "amqp": step.action}
            if step.note:
                entry["note"] = expand(step.note, {})
            try:
                if step.action == "open":
                    target.amqp_open()
                else:
                    target.amqp_close()
            except Exception as e:  # pika raises many kinds; any failure is a difference
                target.amqp = None
                if mode == "record":
                    raise SystemExit("mgmt_conformance: step %d amqp %s failed: %s: %s"
                                     % (number, step.action, type(e).__name__, e))
                entry["error"] = "%s: %s" % (type(e).__name__, e)
            records.append(entry)
            if show:
                print("%3d amqp %s%s" % (number, step.action,
                                         " -> " + entry["error"] if "error" in entry else ""))
            if golden is not None and (golden.get("amqp"), golden.get("error")) != \
                    (entry["amqp"], entry.get("error")):
                problems.append("step %d amqp %s: expected %s, got %s"
                                % (number, step.action,
                                   golden.get("error") or "success (%s)" % golden.get("amqp"),
                                   entry.get("error") or "success"))
            continue
        requests += 1
        path = expand(step.path, variables)
        shown_path = expand(step.path, {})   # captured values stay as {NAME}
        entry = {"step": number, "method": step.method, "path": shown_path}
        if step.auth != "admin":
            entry["auth"] = step.auth
        if step.body is not None:
            entry["request"] = step.body
        if step.raw is not None:
            entry["request_raw"] = step.raw
        if step.note:
            entry["note"] = expand(step.note, {})
        entry["compare"] = step.keep
        if golden is not None and (golden.get("method"), golden.get("path")) != \
                (entry["method"], entry["path"]):
            problems.append("step %d %s %s: the golden file has %s %s here; re-record it"
                            % (number, step.method, shown_path, golden.get("method"),
                               golden.get("path")))
            golden = None
        started = time.monotonic()
        deadline = started + wait_timeout
        while True:
            status, headers, payload = target.request(step.method, path, step.auth,
                                                      step.body, step.raw)
            target.pump()
            rec = mask_location(record_of(step, status, headers, payload))
            if not step.wait:
                break
            if mode == "record":
                done = status == step.wait["status"] and matches(rec.get("body"),
                                                                 step.wait["expect"])
            else:
                done = golden is None or _response(golden) == _response(rec)
            if done or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        if step.wait and mode == "record" and not done:
            raise SystemExit("mgmt_conformance: step %d %s %s: no answer matching %s within "
                             "%.0f s; last answer %s %s"
                             % (number, step.method, path, _show(step.wait["expect"]),
                                wait_timeout, status, _show(rec.get("body"))))
        if step.wait:
            entry["wait_for"] = step.wait["expect"]
        entry.update(rec)
        if step.capture:
            var, where, member = step.capture
            found = [x for x in (json.loads(payload) if payload else [])
                     if isinstance(x, dict) and all(x.get(k) == v for k, v in where.items())]
            variables[var] = found[0][member] if found else "<not-found>"
        records.append(entry)
        if show:
            waited = " (after %.1f s)" % (time.monotonic() - started) if step.wait else ""
            print("%3d %s %s -> %s%s %s" % (number, step.method, path, status, waited,
                                            _show(rec.get("body"), 2000)))
        if golden is not None:
            if golden.get("compare") != entry["compare"]:
                problems.append("step %d %s %s: recorded with another projection; re-record"
                                % (number, step.method, shown_path))
            want, got = _response(golden), _response(entry)
            if want != got:
                lines = ["step %d %s %s%s" % (number, step.method, shown_path,
                                              "  (%s)" % entry["note"] if step.note else "")]
                if want["status"] != got["status"]:
                    lines.append("    status: expected %s, got %s"
                                 % (want["status"], got["status"]))
                for h in sorted(set(want["headers"]) | set(got["headers"])):
                    if want["headers"].get(h) != got["headers"].get(h):
                        lines.append("    header %s: expected %s, got %s"
                                     % (h, _show(want["headers"].get(h)),
                                        _show(got["headers"].get(h))))
                for d in differences(want["body"], got["body"], "body"):
                    lines.append("    " + d)
                problems.append("\n".join(lines))
    if golden_steps is not None and len(golden_steps) != len(SEQUENCE):
        problems.append("the golden file has %d steps, the sequence %d; re-record it"
                        % (len(golden_steps), len(SEQUENCE)))
    return records, problems, requests


def _response(entry):
    return {"status": entry.get("status"), "headers": entry.get("headers", {}),
            "body": entry.get("body")}


def clean(target):
    """Deletes whatever an earlier run may have left (not recorded, errors ignored)."""
    target.amqp_close()
    for vhost in OUR_VHOSTS:
        target.request("DELETE", "/api/vhosts/" + urllib.parse.quote(vhost, safe=""))
    for user in OUR_USERS + [XU]:
        target.request("DELETE", "/api/users/" + urllib.parse.quote(user, safe=""))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", required=True, help="management base URL, e.g. "
                    "http://127.0.0.1:15672")
    ap.add_argument("--amqp-port", type=int, required=True,
                    help="AMQP port of the same broker (same host as --url)")
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--record", metavar="FILE", help="write the answers to FILE")
    mode.add_argument("--golden", metavar="FILE", help="compare the answers with FILE")
    ap.add_argument("--user", default="guest", help="administrator user (guest)")
    ap.add_argument("--password", default="guest", help="its password (guest)")
    ap.add_argument("--wait-timeout", type=float, default=20.0,
                    help="seconds a statistics step may poll (20)")
    ap.add_argument("--show", action="store_true", help="print every answer")
    args = ap.parse_args(argv)

    try:
        import pika  # noqa: F401  (used by the AMQP steps)
    except ImportError:
        print("mgmt_conformance: needs pika (Debian: python3-pika; pip install pika)",
              file=sys.stderr)
        return 2
    golden_steps = None
    if args.golden:
        try:
            with open(args.golden, encoding="utf-8") as f:
                golden_steps = json.load(f)["steps"]
        except (OSError, ValueError, KeyError) as e:
            print("mgmt_conformance: cannot read %s: %s" % (args.golden, e), file=sys.stderr)
            return 2
    target = Target(args.url, args.amqp_port, args.user, args.password, timeout=30)
    status, _, payload = target.request("GET", "/api/whoami")
    if status == 0:
        print("mgmt_conformance: %s does not answer: %s" % (args.url, payload.decode()),
              file=sys.stderr)
        return 2
    if status != 200:
        print("mgmt_conformance: GET /api/whoami as %s answered %d" % (args.user, status),
              file=sys.stderr)
        return 2
    clean(target)
    try:
        records, problems, requests = play(target, "record" if args.record else "golden",
                                           golden_steps, args.wait_timeout, args.show)
    finally:
        clean(target)
    if args.record:
        with open(args.record, "w", encoding="utf-8") as f:
            json.dump({"format": "warren management conformance 1",
                       "requests": requests, "steps": records}, f, indent=1,
                      ensure_ascii=False)
            f.write("\n")
        print("recorded %d steps (%d requests) to %s" % (len(records), requests, args.record))
        return 0
    for p in problems:
        print(p)
    differing = len(problems)
    print("%d requests: %s" % (requests, "identical" if not differing else
                               "%d differences" % differing))
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
