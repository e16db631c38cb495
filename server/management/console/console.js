// warren web console: a small single-page app over the management HTTP API.
// All API data reaches the DOM through text nodes and setAttribute (never innerHTML).
'use strict';
(function () {
  const AUTH = 'warren.console.auth';   // sessionStorage: base64("user:password")
  const USER = 'warren.console.user';
  const REFRESH_MS = 5000;
  const $ = (id) => document.getElementById(id);
  const enc = encodeURIComponent;
  const exPath = (name) => (name === '' ? 'amq.default' : name);   // default exchange in paths
  const exLabel = (name) => (name === '' || name === 'amq.default' ? '(AMQP default)' : name);

  // ---- DOM helpers -------------------------------------------------------
  function h(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const k of kids.flat(Infinity)) {
      if (k !== null && k !== undefined && k !== false) e.append(k instanceof Node ? k : String(k));
    }
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'value') e.value = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    return e;
  }
  const fmt = (v) => (v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v));
  const num = (v) => (typeof v === 'number' ? v.toLocaleString('en-US') : '–');
  const badge = (text, title, cls) => h('span', { class: 'badge ' + (cls || ''), title: title }, text);
  const args = (obj) => Object.keys(obj || {}).sort().map((k) => h('div', { class: 'arg' }, k + ': ' + fmt(obj[k])));
  function features(o) {
    return h('span', { class: 'features' },
      o.durable ? badge('D', 'durable') : badge('T', 'transient', 'muted'),
      o.auto_delete && badge('AD', 'auto-delete'),
      o.exclusive && badge('Excl', 'exclusive'),
      o.internal && badge('I', 'internal'),
      Object.keys(o.arguments || {}).sort().map((k) => badge(k + ': ' + fmt(o.arguments[k]), 'argument ' + k, 'arg')));
  }
  function table(cols, rows, empty) {
    if (!rows.length) return h('p', { class: 'empty' }, empty);
    const cls = (c) => (c.endsWith('#') ? 'num' : null);
    const name = (c) => c.replace(/#$/, '');
    return h('table', null,
      h('thead', null, h('tr', null, cols.map((c) => h('th', { class: cls(c) }, name(c))))),
      h('tbody', null, rows.map((r) => h('tr', null, r.map((v, i) => h('td', { class: cls(cols[i]) }, v))))));
  }
  const dl = (pairs) => h('dl', { class: 'kv' }, pairs.filter(Boolean).map(([k, v]) => [h('dt', null, k), h('dd', null, v)]));
  const link = (href, text) => h('a', { href: href }, text);
  const queueLink = (v, n) => link('#/queue/' + enc(v) + '/' + enc(n), n);
  const exLink = (v, n) => link('#/exchange/' + enc(v) + '/' + enc(exPath(n)), exLabel(n));
  const destLink = (b) => (b.destination_type === 'queue' ? queueLink(b.vhost, b.destination) : exLink(b.vhost, b.destination));
  const byVhostName = (a, b) => (a.vhost + '\u0000' + a.name).localeCompare(b.vhost + '\u0000' + b.name);
  function status(text, isError) {
    $('status').textContent = text;
    $('status').className = isError ? 'error' : '';
  }

  // ---- API ---------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, data, message) { super(message); this.status = status; this.data = data; }
  }
  function b64(s) {
    let bin = '';
    for (const byte of new TextEncoder().encode(s)) bin += String.fromCharCode(byte);
    return btoa(bin);
  }
  async function api(method, path, body) {
    const headers = { Accept: 'application/json' };
    const auth = sessionStorage.getItem(AUTH);
    if (auth) headers.Authorization = 'Basic ' + auth;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res;
    try {
      // credentials 'omit': the browser neither adds cached credentials nor pops up its own login dialog on 401.
      res = await fetch('api/' + path, { method: method, headers: headers, cache: 'no-store', credentials: 'omit',
        body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (e) {
      throw new ApiError(0, null, 'Cannot reach the server: ' + e.message);
    }
    const text = await res.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
    const reason = data && typeof data === 'object' && !Array.isArray(data) ? fmt(data.reason || data.error) : '';
    if (res.status === 401) {
      loggedOut((reason || 'Login failed') + ' (HTTP 401)');
      throw new ApiError(401, data, 'not authorised');
    }
    if (!res.ok) throw new ApiError(res.status, data, 'HTTP ' + res.status + (reason ? ': ' + reason : '') + ' (' + method + ' /api/' + path + ')');
    return data;
  }

  // ---- login -------------------------------------------------------------
  function showLogin(message) {
    $('main').hidden = $('nav').hidden = $('who').hidden = true;
    $('login').hidden = false;
    $('login-message').textContent = message || '';
    $('login-user').focus();
  }
  function loggedOut(message) {
    sessionStorage.removeItem(AUTH);
    sessionStorage.removeItem(USER);
    stopPage();
    showLogin(message);
  }
  async function login(ev) {
    ev.preventDefault();
    sessionStorage.setItem(AUTH, b64($('login-user').value + ':' + $('login-password').value));
    $('login-message').textContent = 'Logging in…';
    try {
      const me = await api('GET', 'whoami');
      sessionStorage.setItem(USER, me.name);
      $('login-password').value = '';
      route();
    } catch (e) {
      if (e.status !== 401) { sessionStorage.removeItem(AUTH); $('login-message').textContent = e.message; }
    }
  }

  // ---- router ------------------------------------------------------------
  const PAGES = {};
  let page = null;   // { alive, timer }
  function stopPage() {
    if (page) { page.dead = true; clearInterval(page.timer); }
    page = null;
  }
  async function route() {
    stopPage();
    if (!sessionStorage.getItem(AUTH)) return showLogin('');
    $('login').hidden = true;
    $('main').hidden = $('nav').hidden = $('who').hidden = false;
    $('who-name').textContent = sessionStorage.getItem(USER) || '';
    const segs = location.hash.replace(/^#\/?/, '').split('/').map((s) => { try { return decodeURIComponent(s); } catch (e) { return s; } });
    const name = segs[0] || 'overview';
    const section = { queue: 'queues', exchange: 'exchanges' }[name] || name;
    for (const a of document.querySelectorAll('[data-nav]')) a.classList.toggle('active', a.dataset.nav === section);
    const ctx = { main: $('main'), args: segs.slice(1), dead: false, timer: null, refresh: null, busy: false,
      err: h('p', { class: 'error', id: 'page-error', hidden: true }) };
    page = ctx;
    ctx.main.replaceChildren(ctx.err);
    ctx.main.dataset.page = name;
    ctx.main.dataset.route = location.hash;   // which route main shows (the console test waits for it)
    status('');
    if (!PAGES[name]) { ctx.main.append(h('p', { class: 'error' }, 'Unknown page: ' + name)); return; }
    try {
      await PAGES[name](ctx);
      if (ctx.refresh && !ctx.dead) {
        await runRefresh(ctx);
        if (!ctx.dead) ctx.timer = setInterval(() => runRefresh(ctx), REFRESH_MS);
      }
    } catch (e) {
      if (!ctx.dead) ctx.main.append(h('p', { class: 'error' }, e.message));
    }
  }
  async function runRefresh(ctx) {
    if (ctx.busy || ctx.dead) return;
    ctx.busy = true;
    try {
      await ctx.refresh();
      if (!ctx.dead) { ctx.err.hidden = true; status('Auto-refresh every 5 s · updated ' + new Date().toLocaleTimeString('en-GB')); }
    } catch (e) {
      if (!ctx.dead && e.status !== 401) {
        ctx.err.textContent = e.message;
        ctx.err.hidden = false;
        status('Auto-refresh every 5 s · last attempt failed at ' + new Date().toLocaleTimeString('en-GB'), true);
      }
    } finally { ctx.busy = false; }
  }
  // Replace the children of el only if the page is still shown.
  const put = (ctx, el, ...kids) => { if (!ctx.dead) el.replaceChildren(...kids.flat(Infinity).filter((k) => k !== null && k !== undefined && k !== false)); };

  // vhost selector + name filter for the list pages
  function listToolbar(ctx, base, vhost, onFilter) {
    const sel = h('select', { id: 'vhost-select', onchange: () => { location.hash = base + (sel.value ? '/' + enc(sel.value) : ''); } },
      h('option', { value: '' }, 'All vhosts'));
    const filter = h('input', { id: 'name-filter', type: 'search', placeholder: 'Filter by name', oninput: onFilter });
    api('GET', 'vhosts').then((vs) => {
      for (const v of vs) sel.append(h('option', { value: v.name }, v.name));
      sel.value = vhost;
    }).catch(() => {});
    ctx.main.append(h('div', { class: 'toolbar' }, h('label', null, 'Vhost ', sel), filter));
    return filter;
  }

  // ---- overview ----------------------------------------------------------
  PAGES.overview = (ctx) => {
    const body = h('div');
    ctx.main.append(h('h1', null, 'Overview'), body);
    ctx.refresh = async () => {
      const [ov, conns] = await Promise.all([api('GET', 'overview'), api('GET', 'connections')]);
      const t = ov.object_totals || {}, q = ov.queue_totals || {};
      const tile = (label, v) => h('div', { class: 'tile' }, h('div', { class: 'tile-num' }, num(v)), h('div', { class: 'tile-label' }, label));
      put(ctx, body,
        h('div', { class: 'card' }, h('h2', null, 'Server'), dl([
          ['Product', fmt(ov.product_name || 'RabbitMQ') + ' ' + fmt(ov.product_version || ov.rabbitmq_version)],
          ['Management', fmt(ov.management_version)],
          ov.erlang_version && ['Erlang', fmt(ov.erlang_version)],
          ['Cluster', fmt(ov.cluster_name)], ['Node', fmt(ov.node)],
          ['User', sessionStorage.getItem(USER) || '']])),
        h('div', { class: 'tiles' }, tile('Connections', t.connections), tile('Channels', t.channels), tile('Exchanges', t.exchanges),
          tile('Queues', t.queues), tile('Consumers', t.consumers), tile('Ready', q.messages_ready),
          tile('Unacked', q.messages_unacknowledged), tile('Messages', q.messages)),
        h('h2', null, 'Listeners'),
        table(['Protocol', 'Address', 'Port#'], (ov.listeners || []).map((l) => [fmt(l.protocol), fmt(l.ip_address), fmt(l.port)]), 'No listeners.'),
        h('h2', null, 'Connections'),
        table(['Name', 'User', 'Vhost', 'Client', 'Protocol', 'Channels#', 'State'], conns.map((c) => {
          const cp = c.client_properties || {};
          return [fmt(c.name), fmt(c.user), fmt(c.vhost), [cp.product, cp.version].filter(Boolean).map(fmt).join(' '),
            fmt(c.protocol), num(c.channels), fmt(c.state)];
        }), 'No connections.'));
    };
  };

  // ---- queues ------------------------------------------------------------
  PAGES.queues = (ctx) => {
    const vhost = ctx.args[0] || '';
    ctx.main.append(h('h1', null, vhost ? 'Queues in ' + vhost : 'Queues'));
    let data = [];
    const body = h('div');
    const filter = listToolbar(ctx, '#/queues', vhost, () => render());
    ctx.main.append(body);
    const render = () => {
      const f = filter.value.toLowerCase();
      const rows = data.filter((q) => q.name.toLowerCase().includes(f)).sort(byVhostName).map((q) => [
        fmt(q.vhost), queueLink(q.vhost, q.name), fmt(q.type || 'classic'), features(q), fmt(q.state),
        num(q.messages_ready), num(q.messages_unacknowledged), num(q.messages), num(q.consumers)]);
      put(ctx, body, table(['Vhost', 'Name', 'Type', 'Features', 'State', 'Ready#', 'Unacked#', 'Total#', 'Consumers#'], rows, 'No queues.'));
    };
    ctx.refresh = async () => { data = await api('GET', vhost ? 'queues/' + enc(vhost) : 'queues'); render(); };
  };

  PAGES.queue = (ctx) => {
    const [vhost, name] = ctx.args;
    const info = h('div'), binds = h('div'), cons = h('div'), results = h('div', { id: 'peek-results' });
    const count = h('input', { id: 'peek-count', type: 'number', min: '1', max: '100', value: '1' });
    const peek = async (ev) => {
      ev.preventDefault();
      put(ctx, results, h('p', null, 'Fetching…'));
      try {
        const msgs = await api('POST', 'queues/' + enc(vhost) + '/' + enc(name) + '/get',
          { count: Math.max(1, parseInt(count.value, 10) || 1), ackmode: 'ack_requeue_true', encoding: 'auto', truncate: 50000 });
        put(ctx, results, msgs.length ? msgs.map(message) : h('p', { class: 'empty' }, 'Queue is empty.'));
      } catch (e) { if (e.status !== 401) put(ctx, results, h('p', { class: 'error' }, e.message)); }
    };
    ctx.main.append(h('h1', null, 'Queue ', h('span', { class: 'name' }, name), h('span', { class: 'sub' }, ' in vhost ' + vhost)),
      info, h('h2', null, 'Bindings'), binds, h('h2', null, 'Consumers'), cons,
      h('h2', null, 'Get messages'),
      h('form', { class: 'inline', id: 'peek-form', onsubmit: peek }, h('label', null, 'Messages ', count),
        h('button', { type: 'submit', id: 'peek-submit' }, 'Get messages'),
        h('span', { class: 'hint' }, 'Peek: messages are requeued (ackmode ack_requeue_true) and come back marked redelivered.')),
      results);
    ctx.refresh = async () => {
      const [q, bindings, consumers] = await Promise.all([api('GET', 'queues/' + enc(vhost) + '/' + enc(name)),
        api('GET', 'bindings/' + enc(vhost)), api('GET', 'consumers')]);
      put(ctx, info, h('div', { class: 'card' }, dl([['Vhost', fmt(q.vhost)], ['Type', fmt(q.type || 'classic')], ['Features', features(q)],
        ['State', fmt(q.state)], ['Ready', num(q.messages_ready)], ['Unacked', num(q.messages_unacknowledged)],
        ['Total', num(q.messages)], ['Consumers', num(q.consumers)]])));
      const mine = bindings.filter((b) => b.destination_type === 'queue' && b.destination === name);
      put(ctx, binds, table(['From exchange', 'Routing key', 'Arguments'],
        mine.map((b) => [exLink(vhost, b.source), fmt(b.routing_key), args(b.arguments)]), 'No bindings.'));
      const cs = consumers.filter((c) => c.queue && c.queue.name === name && c.queue.vhost === vhost);
      // RabbitMQ names the channel "<connection> (N)"; a server that gives only its number gets "channel N"
      const channel = (d) => (d && d.name ? fmt(d.name) : d && d.number !== undefined ? 'channel ' + fmt(d.number) : '');
      put(ctx, cons, table(['Consumer tag', 'Channel', 'Ack required', 'Exclusive', 'Prefetch#'], cs.map((c) => [fmt(c.consumer_tag),
        channel(c.channel_details), fmt(c.ack_required), fmt(c.exclusive), num(c.prefetch_count)]), 'No consumers.'));
    };
  };

  function message(m, i) {
    const props = Object.assign({}, m.properties || {});
    const headers = props.headers || {};
    delete props.headers;
    const kv = (o) => table(['Name', 'Value'], Object.keys(o).sort().map((k) => [k, fmt(o[k])]), 'None.');
    return h('div', { class: 'card message' },
      h('h3', null, 'Message ' + (i + 1)),
      dl([['Exchange', exLabel(m.exchange)], ['Routing key', fmt(m.routing_key)], ['Redelivered', fmt(m.redelivered)],
        ['Payload', num(m.payload_bytes) + ' bytes, ' + fmt(m.payload_encoding)], ['Left in queue', num(m.message_count)]]),
      h('div', { class: 'cols' }, h('div', null, h('h4', null, 'Properties'), kv(props)), h('div', null, h('h4', null, 'Headers'), kv(headers))),
      h('h4', null, 'Payload'), h('pre', { class: 'payload' }, fmt(m.payload)));
  }

  // ---- exchanges ---------------------------------------------------------
  PAGES.exchanges = (ctx) => {
    const vhost = ctx.args[0] || '';
    ctx.main.append(h('h1', null, vhost ? 'Exchanges in ' + vhost : 'Exchanges'));
    let data = [], counts = {};
    const body = h('div');
    const filter = listToolbar(ctx, '#/exchanges', vhost, () => render());
    ctx.main.append(body);
    const render = () => {
      const f = filter.value.toLowerCase();
      const rows = data.filter((x) => exLabel(x.name).toLowerCase().includes(f)).sort(byVhostName).map((x) => [
        fmt(x.vhost), exLink(x.vhost, x.name), fmt(x.type), features(x), num(counts[x.vhost + '\u0000' + x.name] || 0)]);
      put(ctx, body, table(['Vhost', 'Name', 'Type', 'Features', 'Bindings#'], rows, 'No exchanges.'));
    };
    ctx.refresh = async () => {
      data = await api('GET', vhost ? 'exchanges/' + enc(vhost) : 'exchanges');
      const vhosts = [...new Set(data.map((x) => x.vhost))];
      const lists = await Promise.all(vhosts.map((v) => api('GET', 'bindings/' + enc(v)).catch(() => [])));
      counts = {};
      for (const b of lists.flat()) { const k = b.vhost + '\u0000' + b.source; counts[k] = (counts[k] || 0) + 1; }
      render();
    };
  };

  PAGES.exchange = (ctx) => {
    const [vhost, name] = ctx.args;
    const info = h('div'), binds = h('div');
    const tail = enc(vhost) + '/' + enc(exPath(name));
    ctx.main.append(h('h1', null, 'Exchange ', h('span', { class: 'name' }, exLabel(name)), h('span', { class: 'sub' }, ' in vhost ' + vhost)),
      info, h('p', { class: 'actions' }, link('#/publish/' + tail, 'Publish a message'), link('#/trace/' + tail, 'Trace a route')),
      h('h2', null, 'Bindings from this exchange'), binds);
    ctx.refresh = async () => {
      const [all, bindings] = await Promise.all([api('GET', 'exchanges/' + enc(vhost)),
        api('GET', 'exchanges/' + tail + '/bindings/source')]);
      const x = all.find((e) => e.name === (name === 'amq.default' ? '' : name));
      put(ctx, info, x ? h('div', { class: 'card' }, dl([['Vhost', fmt(x.vhost)], ['Type', fmt(x.type)], ['Features', features(x)]]))
        : h('p', { class: 'error' }, 'No exchange ' + name + ' in vhost ' + vhost));
      put(ctx, binds, table(['Destination', 'Type', 'Routing key', 'Arguments'],
        bindings.map((b) => [destLink(b), fmt(b.destination_type), fmt(b.routing_key), args(b.arguments)]), 'No bindings.'));
    };
  };

  // ---- publish and trace forms -------------------------------------------
  function parseHeaders(text) {
    const t = text.trim();
    if (!t) return {};
    if (t[0] === '{') {
      let v;
      try { v = JSON.parse(t); } catch (e) { throw new Error('Headers: invalid JSON: ' + e.message); }
      if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('Headers: the JSON must be an object');
      return v;
    }
    const out = {};
    t.split('\n').forEach((line, i) => {
      const l = line.trim();
      if (!l || l[0] === '#') return;
      const eq = l.indexOf('=');
      if (eq <= 0) throw new Error('Headers line ' + (i + 1) + ': expected key=value');
      out[l.slice(0, eq).trim()] = l.slice(eq + 1).trim();
    });
    return out;
  }
  const field = (label, control, wide) => h('label', { class: 'field' + (wide ? ' wide' : '') }, h('span', null, label), control);
  // vhost <select> and exchange <input list> that suggests the vhost's exchanges
  function target(ctx, prefix, skipInternal) {
    const [vh, ex] = ctx.args;
    const list = h('datalist', { id: prefix + '-exchanges' });
    const exchange = h('input', { id: prefix + '-exchange', list: prefix + '-exchanges', value: ex === undefined ? 'amq.default' : ex,
      placeholder: 'amq.default', autocomplete: 'off' });
    const loadExchanges = () => api('GET', 'exchanges/' + enc(vhost.value)).then((xs) => {
      put(ctx, list, xs.filter((x) => !(skipInternal && x.internal)).map((x) => h('option', { value: exPath(x.name) }, x.type)));
    }).catch(() => {});
    const vhost = h('select', { id: prefix + '-vhost', onchange: loadExchanges });
    api('GET', 'vhosts').then((vs) => {
      put(ctx, vhost, vs.map((v) => h('option', { value: v.name }, v.name)));
      vhost.value = vh && vs.some((v) => v.name === vh) ? vh : (vs[0] || {}).name;
      loadExchanges();
    }).catch(() => {});
    return { vhost, exchange, list, path: () => 'exchanges/' + enc(vhost.value) + '/' + enc(exchange.value.trim() || 'amq.default') };
  }

  PAGES.publish = (ctx) => {
    const t = target(ctx, 'pub', true);
    const key = h('input', { id: 'pub-key' });
    const headers = h('textarea', { id: 'pub-headers', rows: '3', placeholder: 'key=value per line, or a JSON object' });
    const mode = h('select', { id: 'pub-delivery-mode' }, h('option', { value: '' }, '(not set)'),
      h('option', { value: '1' }, '1 – non-persistent'), h('option', { value: '2' }, '2 – persistent'));
    const ctype = h('input', { id: 'pub-content-type', placeholder: 'e.g. text/plain' });
    const payload = h('textarea', { id: 'pub-payload', rows: '6' });
    const result = h('div', { id: 'pub-result' });
    const submit = async (ev) => {
      ev.preventDefault();
      try {
        const props = {}, hdrs = parseHeaders(headers.value);
        if (Object.keys(hdrs).length) props.headers = hdrs;
        if (mode.value) props.delivery_mode = Number(mode.value);
        if (ctype.value.trim()) props.content_type = ctype.value.trim();
        put(ctx, result, h('p', null, 'Publishing…'));
        const r = await api('POST', t.path() + '/publish', { properties: props, routing_key: key.value, payload: payload.value, payload_encoding: 'string' });
        put(ctx, result, r.routed ? h('p', { class: 'ok' }, 'Message published — routed: true')
          : h('p', { class: 'warn' }, 'Message published — routed: false (no queue received it)'));
      } catch (e) { if (e.status !== 401) put(ctx, result, h('p', { class: 'error' }, e.message)); }
    };
    ctx.main.append(h('h1', null, 'Publish a message'),
      h('form', { class: 'card grid', id: 'pub-form', onsubmit: submit }, field('Vhost', t.vhost), field('Exchange', t.exchange), t.list,
        field('Routing key', key), field('Delivery mode', mode), field('Content type', ctype), field('Headers', headers, true),
        field('Payload', payload, true), h('div', { class: 'wide' }, h('button', { type: 'submit', id: 'pub-submit' }, 'Publish'))),
      result);
  };

  PAGES.trace = (ctx) => {
    const t = target(ctx, 'tr', false);
    const key = h('input', { id: 'tr-key' });
    const headers = h('textarea', { id: 'tr-headers', rows: '3', placeholder: 'key=value per line, or a JSON object' });
    const result = h('div', { id: 'tr-result' });
    const submit = async (ev) => {
      ev.preventDefault();
      let r;
      try {
        const body = { routing_key: key.value, headers: parseHeaders(headers.value) };
        put(ctx, result, h('p', null, 'Tracing…'));
        r = await api('POST', 'warren/trace-route/' + t.path().replace(/^exchanges\//, ''), body);
      } catch (e) {
        const d = e.data;
        if (d && typeof d === 'object' && (Array.isArray(d.bindings) || (d.error && typeof d.error === 'object'))) r = d;
        else if (e.status === 404 || e.status === 405 || e.status === 501) {
          return put(ctx, result, h('p', { class: 'warn', id: 'tr-unsupported' },
            'Route tracing needs warren-server: this server does not answer /api/warren/trace-route (RabbitMQ itself has no such endpoint).'));
        } else {
          if (e.status !== 401) put(ctx, result, h('p', { class: 'error' }, e.message));
          return;
        }
      }
      put(ctx, result, traceResult(r, t.vhost.value));
    };
    ctx.main.append(h('h1', null, 'Trace a route'),
      h('p', { class: 'hint' }, 'Shows where a message would go, binding by binding, without publishing it.'),
      h('form', { class: 'card grid', id: 'tr-form', onsubmit: submit }, field('Vhost', t.vhost), field('Exchange', t.exchange), t.list,
        field('Routing key', key, true), field('Headers', headers, true),
        h('div', { class: 'wide' }, h('button', { type: 'submit', id: 'tr-submit' }, 'Trace'))),
      result);
  };

  function traceResult(r, vhost) {
    const queues = r.queues || [], aes = r.alternate_exchanges || [];
    if (r.error) {
      return h('div', { class: 'trace' }, h('p', { class: 'error', id: 'tr-error' }, 'Error ' + fmt(r.error.code) + ': ' + fmt(r.error.text)));
    }
    return h('div', { class: 'trace' },
      h('div', { class: 'card' }, dl([['Exchange', exLabel(fmt(r.exchange))], ['Routing key', fmt(r.routing_key)],
        ['Queues reached', queues.length ? h('span', { id: 'tr-queues' }, queues.map((q, i) => [i ? ', ' : '', queueLink(vhost, q)]))
          : h('span', { id: 'tr-queues', class: 'warn' }, 'none — the message would be unroutable')],
        ['Alternate exchanges followed', aes.length ? h('span', { id: 'tr-aes' }, aes.map((x, i) => [i ? ', ' : '', exLink(vhost, x)]))
          : h('span', { id: 'tr-aes' }, 'none')]])),
      h('h2', null, 'Bindings examined'),
      table(['Verdict', 'Source', 'Destination', 'Type', 'Routing key', 'Arguments', 'Reason'], (r.bindings || []).map((b) => [
        b.matched ? badge('matched', 'this binding matched', 'ok') : badge('no match', 'this binding did not match', 'miss'),
        exLink(vhost, fmt(b.source)), destLink(Object.assign({ vhost: vhost }, b)), fmt(b.destination_type), fmt(b.routing_key),
        args(b.arguments), fmt(b.reason)]), 'No bindings examined.'));
  }

  // ---- start -------------------------------------------------------------
  document.addEventListener('DOMContentLoaded', () => {
    $('login-form').addEventListener('submit', login);
    $('logout').addEventListener('click', () => loggedOut('Logged out.'));
    window.addEventListener('hashchange', route);
    route();
  });
})();
