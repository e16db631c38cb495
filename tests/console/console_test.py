#!/usr/bin/env python3
"""Headless-Chromium test of the warren web console (server/management/console).

    python3 tests/console/console_test.py --url http://127.0.0.1:15672 [--screenshots DIR] [--warren]

The server at --url must serve the console at / and the management API under
/api.  The test makes its own vhost through the API, opens one AMQP connection
with consumers (its own small client), logs in through the console's form,
checks what each page shows, optionally saves a PNG of each page, and deletes
its vhost.  Exit 0 when every check passed, 1 otherwise (each failure names the
page and the text that was missing).  tests/console/run.sh runs it against a
warren-server binary it starts on free ports.

Chromium is driven over the DevTools protocol (--remote-debugging-port) with a
small stdlib websocket client: unlike --dump-dom this logs in through the real
form, keeps one session across pages, types into forms, clicks buttons and
re-checks the live DOM until the expected text shows: each check runs again as
soon as the page changes (a MutationObserver in the page, awaited through
Runtime.evaluate), or a second later when it does not, never after a fixed
sleep; that is what makes it dependable on a slow machine.  Standard library only.
"""
import argparse
import base64
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

VHOST = 'console-test'
AUTH_KEY = 'warren.console.auth'   # the console's sessionStorage key


class Fail(Exception):
    pass


# ---- management API ----------------------------------------------------------
class Api:
    def __init__(self, base, user, password):
        self.base = base + '/api/'
        self.auth = 'Basic ' + base64.b64encode(f'{user}:{password}'.encode()).decode()

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header('Authorization', self.auth)
        if data is not None:
            req.add_header('Content-Type', 'application/json')
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                status, raw = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        return status, parsed

    def must(self, method, path, body=None):
        status, data = self.call(method, path, body)
        if status >= 300:
            raise Fail(f'setup: {method} /api/{path} answered HTTP {status}: {data}')
        return data


def q(s):
    return urllib.parse.quote(s, safe='')


def make_state(api):
    """A vhost with direct, topic, headers (+ alternate) exchanges, bound queues, a few messages."""
    api.call('DELETE', f'vhosts/{q(VHOST)}')
    api.must('PUT', f'vhosts/{q(VHOST)}', {})
    v = q(VHOST)
    for name, typ, args in [('ct.direct', 'direct', {}), ('ct.topic', 'topic', {}), ('ct.ae', 'fanout', {}),
                            ('ct.headers', 'headers', {'alternate-exchange': 'ct.ae'})]:
        api.must('PUT', f'exchanges/{v}/{name}', {'type': typ, 'durable': True, 'arguments': args})
    for name, body in [('ct.orders', {'durable': True, 'arguments': {'x-max-length': 1000}}),
                       ('ct.audit', {'durable': True}), ('ct.errors', {'durable': True}),
                       ('ct.red', {'durable': True}), ('ct.unrouted', {'durable': True}),
                       ('ct.temp', {'durable': False, 'auto_delete': True})]:
        api.must('PUT', f'queues/{v}/{name}', body)
    for ex, queue, key, args in [('ct.direct', 'ct.orders', 'order.created', {}), ('ct.topic', 'ct.audit', 'order.#', {}),
                                 ('ct.topic', 'ct.errors', '*.error', {}), ('ct.ae', 'ct.unrouted', '', {}),
                                 ('ct.headers', 'ct.red', '', {'x-match': 'all', 'color': 'red', 'size': 'big'})]:
        api.must('POST', f'bindings/{v}/e/{ex}/q/{queue}', {'routing_key': key, 'arguments': args})
    orders = [('ct.direct', 'order.created', f'order {i}', {}) for i in range(1, ORDERS + 1)]
    for ex, key, payload, props in orders + [
            ('ct.topic', 'order.shipped', 'shipped 1', {}), ('ct.topic', 'disk.error', 'disk full', {}),
            ('ct.headers', '', 'red and big', {'headers': {'color': 'red', 'size': 'big'},
                                               'content_type': 'text/plain', 'delivery_mode': 2}),
            ('ct.headers', '', 'blue one', {'headers': {'color': 'blue'}})]:
        r = api.must('POST', f'exchanges/{v}/{ex}/publish',
                     {'properties': props, 'routing_key': key, 'payload': payload, 'payload_encoding': 'string'})
        if not (r or {}).get('routed'):
            raise Fail(f'setup: publishing {payload!r} to {ex} was not routed: {r}')


# The numbers are all different where they sit side by side, so that a page that shows one
# count in another's place fails: 7 orders, a worker with prefetch 4 on channel 1 holds 4 of them
# unacknowledged; channel 2 has two competing consumers on the empty ct.temp.
ORDERS, PREFETCH = 7, 4
CONSUMER_TAG, TEMP_TAGS = 'ct.orders-worker', ('ct.temp-a', 'ct.temp-b')
# (ready, unacked, consumers) per queue once the consumers are up
EXPECTED = {'ct.orders': (ORDERS - PREFETCH, PREFETCH, 1), 'ct.audit': (1, 0, 0), 'ct.errors': (1, 0, 0), 'ct.red': (1, 0, 0),
            'ct.unrouted': (1, 0, 0), 'ct.temp': (0, 0, 2)}


def start_consumer(api, base, amqp_port, user, password, timeout):
    """One connection: on channel 1 a consumer on ct.orders with prefetch 4 that never acks; on
    channel 2 two consumers on ct.temp."""
    if not amqp_port:
        listeners = api.must('GET', 'overview').get('listeners') or []
        amqp_port = next((l.get('port') for l in listeners if l.get('protocol') == 'amqp'), None)
        if not amqp_port:
            raise Fail(f'setup: no amqp listener in GET /api/overview ({listeners}); pass --amqp-port')
    consumer = AmqpConsumer(urllib.parse.urlparse(base).hostname, int(amqp_port), VHOST, user, password, timeout)
    try:
        consumer.consume(1, 'ct.orders', CONSUMER_TAG, PREFETCH)
        bodies = [consumer.delivery(1) for _ in range(PREFETCH)]
        if bodies != [f'order {i}' for i in range(1, PREFETCH + 1)]:
            raise Fail(f'setup: the consumer on ct.orders received {bodies}, expected the first {PREFETCH} orders in order')
        consumer.open_channel(2)
        for tag in TEMP_TAGS:
            consumer.consume(2, 'ct.temp', tag, 0)
    except Exception:
        consumer.close()
        raise
    return consumer, int(amqp_port)


def check_depths(api):
    # warren-server reads queue figures from its model when asked, so once the setup's deliveries
    # and consume-oks have arrived the API shows them: checked once, no waiting.
    _, qs = api.call('GET', f'queues/{q(VHOST)}')
    seen = {x['name']: (x.get('messages_ready'), x.get('messages_unacknowledged'), x.get('consumers')) for x in qs or []}
    if not all(seen.get(n) == d for n, d in EXPECTED.items()):
        raise Fail(f'setup: the API does not report the expected (ready, unacked, consumers) {EXPECTED} (saw {seen})')


# ---- a minimal AMQP 0-9-1 consumer (enough for the console to show a connection, a channel,
# a consumer and an unacknowledged message) ---------------------------------------
FRAME_END = 0xCE


def shortstr(s):
    b = s.encode()
    return struct.pack('>B', len(b)) + b


def longstr(b):
    return struct.pack('>I', len(b)) + b


def table_of_strings(d):
    raw = b''.join(shortstr(k) + b'S' + longstr(v.encode()) for k, v in d.items())
    return longstr(raw)


class AmqpConsumer:
    """Connects with PLAIN, opens channels and consumes with manual acks and a prefetch limit, so
    that a known number of messages stays unacknowledged while the pages are checked. It never acks."""

    def __init__(self, host, port, vhost, user, password, timeout):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b''
        self.sock.sendall(b'AMQP\x00\x00\x09\x01')
        self.expect(0, 10, 10)   # connection.start
        props = table_of_strings({'product': 'console-test', 'version': '1.0',
                                  'connection_name': 'console-test consumer'})
        self.method(0, 10, 11, props + shortstr('PLAIN') + longstr(f'\0{user}\0{password}'.encode()) + shortstr('en_US'))
        tune = self.expect(0, 10, 30)   # connection.tune: channel-max, frame-max, heartbeat
        channel_max, frame_max, _ = struct.unpack('>HIH', tune[:8])
        self.method(0, 10, 31, struct.pack('>HIH', channel_max, frame_max, 0))   # no heartbeats
        self.method(0, 10, 40, shortstr(vhost) + shortstr('') + b'\x00')
        self.expect(0, 10, 41)
        self.open_channel(1)

    def open_channel(self, channel):
        self.method(channel, 20, 10, shortstr(''))
        self.expect(channel, 20, 11)

    def consume(self, channel, queue, tag, prefetch):
        """basic.qos (prefetch 0: no limit), then basic.consume with manual acks."""
        self.method(channel, 60, 10, struct.pack('>IHB', 0, prefetch, 0))
        self.expect(channel, 60, 11)
        self.method(channel, 60, 20, struct.pack('>H', 0) + shortstr(queue) + shortstr(tag) + b'\x00' + struct.pack('>I', 0))
        self.expect(channel, 60, 21)

    def delivery(self, channel):
        """The next basic.deliver's body."""
        self.expect(channel, 60, 60)
        ftype, _, payload = self.frame()
        if ftype != 2:
            raise Fail(f'amqp: expected a content header, got frame type {ftype}')
        size = struct.unpack('>Q', payload[4:12])[0]
        body = b''
        while len(body) < size:
            ftype, _, payload = self.frame()
            if ftype != 3:
                raise Fail(f'amqp: expected a content body, got frame type {ftype}')
            body += payload
        return body.decode(errors='replace')

    def method(self, channel, cls, mid, args):
        payload = struct.pack('>HH', cls, mid) + args
        self.sock.sendall(struct.pack('>BHI', 1, channel, len(payload)) + payload + bytes([FRAME_END]))

    def frame(self):
        while True:
            if len(self.buf) >= 7:
                ftype, channel, size = struct.unpack('>BHI', self.buf[:7])
                if len(self.buf) >= 8 + size:
                    payload, end = self.buf[7:7 + size], self.buf[7 + size]
                    self.buf = self.buf[8 + size:]
                    if end != FRAME_END:
                        raise Fail('amqp: bad frame end')
                    if ftype == 8:   # heartbeat
                        continue
                    return ftype, channel, payload
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise Fail('amqp: the server did not answer')
            if not chunk:
                raise Fail('amqp: the server closed the connection')
            self.buf += chunk

    def expect(self, channel, cls, mid):
        ftype, ch, payload = self.frame()
        got = struct.unpack('>HH', payload[:4]) if ftype == 1 and len(payload) >= 4 else None
        if got in ((10, 50), (20, 40)):   # connection.close / channel.close: say why
            code = struct.unpack('>H', payload[4:6])[0]
            raise Fail(f'amqp: the server closed with {code} {payload[7:7 + payload[6]].decode(errors="replace")}')
        if ftype != 1 or ch != channel or got != (cls, mid):
            raise Fail(f'amqp: expected method {cls}.{mid} on channel {channel}, got frame type {ftype} channel {ch} method {got}')
        return payload[4:]

    def close(self):
        try:
            self.method(0, 10, 50, struct.pack('>H', 200) + shortstr('console test done') + struct.pack('>HH', 0, 0))
            while True:   # deliveries may still be in flight before close-ok
                ftype, ch, payload = self.frame()
                if ftype == 1 and ch == 0 and payload[:4] == struct.pack('>HH', 10, 51):
                    break
        except (Fail, OSError):
            pass
        try:
            self.sock.close()
        except OSError:
            pass


# ---- a minimal websocket client (RFC 6455, text frames, client-side masking) --
class WebSocket:
    def __init__(self, url, timeout):
        u = urllib.parse.urlparse(url)
        self.sock = socket.create_connection((u.hostname, u.port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f'GET {u.path} HTTP/1.1\r\nHost: {u.hostname}:{u.port}\r\nUpgrade: websocket\r\n'
                           f'Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n').encode())
        head = b''
        while b'\r\n\r\n' not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise Fail('chromium: DevTools websocket closed during the handshake')
            head += chunk
        head, self.buf = head.split(b'\r\n\r\n', 1)
        if b' 101 ' not in head.split(b'\r\n', 1)[0]:
            raise Fail(f'chromium: DevTools websocket handshake refused: {head[:200]!r}')

    def _exact(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(max(65536, n - len(self.buf)))
            if not chunk:
                raise Fail('chromium: DevTools websocket closed')
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _frame(self, opcode, data):
        head = bytes([0x80 | opcode])
        n = len(data)
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack('>H', n)
        else:
            head += bytes([0x80 | 127]) + struct.pack('>Q', n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i & 3] for i, b in enumerate(data))
        self.sock.sendall(head + mask + masked)

    def send(self, text):
        self._frame(0x1, text.encode())

    def recv(self):
        parts = []
        while True:
            b0, b1 = self._exact(2)
            n = b1 & 0x7f
            if n == 126:
                n = struct.unpack('>H', self._exact(2))[0]
            elif n == 127:
                n = struct.unpack('>Q', self._exact(8))[0]
            mask = self._exact(4) if b1 & 0x80 else None
            data = self._exact(n)
            if mask:
                data = bytes(b ^ mask[i & 3] for i, b in enumerate(data))
            opcode = b0 & 0x0f
            if opcode == 0x8:
                raise Fail('chromium: DevTools websocket closed by the browser')
            if opcode == 0x9:
                self._frame(0xA, data)
                continue
            if opcode in (0x0, 0x1, 0x2):
                parts.append(data)
                if b0 & 0x80:
                    return b''.join(parts).decode()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# ---- Chromium over the DevTools protocol ---------------------------------------
def find_chromium(given):
    for c in [given, os.environ.get('CHROMIUM'), 'chromium', 'chromium-browser', 'google-chrome', 'chrome']:
        if c and shutil.which(c):
            return shutil.which(c)
    raise Fail('no chromium found: install it (apt-get install chromium) or pass --chromium PATH')


class Browser:
    def __init__(self, chromium, timeout):
        self.profile = tempfile.mkdtemp(prefix='console-test-chromium-')
        self.errors, self.next_id = [], 0
        self.log = open(os.path.join(self.profile, 'chromium.log'), 'w')
        self.proc = subprocess.Popen(
            [chromium, '--headless', '--disable-gpu', '--no-sandbox', '--disable-dev-shm-usage', '--no-first-run',
             '--no-default-browser-check', '--disable-extensions', '--disable-background-networking',
             '--disable-component-update', '--disable-sync', '--password-store=basic', '--remote-debugging-address=127.0.0.1',
             '--remote-debugging-port=0', '--user-data-dir=' + self.profile, '--window-size=1280,900', 'about:blank'],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.PIPE, start_new_session=True)
        # Chromium says where its DevTools endpoint is on stderr once it listens; a thread copies
        # stderr to the log (so the pipe never fills) and hands that line over.
        self.listening, found = threading.Event(), []

        def drain():
            for raw in self.proc.stderr:
                line = raw.decode(errors='replace')
                self.log.write(line)
                self.log.flush()
                m = re.match(r'DevTools listening on (ws://\S+)', line)
                if m and not found:
                    found.append(m.group(1))
                    self.listening.set()
            self.listening.set()   # stderr closed: the browser is gone

        self.drainer = threading.Thread(target=drain, daemon=True)
        self.drainer.start()
        self.browser_ws = self.ws = None
        try:
            if not self.listening.wait(timeout):
                raise Fail(f'chromium did not open its DevTools port within {timeout}s; see {self.log.name}')
            if not found:   # stderr closed without the line: the browser is exiting
                try:
                    code = self.proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    code = 'none yet'
                raise Fail(f'chromium exited at start (code {code}); see {self.log.name}')
            # The browser endpoint opens a page of our own (no waiting for the initial one to be
            # listed); the page's endpoint is /devtools/page/<targetId> on the same port.
            self.browser_ws = WebSocket(found[0], timeout=max(120, timeout))
            target = self.call(self.browser_ws, 'Target.createTarget', url='about:blank')['targetId']
            u = urllib.parse.urlparse(found[0])
            self.ws = WebSocket(f'ws://{u.hostname}:{u.port}/devtools/page/{target}', timeout=max(120, timeout))
            self.cmd('Runtime.enable')
            self.cmd('Page.enable')
            self.cmd('Emulation.setDeviceMetricsOverride', width=1280, height=900, deviceScaleFactor=1, mobile=False)
        except BaseException:
            self.close(keep_log=True)   # the caller never gets a Browser to close
            raise

    def cmd(self, method, **params):
        return self.call(self.ws, method, **params)

    def call(self, ws, method, **params):
        self.next_id += 1
        ws.send(json.dumps({'id': self.next_id, 'method': method, 'params': params}))
        while True:
            try:
                msg = json.loads(ws.recv())
            except socket.timeout:
                raise Fail(f'chromium: no answer to {method}')
            if msg.get('method') == 'Runtime.exceptionThrown':
                d = msg['params']['exceptionDetails']
                self.errors.append((d.get('exception') or {}).get('description') or d.get('text'))
            if msg.get('id') == self.next_id:
                if 'error' in msg:
                    raise Fail(f'chromium: {method} failed: {msg["error"]}')
                return msg.get('result', {})

    def js(self, expr):
        r = self.cmd('Runtime.evaluate', expression=expr, returnByValue=True, awaitPromise=True)
        if 'exceptionDetails' in r:
            raise Fail(f'chromium: evaluating {expr[:80]!r} threw {r["exceptionDetails"].get("text")}')
        return r['result'].get('value')

    def wait_for_change(self, at_most):
        """Returns as soon as the page's DOM changes, or after at_most seconds if it does not (a
        check may also wait on something outside the DOM, such as the console's next refresh).
        A navigation that replaces the document ends the wait too."""
        expr = ('new Promise(done => { const o = new MutationObserver(() => { o.disconnect(); done(); });'
                ' o.observe(document, {subtree: true, childList: true, characterData: true, attributes: true});'
                f' setTimeout(() => {{ o.disconnect(); done(); }}, {int(at_most * 1000)}); }})')
        try:
            self.cmd('Runtime.evaluate', expression=expr, awaitPromise=True)
        except Fail:   # the document went away under the promise (navigation): the page changed
            pass

    def screenshot(self, path):
        size = self.cmd('Page.getLayoutMetrics').get('cssContentSize', {})
        height = max(900, min(int(size.get('height', 900)), 6000))
        r = self.cmd('Page.captureScreenshot', format='png', captureBeyondViewport=True,
                     clip={'x': 0, 'y': 0, 'width': 1280, 'height': height, 'scale': 1})
        with open(path, 'wb') as f:
            f.write(base64.b64decode(r['data']))

    def close(self, keep_log=False):
        if self.browser_ws:
            try:
                self.call(self.browser_ws, 'Browser.close')
            except Exception:
                pass
        for ws in (self.ws, self.browser_ws):
            if ws:
                ws.close()
        try:   # after Browser.close the browser exits by itself
            self.proc.wait(timeout=15 if self.browser_ws else 0)
        except subprocess.TimeoutExpired:
            pass
        try:   # the browser's own process group: helpers that outlived it, or the browser itself
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait(timeout=15)
        self.drainer.join(timeout=15)   # stderr closes when the last of the group is gone
        self.log.close()
        if keep_log:   # a failed start: what Chromium said is the diagnosis
            print(f'chromium log kept: {self.log.name}', file=sys.stderr)
            return
        shutil.rmtree(self.profile, ignore_errors=True)


# ---- checks ------------------------------------------------------------------
class Contains(str):
    """A table cell that must contain this text (a plain str must equal the cell)."""


class Matches(str):
    """A table cell that this regular expression must match in full."""


def cell_ok(cell, want):
    if isinstance(want, Contains):
        return want.lower() in cell.lower()
    if isinstance(want, Matches):
        return re.fullmatch(want, cell) is not None
    return cell == want


TABLES_JS = '''(() => [...document.querySelectorAll(%s)].map(t => {
  const heads = t.tHead ? [...t.tHead.rows[0].cells].map(c => c.innerText.trim()) : [];
  return [...t.tBodies[0].rows].map(r => Object.fromEntries([...r.cells].map((c, i) => [heads[i], c.innerText.replace(/\\s+/g, ' ').trim()])));
}).flat())()'''


class Console:
    def __init__(self, browser, base, timeout):
        self.b, self.base, self.timeout, self.page = browser, base, timeout, 'start'

    def open(self, route):
        """Shows route with the previous page's content gone first, so that no check can pass on
        what the page before it showed; waits until the console has started rendering route."""
        self.page = route
        self.b.js(f'''(() => {{ const m = document.getElementById('main'); m.replaceChildren(); delete m.dataset.route;
            if (location.hash === {json.dumps(route)}) window.dispatchEvent(new HashChangeEvent('hashchange'));
            else location.hash = {json.dumps(route)}; }})()''')
        self.poll(lambda: (self.b.js("document.getElementById('main').dataset.route === location.hash"),
                           'the console did not render the route'), 'the page did not open')

    def poll(self, fn, what):
        deadline, last = time.time() + self.timeout, None
        while True:
            ok, last = fn()
            if ok:
                return last
            if time.time() > deadline:
                text = self.b.js('document.body.innerText') or ''
                raise Fail(f'page {self.page}: {what} (waited {self.timeout}s)\n    {last}\n    page shows: '
                           + ' | '.join(text.split('\n'))[:1200])
            self.b.wait_for_change(min(1.0, max(0.0, deadline - time.time())))

    def text(self, *wanted, selector='body'):
        sel = json.dumps(selector)

        def check():
            t = self.b.js(f'(document.querySelector({sel}) || {{innerText: ""}}).innerText') or ''
            missing = [w for w in wanted if w.lower() not in t.lower()]
            return not missing, f'missing text {missing!r} in {selector}'
        self.poll(check, f'missing text {list(wanted)!r}')

    def row(self, want, selector='main'):
        expr = TABLES_JS % json.dumps(selector + ' table')

        def match(r):
            return all(k in r and cell_ok(r[k], w) for k, w in want.items())

        def check():
            rows = self.b.js(expr) or []
            hit = next((r for r in rows if match(r)), None)
            return hit is not None, hit if hit else f'no table row with {dict(want)}; rows: {rows[:12]}'
        return self.poll(check, f'missing table row {dict(want)}')

    def fields(self, want, selector='main'):
        """The dt/dd pairs of the first key/value list under selector must include want."""
        expr = (f"(() => {{ const d = document.querySelector({json.dumps(selector + ' dl.kv')}); return d ? Object.fromEntries("
                "[...d.querySelectorAll(':scope > dt')].map(t => [t.innerText.trim(), "
                "t.nextElementSibling.innerText.replace(/\\s+/g, ' ').trim()])) : {}; })()")

        def check():
            got = self.b.js(expr) or {}
            bad = {k: got.get(k) for k, v in want.items() if got.get(k) != v}
            return not bad, f'expected {want}, differing: {bad}'
        self.poll(check, 'wrong values in the key/value list')

    def exact_column(self, column, values, selector='main'):
        """The cells of column, over the tables under selector that have it, are exactly values (any order)."""
        expr = TABLES_JS % json.dumps(selector + ' table')

        def check():
            got = sorted(r[column] for r in self.b.js(expr) or [] if column in r)
            return got == sorted(values), f'column {column!r} has {got}, expected {sorted(values)}'
        self.poll(check, f'wrong rows in column {column!r}')

    def set(self, elem_id, value):
        self.poll(lambda: (self.b.js(f'!!document.getElementById({json.dumps(elem_id)})'), f'no element #{elem_id}'),
                  f'missing form field #{elem_id}')
        self.b.js(f'''(() => {{ const e = document.getElementById({json.dumps(elem_id)}); e.value = {json.dumps(value)};
            e.dispatchEvent(new Event('input', {{bubbles: true}})); e.dispatchEvent(new Event('change', {{bubbles: true}})); }})()''')

    def click(self, elem_id):
        self.b.js(f'document.getElementById({json.dumps(elem_id)}).click()')

    def value_is(self, elem_id, value):
        self.poll(lambda: (self.b.js(f'(document.getElementById({json.dumps(elem_id)}) || {{}}).value') == value,
                           f'#{elem_id} is not {value!r}'), f'#{elem_id} never became {value!r}')


def check_login(c, base):
    c.page = 'login'
    c.b.cmd('Page.navigate', url=base + '/#/overview')
    c.poll(lambda: (c.b.js("!!document.getElementById('login') && !document.getElementById('login').hidden"),
                    'login form hidden'), 'the login form is not shown to a new session')
    c.set('login-user', 'guest')
    c.set('login-password', 'certainly-not-the-password')
    c.click('login-submit')
    c.text('HTTP 401', selector='#login-message')
    bg = c.b.js("getComputedStyle(document.getElementById('top')).backgroundColor")
    if bg != 'rgb(32, 36, 44)':
        raise Fail(f'page login: the header is not styled (background {bg!r}): console.css was not served or not applied')
    return 'the login form shows; a wrong password gives the 401 message; console.css applies'


def login(c, user, password):
    c.set('login-user', user)
    c.set('login-password', password)
    c.click('login-submit')
    c.poll(lambda: (c.b.js("document.getElementById('login').hidden"), 'still on the login form'), 'login with the right password failed')


TILES_JS = '''Object.fromEntries([...document.querySelectorAll('main .tile')].map(t =>
  [t.querySelector('.tile-label').innerText.trim(), t.querySelector('.tile-num').innerText.trim()]))'''


def check_overview(c, api, amqp_port):
    ov = api.must('GET', 'overview')
    version = ov.get('product_version') or ov.get('rabbitmq_version')
    c.open('#/overview')
    c.text('Overview', version, ov['management_version'], 'Listeners', 'guest')
    c.fields({'Product': f'{ov.get("product_name") or "RabbitMQ"} {version}', 'Management': ov['management_version'],
              'Node': ov['node'], 'User': 'guest'})

    def tiles():   # the API's totals at the same moment: the server may have other clients
        o = api.must('GET', 'overview')
        t, m = o.get('object_totals', {}), o.get('queue_totals', {})
        want = {'Connections': t.get('connections'), 'Channels': t.get('channels'), 'Exchanges': t.get('exchanges'),
                'Queues': t.get('queues'), 'Consumers': t.get('consumers'), 'Ready': m.get('messages_ready'),
                'Unacked': m.get('messages_unacknowledged'), 'Messages': m.get('messages')}
        ready, unacked, consumers = (sum(e[i] for e in EXPECTED.values()) for i in range(3))
        floor = {'Connections': 1, 'Channels': 2, 'Exchanges': 11, 'Queues': len(EXPECTED), 'Consumers': consumers,
                 'Ready': ready, 'Unacked': unacked, 'Messages': ready + unacked}   # what this test made: an API that says less is wrong
        low = {k: v for k, v in want.items() if not isinstance(v, int) or v < floor[k]}
        if low:
            raise Fail(f'page overview: GET /api/overview reports totals below what the test created: {low}')
        got = c.b.js(TILES_JS) or {}
        want = {k: f'{v:,}' for k, v in want.items()}
        return got == want, f'tiles {got}, the API says {want}'
    c.poll(tiles, 'the totals differ from GET /api/overview')
    c.row({'Protocol': 'amqp', 'Port': str(amqp_port)})
    c.row({'User': 'guest', 'Vhost': VHOST, 'Client': 'console-test 1.0', 'Channels': '2', 'State': 'running'})
    return f'version {version}, totals equal to the API\'s, the amqp listener, the consumer\'s connection'


def check_queues(c):
    c.open('#/queues/' + q(VHOST))
    for name, (ready, unacked, consumers) in EXPECTED.items():
        c.row({'Vhost': VHOST, 'Name': name, 'Type': 'classic', 'State': 'running', 'Ready': str(ready),
               'Unacked': str(unacked), 'Total': str(ready + unacked), 'Consumers': str(consumers)})
    c.row({'Name': 'ct.orders', 'Features': 'D x-max-length: 1000'})
    c.row({'Name': 'ct.audit', 'Features': 'D'})
    c.row({'Name': 'ct.temp', 'Features': 'T AD'})
    c.set('name-filter', 'ed')   # the filter keeps ct.red and ct.unrouted
    c.poll(lambda: (sorted(r.get('Name') for r in c.b.js(TABLES_JS % json.dumps('main table')) or [])
                    == ['ct.red', 'ct.unrouted'], 'the name filter did not leave just ct.red and ct.unrouted'),
           'the name filter does not filter')
    c.open('#/queues')
    ready, unacked, consumers = EXPECTED['ct.orders']
    c.row({'Vhost': VHOST, 'Name': 'ct.orders', 'Ready': str(ready), 'Unacked': str(unacked), 'Total': str(ready + unacked),
           'Consumers': str(consumers)})
    c.open('#/queues/' + q(VHOST))
    c.row({'Name': 'ct.red', 'Total': '1'})
    return 'names, types, features, ready/unacked/total, consumers, the name filter; all-vhost list'


def check_queue(c):
    ready, unacked, consumers = EXPECTED['ct.orders']
    c.open(f'#/queue/{q(VHOST)}/ct.orders')
    c.fields({'Vhost': VHOST, 'Type': 'classic', 'Features': 'D x-max-length: 1000', 'State': 'running', 'Ready': str(ready),
              'Unacked': str(unacked), 'Total': str(ready + unacked), 'Consumers': str(consumers)})
    c.row({'From exchange': 'ct.direct', 'Routing key': 'order.created', 'Arguments': ''})
    c.row({'From exchange': '(AMQP default)', 'Routing key': 'ct.orders'})
    # RabbitMQ gives the channel's name, "<connection> (1)"; warren only its number: "channel 1"
    c.row({'Consumer tag': CONSUMER_TAG, 'Channel': Matches(r'.+ \(1\)|channel 1'), 'Ack required': 'true', 'Exclusive': 'false',
           'Prefetch': str(PREFETCH)})
    c.open(f'#/queue/{q(VHOST)}/ct.temp')
    c.fields({'Features': 'T AD', 'Ready': '0', 'Unacked': '0', 'Total': '0', 'Consumers': '2'})
    for tag in TEMP_TAGS:
        c.row({'Consumer tag': tag, 'Channel': Matches(r'.+ \(2\)|channel 2'), 'Ack required': 'true', 'Prefetch': '0'})
    c.exact_column('Consumer tag', list(TEMP_TAGS))   # and not the worker of ct.orders
    c.exact_column('From exchange', ['(AMQP default)'])
    c.open(f'#/queue/{q(VHOST)}/ct.orders')   # the page with the worker, for the screenshot
    c.exact_column('Consumer tag', [CONSUMER_TAG])
    c.exact_column('From exchange', ['(AMQP default)', 'ct.direct'])
    return 'ready/unacked/total/consumers, bindings, the consumer with its tag, channel, ack mode and prefetch'


def check_message(c):
    c.open(f'#/queue/{q(VHOST)}/ct.red')
    c.row({'From exchange': 'ct.headers', 'Arguments': Contains('color: red')})
    c.row({'From exchange': 'ct.headers', 'Arguments': Contains('x-match: all')})
    c.row({'From exchange': '(AMQP default)', 'Routing key': 'ct.red'})
    c.text('Ready', 'Consumers', 'No consumers')
    c.set('peek-count', '5')
    c.click('peek-submit')
    c.text('red and big', 'Redelivered', 'text/plain', 'ct.headers', selector='#peek-results')
    c.row({'Name': 'color', 'Value': 'red'}, selector='#peek-results')
    c.row({'Name': 'size', 'Value': 'big'}, selector='#peek-results')
    c.row({'Name': 'delivery_mode', 'Value': '2'}, selector='#peek-results')
    redelivered = "[...document.querySelectorAll('#peek-results dt')].find(d => d.innerText.trim() == 'Redelivered')"
    c.poll(lambda: (c.b.js(f'({redelivered} || {{}}).nextElementSibling?.innerText') == 'false', 'Redelivered is not false'),
           'the first peek should show Redelivered false')
    c.click('peek-submit')   # the message was requeued: it is still there and now redelivered
    c.poll(lambda: (c.b.js(f'({redelivered} || {{}}).nextElementSibling?.innerText') == 'true', 'Redelivered is not true'),
           'a second peek should find the requeued message, redelivered true')
    c.text('red and big', selector='#peek-results')
    return 'bindings (headers args, default exchange), peek payload/properties/headers, requeue (redelivered)'


def check_exchanges(c):
    c.open('#/exchanges/' + q(VHOST))
    for name, typ, count, feats in [('ct.direct', 'direct', '1', 'D'), ('ct.topic', 'topic', '2', 'D'),
                                    ('ct.headers', 'headers', '1', 'D alternate-exchange: ct.ae'), ('ct.ae', 'fanout', '1', 'D'),
                                    ('(AMQP default)', 'direct', str(len(EXPECTED)), 'D'),   # one per queue
                                    ('amq.topic', 'topic', '0', 'D'), ('amq.rabbitmq.trace', 'topic', '0', 'D I')]:
        c.row({'Vhost': VHOST, 'Name': name, 'Type': typ, 'Bindings': count, 'Features': feats})
    return 'types, features (durable, internal, alternate-exchange), binding counts including the default exchange\'s'


def check_exchange(c):
    c.open(f'#/exchange/{q(VHOST)}/ct.topic')
    c.row({'Destination': 'ct.audit', 'Type': 'queue', 'Routing key': 'order.#'})
    c.row({'Destination': 'ct.errors', 'Type': 'queue', 'Routing key': '*.error'})
    c.exact_column('Destination', ['ct.audit', 'ct.errors'])
    c.fields({'Vhost': VHOST, 'Type': 'topic', 'Features': 'D'})
    c.open(f'#/exchange/{q(VHOST)}/ct.headers')
    c.row({'Destination': 'ct.red', 'Type': 'queue', 'Arguments': Contains('size: big')})
    c.exact_column('Destination', ['ct.red'])
    c.fields({'Vhost': VHOST, 'Type': 'headers', 'Features': 'D alternate-exchange: ct.ae'})
    c.text('alternate-exchange: ct.ae', 'headers', 'Publish a message', 'Trace a route')
    return 'source bindings with destination, type, routing key, arguments'


def check_publish(c, api):
    c.open(f'#/publish/{q(VHOST)}/ct.direct')
    c.value_is('pub-vhost', VHOST)
    c.value_is('pub-exchange', 'ct.direct')
    c.set('pub-headers', 'source=console-test\nattempt=1')
    c.set('pub-delivery-mode', '2')
    c.set('pub-content-type', 'text/plain')
    c.set('pub-payload', 'an order from the console')
    c.set('pub-key', 'no.such.key')
    c.click('pub-submit')
    c.text('routed: false', selector='#pub-result')
    c.set('pub-key', 'order.created')
    c.click('pub-submit')
    c.text('routed: true', selector='#pub-result')
    msgs = api.must('POST', f'queues/{q(VHOST)}/ct.orders/get',
                    {'count': 10, 'ackmode': 'ack_requeue_true', 'encoding': 'auto', 'truncate': 50000})
    got = [m for m in msgs if m.get('payload') == 'an order from the console']
    if not got:
        raise Fail(f'page publish: the published message is not in ct.orders (saw {[m.get("payload") for m in msgs]})')
    props = got[0].get('properties', {})
    want = {'delivery_mode': 2, 'content_type': 'text/plain', 'headers': {'source': 'console-test', 'attempt': '1'}}
    if any(props.get(k) != v for k, v in want.items()):
        raise Fail(f'page publish: the message arrived with properties {props}, expected {want}')
    return 'routed true / false, the message arrives with its headers and properties'


def trace_supported(api):
    status, data = api.call('POST', f'warren/trace-route/{q(VHOST)}/ct.headers', {'routing_key': '', 'headers': {'color': 'blue'}})
    if isinstance(data, dict) and (isinstance(data.get('bindings'), list) or isinstance(data.get('error'), dict)):
        return True
    if status in (404, 405, 501):
        return False
    raise Fail(f'page trace: POST /api/warren/trace-route answered HTTP {status}: {data}')


def trace(c, exchange, key, headers):
    c.set('tr-vhost', VHOST)
    c.set('tr-exchange', exchange)
    c.set('tr-key', key)
    c.set('tr-headers', headers)
    c.b.js("document.getElementById('tr-result').replaceChildren()")
    c.click('tr-submit')


def check_trace(c, api, warren):
    c.open(f'#/trace/{q(VHOST)}/ct.headers')
    c.value_is('tr-vhost', VHOST)
    c.value_is('tr-exchange', 'ct.headers')
    if not trace_supported(api):
        if warren:
            raise Fail('page trace: --warren was given but the server does not answer POST /api/warren/trace-route')
        trace(c, 'ct.headers', '', 'color=blue')
        c.text('route tracing needs warren-server', selector='#tr-result')
        return 'server has no trace endpoint: the console says "route tracing needs warren-server"'
    # headers exchange: the binding misses, the alternate exchange takes the message
    answer = api.must('POST', f'warren/trace-route/{q(VHOST)}/ct.headers', {'routing_key': '', 'headers': {'color': 'blue'}})
    if answer.get('queues') != ['ct.unrouted'] or answer.get('alternate_exchanges') != ['ct.ae']:
        raise Fail(f'page trace: the server traced color=blue through ct.headers to {answer}')
    trace(c, 'ct.headers', '', 'color=blue')
    c.text('ct.unrouted', selector='#tr-queues')
    c.text('ct.ae', selector='#tr-aes')
    for b in answer.get('bindings', []):
        want = {'Source': b['source'] or '(AMQP default)', 'Destination': b['destination'], 'Type': b['destination_type'],
                'Verdict': 'matched' if b['matched'] else 'no match'}
        if b.get('reason'):
            want['Reason'] = ' '.join(b['reason'].split())
        c.row(want, selector='#tr-result')
    miss = c.row({'Destination': 'ct.red', 'Verdict': 'no match'}, selector='#tr-result')
    if not miss.get('Reason'):
        raise Fail('page trace: the binding to ct.red missed but no reason is shown')
    # topic exchange: one binding matches, one does not
    trace(c, 'ct.topic', 'disk.error', '')
    c.row({'Destination': 'ct.errors', 'Routing key': '*.error', 'Verdict': 'matched'}, selector='#tr-result')
    miss = c.row({'Destination': 'ct.audit', 'Routing key': 'order.#', 'Verdict': 'no match'}, selector='#tr-result')
    if not miss.get('Reason'):
        raise Fail('page trace: the binding order.# missed disk.error but no reason is shown')
    c.text('ct.errors', selector='#tr-queues')
    c.text('none', selector='#tr-aes')
    # an exchange that does not exist: the error is shown
    trace(c, 'ct.nope', 'x', '')
    c.text('404', 'NOT_FOUND', selector='#tr-error')
    trace(c, 'ct.headers', '', 'color=blue')   # leave the interesting trace on screen for the screenshot
    c.text('ct.unrouted', selector='#tr-queues')
    return 'verdicts and reasons per binding, alternate exchange followed, queues reached, NOT_FOUND error'


def check_session_expiry(c):
    c.page = 'login after 401'
    c.b.js(f"sessionStorage.setItem({json.dumps(AUTH_KEY)}, btoa('guest:wrong-password'))")
    c.open('#/queues')
    c.page = 'login after 401'
    c.poll(lambda: (c.b.js("!document.getElementById('login').hidden"), 'login form hidden'),
           'a 401 did not bring back the login form')
    c.text('HTTP 401', selector='#login-message')
    return 'a 401 from the API returns to the login form with the message'


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--url', required=True, help='base URL of the server, e.g. http://127.0.0.1:15672')
    ap.add_argument('--user', default='guest')
    ap.add_argument('--password', default='guest')
    ap.add_argument('--screenshots', metavar='DIR', help='save a PNG of each page there')
    ap.add_argument('--amqp-port', type=int, help='the server\'s AMQP port (default: the amqp listener in GET /api/overview)')
    ap.add_argument('--warren', action='store_true',
                    help='the server is warren-server: fail if it does not answer the route-trace endpoint')
    ap.add_argument('--chromium', help='chromium binary (default: chromium on PATH, or $CHROMIUM)')
    ap.add_argument('--timeout', type=float, default=60, help='seconds to wait for each expected thing (default 60)')
    a = ap.parse_args()
    base = a.url.rstrip('/')
    api = Api(base, a.user, a.password)
    if a.screenshots:
        os.makedirs(a.screenshots, exist_ok=True)
    passed, failed, browser, consumer = 0, 0, None, None
    try:
        make_state(api)
        consumer, amqp_port = start_consumer(api, base, a.amqp_port, a.user, a.password, a.timeout)
        check_depths(api)
        browser = Browser(find_chromium(a.chromium), a.timeout)
        c = Console(browser, base, a.timeout)
        # each check's screenshot is saved as NAME.png
        checks = [('login', lambda: check_login(c, base)), ('overview', lambda: check_overview(c, api, amqp_port)),
                  ('queues', lambda: check_queues(c)), ('queue', lambda: check_queue(c)),
                  ('message', lambda: check_message(c)),
                  ('exchanges', lambda: check_exchanges(c)), ('exchange', lambda: check_exchange(c)),
                  ('publish', lambda: check_publish(c, api)), ('trace-route', lambda: check_trace(c, api, a.warren)),
                  ('session-expiry', lambda: check_session_expiry(c))]
        for name, check in checks:
            try:
                what = check()
                passed += 1
                print(f'ok   {name}: {what}', flush=True)
            except Fail as e:
                failed += 1
                print(f'FAIL {name}: {e}', flush=True)
            if a.screenshots:
                browser.screenshot(os.path.join(a.screenshots, f'{name}.png'))
            if name == 'login':
                login(c, a.user, a.password)
        if browser.errors:
            failed += 1
            print('FAIL javascript: uncaught exceptions in the console: ' + '; '.join(map(str, browser.errors)))
    except Fail as e:
        failed += 1
        print(f'FAIL {e}', flush=True)
    finally:
        if browser:
            browser.close()
        if consumer:
            consumer.close()
        status, _ = api.call('DELETE', f'vhosts/{q(VHOST)}')
        if status not in (204, 404):
            print(f'warning: deleting vhost {VHOST} answered HTTP {status}')
    print(f'console: {passed} passed, {failed} failed')
    return 0 if failed == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
