#!/usr/bin/env node
// A fake card gateway for evbill's tests: the subset of Stripe's
// PaymentIntents API that evbill uses, over HTTPS, with Idempotency-Key
// semantics, signed webhooks and fault switches.  Node's standard
// library only.
//
//   node fake-gateway.js --port P --ctl-port C --cert F --key F
//        [--bad-cert F --bad-key F] --api-key K --webhook-secret S
//        [--webhook-url http://127.0.0.1:N/path]
//
// The control server (plain HTTP on 127.0.0.1:C) takes JSON:
//   POST /fault   {"op":"create|retrieve|confirm|capture|cancel",
//                  "fault":"500|429|reset|delay", "ms":N, "count":N}
//        500, 429: refused, nothing applied; reset: applied, then the
//        connection is dropped; delay: applied, answered after ms;
//        stale: 200 with the intent as it was, nothing applied nor
//        remembered for the key (a capture answered requires_capture).
//   POST /cert    {"bad":true|false}  serve a certificate nginx refuses
//   POST /webhooks {"hold":true} queue webhooks; {"release":"order|reverse",
//                  "duplicate":true} send the queued ones
//   POST /authorize {"id":"pi_..."} confirm with a test card (tok_visa)
//   GET  /log     every API request: method, path, key, body, status
//   GET  /intents every PaymentIntent
//   GET  /events  every webhook event sent
'use strict';

const https = require('https');
const http = require('http');
const fs = require('fs');
const crypto = require('crypto');
const querystring = require('querystring');

const args = {};
for (let i = 2; i < process.argv.length; i += 2) {
    args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
}

const good = { cert: fs.readFileSync(args.cert), key: fs.readFileSync(args.key) };
const bad = args['bad-cert']
    ? { cert: fs.readFileSync(args['bad-cert']),
        key: fs.readFileSync(args['bad-key']) }
    : null;

const intents = new Map();
const idem = new Map();
const faults = [];
const log = [];
const events = [];
let held = [];
let hold = false;
let seq = 0;
let evseq = 0;

function id(prefix) {
    seq++;
    return prefix + '_' + crypto.randomBytes(8).toString('hex') + seq;
}

function takeFault(op) {
    const i = faults.findIndex(f => f.op === op);
    if (i < 0) return null;
    const f = faults[i];
    if (--f.count <= 0) faults.splice(i, 1);
    return f;
}

function view(pi) {
    return Object.assign({ object: 'payment_intent' }, pi);
}

function sendWebhook(type, pi) {
    const ev = {
        id: 'evt_' + (++evseq) + '_' + crypto.randomBytes(4).toString('hex'),
        object: 'event', type: type, created: Math.floor(Date.now() / 1000),
        data: { object: view(pi) }
    };
    events.push(ev);
    if (hold) { held.push(ev); return; }
    post(ev);
}

function post(ev) {
    if (!args['webhook-url']) return;
    const body = JSON.stringify(ev);
    const t = Math.floor(Date.now() / 1000);
    const sig = crypto.createHmac('sha256', args['webhook-secret'])
        .update(t + '.' + body).digest('hex');
    const u = new URL(args['webhook-url']);
    const req = http.request({
        // a connection per event: a kept-alive one may meet a worker that
        // a reload is shutting down
        agent: false,
        host: u.hostname, port: u.port, path: u.pathname, method: 'POST',
        headers: { 'content-type': 'application/json',
                   'content-length': Buffer.byteLength(body),
                   'stripe-signature': 't=' + t + ',v1=' + sig }
    }, res => { res.resume(); });
    req.on('error', () => {});
    req.end(body);
}

function err(status, type, message) {
    return [status, { error: { type: type, message: message } }];
}

function apply(op, pid, p) {
    let pi = pid ? intents.get(pid) : null;
    if (pid && !pi) return err(404, 'invalid_request_error', 'no such intent');
    switch (op) {
    case 'create': {
        const amount = parseInt(p.amount, 10);
        if (!(amount > 0) || !p.currency) {
            return err(400, 'invalid_request_error', 'amount and currency');
        }
        pi = { id: id('pi'), amount: amount, currency: p.currency,
               capture_method: p.capture_method || 'automatic',
               status: 'requires_payment_method', amount_capturable: 0,
               amount_received: 0, metadata: {}, latest_charge: null,
               created: Math.floor(Date.now() / 1000) };
        for (const k of Object.keys(p)) {
            const m = /^metadata\[(.+)\]$/.exec(k);
            if (m) pi.metadata[m[1]] = p[k];
        }
        pi.client_secret = pi.id + '_secret_' + crypto.randomBytes(6).toString('hex');
        intents.set(pi.id, pi);
        return [200, view(pi)];
    }
    case 'retrieve':
        return [200, view(pi)];
    case 'confirm': {
        if (pi.status !== 'requires_payment_method'
            && pi.status !== 'requires_confirmation') {
            return err(400, 'invalid_request_error', 'cannot confirm ' + pi.status);
        }
        if (p.payment_method === 'pm_card_chargeDeclined') {
            pi.status = 'requires_payment_method';
            sendWebhook('payment_intent.payment_failed', pi);
            return err(402, 'card_error', 'declined');
        }
        pi.status = 'requires_capture';
        pi.amount_capturable = pi.amount;
        pi.payment_method_details = { card: { brand: 'visa', last4: '4242' } };
        sendWebhook('payment_intent.amount_capturable_updated', pi);
        return [200, view(pi)];
    }
    case 'capture': {
        if (pi.status !== 'requires_capture') {
            return err(400, 'invalid_request_error', 'cannot capture ' + pi.status);
        }
        const a = p.amount_to_capture !== undefined
            ? parseInt(p.amount_to_capture, 10) : pi.amount_capturable;
        if (!(a >= 0) || a > pi.amount_capturable) {
            return err(400, 'invalid_request_error', 'amount_to_capture too large');
        }
        pi.amount_received = a;
        pi.amount_capturable = 0;
        pi.status = 'succeeded';
        sendWebhook('payment_intent.succeeded', pi);
        return [200, view(pi)];
    }
    case 'cancel': {
        if (pi.status === 'succeeded' || pi.status === 'canceled') {
            return err(400, 'invalid_request_error', 'cannot cancel ' + pi.status);
        }
        pi.status = 'canceled';
        pi.amount_capturable = 0;
        sendWebhook('payment_intent.canceled', pi);
        return [200, view(pi)];
    }
    }
    return err(404, 'invalid_request_error', 'unknown');
}

function route(method, path) {
    let m;
    if (method === 'POST' && path === '/v1/payment_intents') return ['create', null];
    if ((m = /^\/v1\/payment_intents\/([A-Za-z0-9_]+)$/.exec(path))) {
        return method === 'GET' ? ['retrieve', m[1]] : [null, null];
    }
    if (method === 'POST'
        && (m = /^\/v1\/payment_intents\/([A-Za-z0-9_]+)\/(confirm|capture|cancel)$/.exec(path))) {
        return [m[2], m[1]];
    }
    return [null, null];
}

function api(req, res, body) {
    const path = req.url.split('?')[0];
    const key = req.headers['idempotency-key'] || null;
    const entry = { method: req.method, path: path, key: key, body: body,
                    auth: req.headers.authorization === 'Bearer ' + args['api-key'],
                    status: 0 };
    log.push(entry);
    const answer = (status, obj, after) => {
        const text = JSON.stringify(obj);
        const send = () => {
            entry.status = status;
            res.writeHead(status, { 'content-type': 'application/json',
                                    'content-length': Buffer.byteLength(text) });
            res.end(text);
        };
        if (after === 'reset') { entry.status = 'reset'; req.socket.destroy(); return; }
        if (typeof after === 'number') { setTimeout(send, after); return; }
        send();
    };
    if (!entry.auth) {
        return answer(401, { error: { type: 'invalid_request_error',
                                       message: 'invalid API key' } });
    }
    const [op, pid] = route(req.method, path);
    if (!op) return answer(404, { error: { type: 'invalid_request_error', message: 'no route' } });
    const f = takeFault(op);
    if (f && (f.fault === '500' || f.fault === '429')) {
        return answer(parseInt(f.fault, 10), { error: { type: 'api_error', message: 'fault' } });
    }
    if (f && f.fault === 'stale' && intents.has(pid)) {
        return answer(200, view(intents.get(pid)));
    }
    const after = f ? (f.fault === 'reset' ? 'reset' : (f.ms || 0)) : undefined;
    if (key && req.method === 'POST') {
        const prev = idem.get(key);
        if (prev) {
            if (prev.path !== path || prev.body !== body) {
                return answer(400, { error: { type: 'idempotency_error',
                    message: 'key reused with another request' } });
            }
            entry.replay = true;
            return answer(prev.status, prev.obj, after);
        }
    }
    const [status, obj] = apply(op, pid, req.method === 'POST'
        ? querystring.parse(body) : {});
    if (key && req.method === 'POST' && status < 500) {
        idem.set(key, { path: path, body: body, status: status, obj: obj });
    }
    answer(status, obj, after);
}

function readBody(req, cb) {
    const chunks = [];
    req.on('data', c => chunks.push(c));
    req.on('end', () => cb(Buffer.concat(chunks).toString('utf8')));
}

const server = https.createServer(good, (req, res) => {
    readBody(req, body => api(req, res, body));
});

// a certificate switch must reach nginx's next handshake, not a kept-alive
// connection
const sockets = new Set();
server.on('secureConnection', s => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
});

const ctl = http.createServer((req, res) => {
    readBody(req, body => {
        let p = {};
        try { p = body ? JSON.parse(body) : {}; } catch (e) { p = {}; }
        let out = { ok: true };
        const path = req.url.split('?')[0];
        if (path === '/fault') {
            faults.push({ op: p.op, fault: String(p.fault), ms: p.ms || 0,
                          count: p.count || 1 });
        } else if (path === '/cert') {
            server.setSecureContext(p.bad && bad ? bad : good);
            for (const s of sockets) s.destroy();
        } else if (path === '/webhooks') {
            if (p.hold !== undefined) hold = !!p.hold;
            if (p.release) {
                const list = p.release === 'reverse' ? held.slice().reverse() : held;
                held = [];
                for (const ev of list) {
                    post(ev);
                    if (p.duplicate) post(ev);
                }
            }
        } else if (path === '/authorize') {
            if (!intents.has(p.id)) { res.writeHead(404); res.end('{}'); return; }
            const r = apply('confirm', p.id,
                            { payment_method: p.payment_method || 'pm_card_visa' });
            out = r[1];
            res.writeHead(r[0], { 'content-type': 'application/json' });
            res.end(JSON.stringify(out));
            return;
        } else if (path === '/resend') {
            const ev = events.find(e => e.id === p.id);
            if (ev) post(ev);
        } else if (path === '/log') {
            out = log;
        } else if (path === '/intents') {
            out = Array.from(intents.values());
        } else if (path === '/events') {
            out = events;
        } else {
            res.writeHead(404); res.end(); return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(out));
    });
});

server.listen(parseInt(args.port, 10), '127.0.0.1', () => {
    ctl.listen(parseInt(args['ctl-port'], 10), '127.0.0.1', () => {
        process.stdout.write('ready\n');
    });
});
