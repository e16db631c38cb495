#!/usr/bin/env node
// Quorum and stream queues through Node's amqplib: a quorum queue's delivery limit and
// x-delivery-count, then a stream read from "first" and from an offset, with its
// x-stream-offset header, and basic.get refused. Prints what it sees, the same on any broker.
//
//   node queue_types.js amqp://guest:guest@127.0.0.1:5672/%2f
'use strict';
const amqp = require('amqplib');
const crypto = require('crypto');

const url = process.argv[2];
if (!url) {
  console.error('usage: queue_types.js AMQP_URL');
  process.exit(64);
}
const run = crypto.randomBytes(6).toString('hex');
const say = (...parts) => console.log(parts.join(' ').split(run).join('<run>'));
setTimeout(() => { say(' [!] timed out after 30 s'); process.exit(3); }, 30000).unref();

function until(predicate, limitMs = 5000) {
  const deadline = Date.now() + limitMs;
  return new Promise((resolve) => {
    const poll = () => (predicate() || Date.now() > deadline ? resolve() : setTimeout(poll, 20));
    poll();
  });
}

async function quorum(conn) {
  const ch = await conn.createConfirmChannel();
  const queue = `interop-js-orders-${run}`;
  const parked = `interop-js-parked-${run}`;
  await ch.assertQueue(parked, { durable: true });
  await ch.assertQueue(queue, {
    durable: true,
    arguments: { 'x-queue-type': 'quorum', 'x-delivery-limit': 1,
                 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': parked },
  });
  ch.sendToQueue(queue, Buffer.from('poison'));
  ch.sendToQueue(queue, Buffer.from('good'));
  await ch.waitForConfirms();
  const worker = await conn.createChannel();
  await worker.prefetch(1);
  const seen = [];
  await worker.consume(queue, (msg) => {
    if (msg === null) return;  // cancelled by the broker: the queue is deleted below
    const count = (msg.properties.headers || {})['x-delivery-count'];
    say(` [x] got '${msg.content}' redelivered ${msg.fields.redelivered} x-delivery-count ${count}`);
    seen.push(msg);
    if (msg.content.toString() === 'poison') worker.nack(msg, false, true);
    else worker.ack(msg);
  });
  await until(() => seen.length >= 3);
  await new Promise((r) => setTimeout(r, 300));
  const got = await ch.get(parked, { noAck: true });
  const death = got.properties.headers['x-death'][0];
  say(` [x] parked '${got.content}' reason ${death.reason} count ${death.count}`);
  await ch.deleteQueue(queue);
  await ch.deleteQueue(parked);
  await worker.close();
  await ch.close();
}

async function stream(conn) {
  const ch = await conn.createConfirmChannel();
  const queue = `interop-js-events-${run}`;
  await ch.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'stream' } });
  for (let i = 0; i < 4; i++) {
    ch.sendToQueue(queue, Buffer.from(`event ${i}`), { headers: { n: i } });
    await ch.waitForConfirms();
  }
  for (const [name, offset] of [['first', 'first'], ['from 2', 2], ['last', 'last']]) {
    const reader = await conn.createChannel();
    await reader.prefetch(10);
    const lines = [];
    await reader.consume(queue, (msg) => {
      if (msg === null) return;
      const headers = Object.entries(msg.properties.headers).sort().map(([k, v]) => `${k}=${v}`);
      lines.push(` [x] ${name} got '${msg.content}' ${headers.join(' ')}`);
      reader.ack(msg);
    }, { arguments: { 'x-stream-offset': offset } });
    await until(() => lines.length >= { first: 4, 'from 2': 2, last: 1 }[name]);
    await new Promise((r) => setTimeout(r, 200));
    lines.forEach((l) => say(l));
    await reader.close();
  }
  // basic.get closes the connection (540); its reason comes with the connection's close.
  const other = await amqp.connect(url);
  const closed = new Promise((resolve) => other.on('close', (e) => resolve(e ? e.message : 'no error')));
  other.on('error', () => {});
  const refused = await other.createChannel();
  refused.on('error', () => {});
  try {
    await refused.get(queue);
    say(' [!] basic.get accepted');
  } catch (e) {
    say(' [x] basic.get refused:', await closed);
  }
}

(async () => {
  const conn = await amqp.connect(url);
  conn.on('error', () => {});
  await quorum(conn);
  await stream(conn);
  const admin = await amqp.connect(url);
  const ch = await admin.createChannel();
  await ch.deleteQueue(`interop-js-events-${run}`);
  await admin.close();
  process.exit(0);
})().catch((e) => { say(' [!]', e.message); process.exit(1); });
