'use strict';
// Fault injection rules: matching, nth/times counting, the Status bodies,
// and rules from a file that a test rewrites while requests flow.

const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { Faults, statusFor } = require('../lib/faults');

const req = (method, url) => ({ method, url });
const hits = (f, method, url, n) => Array.from({ length: n }, () => f.intercept(req(method, url)));

test('without nth a rule fails every matching request; only matching ones', () => {
  const f = new Faults();
  f.add({ method: 'get', path: '/api/v1/namespaces/default/pods', status: 503 });
  assert.deepStrictEqual(hits(f, 'GET', '/api/v1/namespaces/default/pods?limit=500', 3).map((a) => a && a.status), [503, 503, 503]);
  assert.strictEqual(f.intercept(req('POST', '/api/v1/namespaces/default/pods')), null);
  assert.strictEqual(f.intercept(req('GET', '/api/v1/namespaces/other/pods')), null);
});

test('nth fails the Nth matching request once; times extends it', () => {
  const f = new Faults();
  f.add({ path: '/apis/apps/v1/', nth: 2 });
  assert.deepStrictEqual(hits(f, 'GET', '/apis/apps/v1/statefulsets', 4).map((a) => a && a.status), [null, 500, null, null]);
  f.clear();
  f.add({ path: '/apis/apps/v1/', nth: 2, times: 2, status: 409 });
  assert.deepStrictEqual(hits(f, 'PUT', '/apis/apps/v1/x', 5).map((a) => a && a.status), [null, 409, 409, null, null]);
  f.clear();
  f.add({ path: '/api/', times: 2, status: 429, retryAfter: 3 });
  const got = hits(f, 'GET', '/api/v1/pods', 3);
  assert.deepStrictEqual(got.map((a) => a && a.status), [429, 429, null]);
  assert.strictEqual(got[0].retryAfter, 3);
  assert.deepStrictEqual(got[0].headers, { 'Retry-After': '3' });
});

test('path is exact, or a prefix when it ends in "/"; pathRegex is a regular expression', () => {
  const f = new Faults();
  f.add({ path: '/api/v1/namespaces/a/configmaps/f1', status: 500 });
  assert.ok(f.intercept(req('GET', '/api/v1/namespaces/a/configmaps/f1')));
  assert.ok(f.intercept(req('GET', '/api/v1/namespaces/a/configmaps/f1?resourceVersion=0')), 'the query does not count');
  assert.strictEqual(f.intercept(req('GET', '/api/v1/namespaces/a/configmaps/f10')), null);
  assert.strictEqual(f.intercept(req('GET', '/api/v1/namespaces/a/configmaps/f1/x')), null);
  f.clear();
  f.add({ path: '/api/v1/namespaces/a/', status: 500 });
  assert.ok(f.intercept(req('GET', '/api/v1/namespaces/a/pods')));
  assert.strictEqual(f.intercept(req('GET', '/api/v1/namespaces/a')), null);
  assert.strictEqual(f.intercept(req('GET', '/api/v1/namespaces/ab/pods')), null);
  f.clear();
  f.add({ pathRegex: 'statefulsets/zk-[0-9]+/scale$', status: 500 });
  assert.ok(f.intercept(req('PATCH', '/apis/apps/v1/namespaces/a/statefulsets/zk-12/scale')));
  assert.strictEqual(f.intercept(req('PATCH', '/apis/apps/v1/namespaces/a/statefulsets/zk/scale')), null);
  f.clear();
  f.add({ path: '/api/v1/namespaces/a/pods', pathRegex: '[?&]watch=(1|true)', status: 500 });
  assert.ok(f.intercept(req('GET', '/api/v1/namespaces/a/pods?watch=true')));
  assert.strictEqual(f.intercept(req('GET', '/api/v1/namespaces/a/pods?limit=500')), null, 'both must match');
  f.clear();
  f.add({ pathRegex: 'watch=true', timeout: true });
  assert.deepStrictEqual(f.intercept(req('GET', '/api/v1/pods?watch=true&resourceVersion=5')), { id: 'f5', headers: {}, hang: true });
  assert.throws(() => f.add({ path: 'statefulsets/.*' }), { code: 400, message: /"path" must be a path starting with "\/"/ });
  assert.throws(() => f.add({ pathRegex: 'pods(' }), { code: 400, message: /"pathRegex" is not a valid regular expression/ });
});

test('delay without a status delays and then serves; remove and list', () => {
  const f = new Faults();
  const id = f.add({ path: '/api/', delayMs: 200 });
  const a = f.intercept(req('GET', '/api/v1'));
  assert.strictEqual(a.delayMs, 200);
  assert.strictEqual(a.status, undefined);
  assert.deepStrictEqual(f.list().map((r) => [r.id, r.seen, r.fired]), [[id, 1, 1]]);
  assert.strictEqual(f.remove(id), true);
  assert.strictEqual(f.intercept(req('GET', '/api/v1')), null);
  assert.throws(() => f.add({ nth: 0 }), /counts from 1/);
  assert.throws(() => f.add({ stauts: 500 }), /unknown fault rule field "stauts"/);
});

test('the first firing rule answers, but every matching rule counts the request', () => {
  const f = new Faults();
  f.add({ path: '/api/', nth: 1, status: 503 });
  f.add({ path: '/api/', nth: 2, status: 409 });
  assert.deepStrictEqual(hits(f, 'GET', '/api/v1', 3).map((a) => a && a.status), [503, 409, null]);
});

test('statusFor builds the API server\'s Status bodies', () => {
  assert.deepStrictEqual(statusFor({ status: 429, retryAfter: 2 }), {
    kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
    message: 'Too many requests, please try again later.', reason: 'TooManyRequests', code: 429,
    details: { retryAfterSeconds: 2 },
  });
  assert.strictEqual(statusFor({ status: 409 }).reason, 'Conflict');
  const internal = statusFor({});
  assert.strictEqual(internal.code, 500);
  assert.strictEqual(internal.reason, 'InternalError');
  assert.deepStrictEqual(internal.details.causes, [{ message: 'injected fault' }]);
  assert.strictEqual(statusFor({ status: 503 }).reason, 'ServiceUnavailable');
  assert.strictEqual(statusFor({ status: 500, message: 'etcd is down' }).message, 'etcd is down');
});

test('rules load from a file and follow its changes', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-sim-faults-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'faults.json');
  const write = (data) => { fs.writeFileSync(`${file}.tmp`, JSON.stringify(data)); fs.renameSync(`${file}.tmp`, file); };
  const f = new Faults();
  f.loadFile(file); // not there yet
  assert.strictEqual(f.intercept(req('GET', '/api/v1')), null);
  write([{ path: '/api/', status: 500, times: 1 }]);
  assert.strictEqual(f.intercept(req('GET', '/api/v1')).status, 500);
  assert.strictEqual(f.intercept(req('GET', '/api/v1')), null);
  write({ rules: [{ method: 'DELETE', pathRegex: '^/api/v1/namespaces/[^/]+/pods/', status: 409 }] });
  assert.strictEqual(f.intercept(req('GET', '/api/v1/namespaces/a/pods/x')), null);
  assert.strictEqual(f.intercept(req('DELETE', '/api/v1/namespaces/a/pods/x')).status, 409);
  assert.strictEqual(f.list()[0].source, 'file');
  fs.writeFileSync(file, '[{"status": 5');
  f.intercept(req('GET', '/'));
  assert.match(f.fileError, /faults\.json/);
  assert.strictEqual(f.intercept(req('DELETE', '/api/v1/namespaces/a/pods/x')).status, 409); // old rules kept
  fs.rmSync(file);
  assert.strictEqual(f.intercept(req('DELETE', '/api/v1/namespaces/a/pods/x')), null);
});
