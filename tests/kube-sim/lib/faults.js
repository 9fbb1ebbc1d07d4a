'use strict';
// Fault injection: tests make chosen API requests fail (an error status, a
// delay, or no answer at all) to prove that clients retry and recover.
//
// A rule: { method?, path?, pathRegex?, nth?, times?, status?, retryAfter?, delayMs?, timeout?, message? }
//   path       the request's path (the URL without its query): equal to it, or,
//              when path ends with "/", a prefix of it. "/api/v1/namespaces/a/configmaps/f1"
//              matches that object only (not f10); "/api/v1/namespaces/a/" everything in a.
//   pathRegex  a JavaScript regular expression searched in the whole request
//              URL, query included ("[?&]watch=(1|true)")
//   (both given: both must match; neither: every request matches)
//   nth    fail the Nth matching request (counting from 1); default: every one
//   times  how many requests to fail; default 1 with nth, unlimited without
// Rules come from add() or from a JSON file (an array of rules, or
// {"rules": [...]}) that is re-read whenever it changes.

const fs = require('fs');
const { badRequest } = require('./errors');

const REASONS = {
  400: ['BadRequest', 'bad request'],
  401: ['Unauthorized', 'Unauthorized'],
  403: ['Forbidden', 'forbidden'],
  404: ['NotFound', 'the server could not find the requested resource'],
  405: ['MethodNotAllowed', 'the server does not allow this method on the requested resource'],
  409: ['Conflict', 'Operation cannot be fulfilled: the object has been modified; please apply your changes to the latest version and try again'],
  410: ['Expired', 'too old resource version'],
  422: ['Invalid', 'the request is invalid'],
  429: ['TooManyRequests', 'Too many requests, please try again later.'],
  500: ['InternalError', 'Internal error occurred: injected fault'],
  503: ['ServiceUnavailable', 'the server is currently unable to handle the request'],
  504: ['Timeout', 'Timeout: request did not complete within the allotted timeout'],
};

// The metav1 Status body the API server answers a failing rule with.
function statusFor(rule) {
  const code = rule.status || 500;
  const [reason, text] = REASONS[code] || (code >= 500 ? ['InternalError', `injected fault (${code})`] : ['BadRequest', `injected fault (${code})`]);
  const status = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: rule.message || text,
    reason,
    code,
  };
  const retryAfter = retryAfterFor(rule);
  if (retryAfter !== undefined) status.details = { retryAfterSeconds: retryAfter };
  if (code === 500) status.details = { ...(status.details || {}), causes: [{ message: rule.message || 'injected fault' }] };
  return status;
}

// Seconds for the Retry-After header, if the answer carries one.
function retryAfterFor(rule) {
  if (rule.retryAfter !== undefined) return Number(rule.retryAfter);
  if (rule.status === 429) return 1;
  return undefined;
}

// The extra response headers for a failing rule.
function headersFor(rule) {
  const s = retryAfterFor(rule);
  return s === undefined ? {} : { 'Retry-After': String(s) };
}

function validate(rule) {
  if (!rule || typeof rule !== 'object' || Array.isArray(rule)) throw badRequest('a fault rule must be an object');
  const known = new Set(['id', 'method', 'path', 'pathRegex', 'nth', 'times', 'status', 'retryAfter', 'delayMs', 'timeout', 'message']);
  for (const k of Object.keys(rule)) if (!known.has(k)) throw badRequest(`unknown fault rule field "${k}"`);
  for (const k of ['nth', 'times', 'status', 'retryAfter', 'delayMs']) {
    if (rule[k] !== undefined && !(Number.isInteger(rule[k]) && rule[k] >= 0)) throw badRequest(`fault rule field "${k}" must be a non-negative integer`);
  }
  if (rule.nth !== undefined && rule.nth < 1) throw badRequest('fault rule field "nth" counts from 1');
  if (rule.status !== undefined && (rule.status < 100 || rule.status > 599)) throw badRequest(`fault rule status ${rule.status} is not an HTTP status`);
  if (rule.path !== undefined && (typeof rule.path !== 'string' || !rule.path.startsWith('/'))) {
    throw badRequest('fault rule field "path" must be a path starting with "/" (use "pathRegex" for a regular expression)');
  }
  if (rule.pathRegex !== undefined) {
    if (typeof rule.pathRegex !== 'string') throw badRequest('fault rule field "pathRegex" must be a string');
    try { new RegExp(rule.pathRegex); } catch (err) { // eslint-disable-line no-new
      throw badRequest(`fault rule field "pathRegex" is not a valid regular expression: ${err.message}`);
    }
  }
}

// path: exact, or a prefix when it ends with "/"; compared with the URL's path only.
function pathMatches(path, url) {
  if (path === undefined) return true;
  const urlPath = url.split('?')[0];
  return path.endsWith('/') ? urlPath.startsWith(path) : urlPath === path;
}

function compile(rule, id) {
  validate(rule);
  const regex = rule.pathRegex !== undefined ? new RegExp(rule.pathRegex) : null;
  return {
    id,
    rule: { ...rule },
    method: rule.method ? String(rule.method).toUpperCase() : null,
    matchesPath: (url) => pathMatches(rule.path, url) && (regex === null || regex.test(url)),
    limit: rule.times !== undefined ? rule.times : rule.nth !== undefined ? 1 : Infinity,
    seen: 0,
    fired: 0,
  };
}

class Faults {
  constructor() {
    this.rules = [];       // compiled, added by add()
    this.fileRules = [];   // compiled, from the watched file
    this.nextId = 1;
    this.file = null;
    this.fileStamp = null;
    this.fileError = null;
  }

  // -> id
  add(rule) {
    const id = rule.id ? String(rule.id) : `f${this.nextId++}`;
    this.rules = this.rules.filter((r) => r.id !== id);
    this.rules.push(compile(rule, id));
    return id;
  }

  remove(id) {
    const before = this.rules.length + this.fileRules.length;
    this.rules = this.rules.filter((r) => r.id !== id);
    this.fileRules = this.fileRules.filter((r) => r.id !== id);
    return this.rules.length + this.fileRules.length < before;
  }

  clear() {
    this.rules = [];
    this.fileRules = [];
  }

  // -> [{id, ...rule, seen, fired, source}]
  list() {
    this.refreshFile();
    const show = (r, source) => ({ ...r.rule, id: r.id, seen: r.seen, fired: r.fired, source });
    return [...this.rules.map((r) => show(r, 'api')), ...this.fileRules.map((r) => show(r, 'file'))];
  }

  // Watches file for rules (it need not exist yet). A file that does not
  // parse keeps the previous rules; fileError says why.
  loadFile(file) {
    this.file = file;
    this.fileStamp = null;
    this.refreshFile();
  }

  refreshFile() {
    if (!this.file) return;
    let st = null;
    try { st = fs.statSync(this.file); } catch { /* absent: no file rules */ }
    const stamp = st ? `${st.mtimeMs}:${st.size}:${st.ino}` : 'absent';
    if (stamp === this.fileStamp) return;
    this.fileStamp = stamp;
    if (!st) { this.fileRules = []; this.fileError = null; return; }
    try {
      const text = fs.readFileSync(this.file, 'utf8');
      const data = text.trim() === '' ? [] : JSON.parse(text);
      const list = Array.isArray(data) ? data : data.rules || [];
      this.fileRules = list.map((rule, i) => compile(rule, rule.id ? String(rule.id) : `file-${i + 1}`));
      this.fileError = null;
    } catch (err) {
      this.fileError = `${this.file}: ${err.message}`;
    }
  }

  // req: {method, url}. Counts the request against every matching rule and
  // -> null (serve it normally) or the first firing rule's action:
  //    { id, status?, retryAfter?, delayMs?, hang?, message?, body?, headers }
  // status absent with delayMs: delay, then serve normally.
  intercept(req) {
    this.refreshFile();
    const method = String(req.method || 'GET').toUpperCase();
    const url = req.url || '/';
    let hit = null;
    for (const r of [...this.rules, ...this.fileRules]) {
      if (r.method && r.method !== method) continue;
      if (!r.matchesPath(url)) continue;
      r.seen += 1;
      if (hit) continue;
      const due = r.rule.nth === undefined || r.seen >= r.rule.nth;
      if (!due || r.fired >= r.limit) continue;
      r.fired += 1;
      hit = r;
    }
    if (!hit) return null;
    const rule = hit.rule;
    const action = { id: hit.id, headers: {} };
    if (rule.timeout) { action.hang = true; return action; }
    if (rule.delayMs) action.delayMs = rule.delayMs;
    const failing = rule.status !== undefined || !rule.delayMs;
    if (failing) {
      action.status = rule.status || 500;
      action.body = statusFor({ ...rule, status: action.status });
      action.message = action.body.message;
      action.headers = headersFor({ ...rule, status: action.status });
      if (action.headers['Retry-After']) action.retryAfter = Number(action.headers['Retry-After']);
    }
    return action;
  }
}

module.exports = { Faults, statusFor, headersFor };
