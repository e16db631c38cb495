#!/usr/bin/env python3
"""Headless-Chromium test of the warren web console (server/management/console).

    python3 tests/console/console_test.py --url http://127.0.0.1:15672 [--screenshots DIR]

The server at --url must serve the console at / and the management API under
/api.  The test makes its own vhost through the API, logs in through the
console's form, checks what each page shows, optionally saves a PNG of each
page, and deletes its vhost.  Exit 0 when every check passed, 1 otherwise
(each failure names the page and the text that was missing).

Chromium is driven over the DevTools protocol (--remote-debugging-port) with a
small stdlib websocket client: unlike --dump-dom this logs in through the real
form, keeps one session across pages, types into forms, clicks buttons and
polls the live DOM until the expected text shows (no fixed sleeps), which is
what makes it dependable on a slow machine.  Standard library only.
"""
import argparse
import base64
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
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
    for ex, key, payload, props in [
            ('ct.direct', 'order.created', 'order 1', {}), ('ct.direct', 'order.created', 'order 2', {}),
            ('ct.topic', 'order.shipped', 'shipped 1', {}), ('ct.topic', 'disk.error', 'disk full', {}),
            ('ct.headers', '', 'red and big', {'headers': {'color': 'red', 'size': 'big'},
                                               'content_type': 'text/plain', 'delivery_mode': 2}),
            ('ct.headers', '', 'blue one', {'headers': {'color': 'blue'}})]:
        r = api.must('POST', f'exchanges/{v}/{ex}/publish',
                     {'properties': props, 'routing_key': key, 'payload': payload, 'payload_encoding': 'string'})
        if not (r or {}).get('routed'):
            raise Fail(f'setup: publishing {payload!r} to {ex} was not routed: {r}')


EXPECTED_DEPTHS = {'ct.orders': 2, 'ct.audit': 1, 'ct.errors': 1, 'ct.red': 1, 'ct.unrouted': 1, 'ct.temp': 0}


def wait_depths(api, timeout):
    # RabbitMQ reports queue statistics a few seconds late; wait until the API shows them.
    deadline, seen = time.time() + timeout, None
    while time.time() < deadline:
        _, qs = api.call('GET', f'queues/{q(VHOST)}')
        seen = {x['name']: x.get('messages') for x in qs or []}
        if all(seen.get(n) == d for n, d in EXPECTED_DEPTHS.items()):
            return
        time.sleep(0.5)
    raise Fail(f'setup: the API did not report the expected queue depths {EXPECTED_DEPTHS} within {timeout}s (saw {seen})')


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
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log, start_new_session=True)
        port_file, deadline = os.path.join(self.profile, 'DevToolsActivePort'), time.time() + timeout
        port = None
        while time.time() < deadline and port is None:
            if self.proc.poll() is not None:
                raise Fail(f'chromium exited at start (code {self.proc.returncode}); see {self.log.name}')
            try:
                with open(port_file) as f:
                    port = int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                time.sleep(0.2)
        if port is None:
            raise Fail(f'chromium did not open its DevTools port within {timeout}s')
        page = None
        while time.time() < deadline and page is None:
            try:
                with urllib.request.urlopen(f'http://127.0.0.1:{port}/json/list', timeout=10) as r:
                    page = next((t for t in json.load(r) if t.get('type') == 'page'), None)
            except OSError:
                pass
            if page is None:
                time.sleep(0.2)
        if page is None:
            raise Fail('chromium: no page target')
        self.ws = WebSocket(page['webSocketDebuggerUrl'], timeout=max(120, timeout))
        self.cmd('Runtime.enable')
        self.cmd('Page.enable')
        self.cmd('Emulation.setDeviceMetricsOverride', width=1280, height=900, deviceScaleFactor=1, mobile=False)

    def cmd(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({'id': self.next_id, 'method': method, 'params': params}))
        while True:
            try:
                msg = json.loads(self.ws.recv())
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

    def screenshot(self, path):
        size = self.cmd('Page.getLayoutMetrics').get('cssContentSize', {})
        height = max(900, min(int(size.get('height', 900)), 6000))
        r = self.cmd('Page.captureScreenshot', format='png', captureBeyondViewport=True,
                     clip={'x': 0, 'y': 0, 'width': 1280, 'height': height, 'scale': 1})
        with open(path, 'wb') as f:
            f.write(base64.b64decode(r['data']))

    def close(self):
        try:
            self.cmd('Browser.close')
        except Exception:
            pass
        try:
            self.ws.close()
        except Exception:
            pass
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
        try:   # the browser's own process group: helpers that outlived it, or the browser itself
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait(timeout=15)
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)


# ---- checks ------------------------------------------------------------------
class Contains(str):
    """A table cell that must contain this text (a plain str must equal the cell)."""


TABLES_JS = '''(() => [...document.querySelectorAll(%s)].map(t => {
  const heads = t.tHead ? [...t.tHead.rows[0].cells].map(c => c.innerText.trim()) : [];
  return [...t.tBodies[0].rows].map(r => Object.fromEntries([...r.cells].map((c, i) => [heads[i], c.innerText.replace(/\\s+/g, ' ').trim()])));
}).flat())()'''


class Console:
    def __init__(self, browser, base, timeout):
        self.b, self.base, self.timeout, self.page = browser, base, timeout, 'start'

    def open(self, route):
        self.page = route
        self.b.js(f'location.hash = {json.dumps(route)}')

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
            time.sleep(0.25)

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
            return all(k in r and (w.lower() in r[k].lower() if isinstance(w, Contains) else r[k] == w)
                       for k, w in want.items())

        def check():
            rows = self.b.js(expr) or []
            hit = next((r for r in rows if match(r)), None)
            return hit is not None, hit if hit else f'no table row with {dict(want)}; rows: {rows[:12]}'
        return self.poll(check, f'missing table row {dict(want)}')

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
    return 'the login form shows; a wrong password gives the 401 message'


def login(c, user, password):
    c.set('login-user', user)
    c.set('login-password', password)
    c.click('login-submit')
    c.poll(lambda: (c.b.js("document.getElementById('login').hidden"), 'still on the login form'), 'login with the right password failed')


def check_overview(c, api):
    ov = api.must('GET', 'overview')
    version = ov.get('product_version') or ov.get('rabbitmq_version')
    c.open('#/overview')
    c.text('Overview', version, ov.get('management_version', ''), 'Connections', 'Queues', 'Exchanges', 'Listeners', 'guest')
    return f'version {version}, totals, listeners, connections'


def check_queues(c):
    c.open('#/queues/' + q(VHOST))
    for name, depth in EXPECTED_DEPTHS.items():
        c.row({'Vhost': VHOST, 'Name': name, 'Type': 'classic', 'Ready': str(depth), 'Unacked': '0', 'Total': str(depth),
               'Consumers': '0'})
    c.row({'Name': 'ct.orders', 'Features': Contains('x-max-length: 1000')})
    c.row({'Name': 'ct.orders', 'Features': Contains('D')})
    c.row({'Name': 'ct.temp', 'Features': Contains('AD')})
    c.open('#/queues')
    c.row({'Vhost': VHOST, 'Name': 'ct.orders', 'Total': '2'})
    c.open('#/queues/' + q(VHOST))
    c.row({'Name': 'ct.red', 'Total': '1'})
    return 'names, types, features, ready/unacked/total, consumers; all-vhost list'


def check_queue(c):
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
    for name, typ, count in [('ct.direct', 'direct', '1'), ('ct.topic', 'topic', '2'), ('ct.headers', 'headers', '1'),
                             ('ct.ae', 'fanout', '1')]:
        c.row({'Vhost': VHOST, 'Name': name, 'Type': typ, 'Bindings': count, 'Features': Contains('D')})
    c.row({'Name': 'ct.headers', 'Features': Contains('alternate-exchange: ct.ae')})
    c.row({'Name': '(AMQP default)', 'Type': 'direct'})
    c.row({'Name': 'amq.topic', 'Type': 'topic'})
    return 'types, features (alternate-exchange), binding counts'


def check_exchange(c):
    c.open(f'#/exchange/{q(VHOST)}/ct.topic')
    c.row({'Destination': 'ct.audit', 'Type': 'queue', 'Routing key': 'order.#'})
    c.row({'Destination': 'ct.errors', 'Type': 'queue', 'Routing key': '*.error'})
    c.open(f'#/exchange/{q(VHOST)}/ct.headers')
    c.row({'Destination': 'ct.red', 'Type': 'queue', 'Arguments': Contains('size: big')})
    c.text('alternate-exchange: ct.ae', 'headers', 'Publish a message', 'Trace a route')
    return 'source bindings with destination, type, routing key, arguments'


def check_publish(c, api):
    c.open(f'#/publish/{q(VHOST)}/ct.direct')
    c.value_is('pub-vhost', VHOST)
    c.value_is('pub-exchange', 'ct.direct')
    c.set('pub-key', 'order.created')
    c.set('pub-headers', 'source=console-test\nattempt=1')
    c.set('pub-delivery-mode', '2')
    c.set('pub-content-type', 'text/plain')
    c.set('pub-payload', 'order 3 from the console')
    c.click('pub-submit')
    c.text('routed: true', selector='#pub-result')
    c.set('pub-key', 'no.such.key')
    c.click('pub-submit')
    c.text('routed: false', selector='#pub-result')
    msgs = api.must('POST', f'queues/{q(VHOST)}/ct.orders/get',
                    {'count': 10, 'ackmode': 'ack_requeue_true', 'encoding': 'auto', 'truncate': 50000})
    got = [m for m in msgs if m.get('payload') == 'order 3 from the console']
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


def check_trace(c, api):
    c.open(f'#/trace/{q(VHOST)}/ct.headers')
    c.value_is('tr-vhost', VHOST)
    if not trace_supported(api):
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
    ap.add_argument('--chromium', help='chromium binary (default: chromium on PATH, or $CHROMIUM)')
    ap.add_argument('--timeout', type=float, default=60, help='seconds to wait for each expected thing (default 60)')
    a = ap.parse_args()
    base = a.url.rstrip('/')
    api = Api(base, a.user, a.password)
    if a.screenshots:
        os.makedirs(a.screenshots, exist_ok=True)
    passed, failed, browser = 0, 0, None
    try:
        make_state(api)
        wait_depths(api, a.timeout)
        browser = Browser(find_chromium(a.chromium), a.timeout)
        c = Console(browser, base, a.timeout)
        checks = [('login', lambda: check_login(c, base)), ('overview', lambda: check_overview(c, api)),
                  ('queues', lambda: check_queues(c)), ('queue', lambda: check_queue(c)),
                  ('exchanges', lambda: check_exchanges(c)), ('exchange', lambda: check_exchange(c)),
                  ('publish', lambda: check_publish(c, api)), ('trace', lambda: check_trace(c, api)),
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
        status, _ = api.call('DELETE', f'vhosts/{q(VHOST)}')
        if status not in (204, 404):
            print(f'warning: deleting vhost {VHOST} answered HTTP {status}')
    print(f'console: {passed} passed, {failed} failed')
    return 0 if failed == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
