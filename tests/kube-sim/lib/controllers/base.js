'use strict';
// The machinery every controller shares, as client-go's workqueue gives it to
// the real kube-controller-manager: keys (ns/name) are deduplicated, a key is
// never processed twice at once, a key added while it is processed runs again
// afterwards, failures are retried with exponential backoff, 409 Conflicts
// (a stale read) simply retry, and a reconcile may ask to run again later
// (time-based work: minReadySeconds, Job deadlines and TTLs).

const realClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h),
};

const BACKOFF_BASE_MS = 5;
const BACKOFF_MAX_MS = 10000;

function normalizeLog(log) {
  if (!log) return () => {};
  if (typeof log === 'function') return log;
  if (typeof log.error === 'function') return (msg) => log.error(msg);
  if (typeof log.info === 'function') return (msg) => log.info(msg);
  return () => {};
}

class WorkQueue {
  // reconcile(key) -> undefined | {requeueAfter: ms}; may return a promise.
  constructor({ name, reconcile, log, clock }) {
    this.name = name;
    this.reconcile = reconcile;
    this.log = log;
    this.clock = clock || realClock;
    this.queue = [];
    this.queued = new Set();
    this.processing = new Set();
    this.dirty = new Set(); // added while processing
    this.failures = new Map(); // key -> consecutive failures
    this.timers = new Map(); // key -> {handle, at}
    this.scheduled = false;
    this.stopped = false;
    this.idleWaiters = [];
  }

  add(key) {
    if (this.stopped) return;
    if (this.processing.has(key)) { this.dirty.add(key); return; }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.schedule();
  }

  // Runs key after ms unless an earlier run is already due.
  addAfter(key, ms) {
    if (this.stopped) return;
    if (ms <= 0) { this.add(key); return; }
    const at = this.clock.now() + ms;
    const existing = this.timers.get(key);
    if (existing && existing.at <= at) return;
    if (existing) this.clock.clearTimeout(existing.handle);
    const handle = this.clock.setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    if (handle && typeof handle.unref === 'function') handle.unref();
    this.timers.set(key, { handle, at });
  }

  schedule() {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => this.drain());
  }

  async drain() {
    this.scheduled = false;
    // A bounded batch per turn, so that one busy controller cannot starve the
    // event loop (the API server and kubelet share this process).
    for (let n = 0; n < 200 && this.queue.length && !this.stopped; n++) {
      const key = this.queue.shift();
      this.queued.delete(key);
      this.processing.add(key);
      let result;
      try {
        result = await this.reconcile(key);
        this.failures.delete(key);
      } catch (e) {
        result = this.onError(key, e);
      } finally {
        this.processing.delete(key);
      }
      if (this.dirty.delete(key)) this.add(key);
      if (result && result.requeueAfter !== undefined) this.addAfter(key, Math.max(0, result.requeueAfter));
    }
    if (this.queue.length) this.schedule();
    else if (!this.processing.size) this.notifyIdle();
  }

  onError(key, e) {
    if (e && e.code === 409 && e.reason === 'Conflict') return { requeueAfter: 0 };
    const n = (this.failures.get(key) || 0) + 1;
    this.failures.set(key, n);
    const delay = Math.min(BACKOFF_BASE_MS * 2 ** (n - 1), BACKOFF_MAX_MS);
    // Expected while a namespace terminates or an object vanishes mid-way:
    // only say so once the retry is no longer quick.
    if (n >= 5 || !(e && (e.code === 404 || e.code === 403))) {
      this.log(`${this.name}: error syncing "${key}": ${e && e.message ? e.message : e}; retrying in ${delay}ms`);
    }
    return { requeueAfter: delay };
  }

  isIdle() { return !this.queue.length && !this.processing.size; }

  notifyIdle() {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  stop() {
    this.stopped = true;
    for (const { handle } of this.timers.values()) this.clock.clearTimeout(handle);
    this.timers.clear();
    this.queue = [];
    this.queued.clear();
    this.notifyIdle();
  }
}

// A controller: a work queue, a mapping from store events to keys, and a
// list of every key for the start and periodic resyncs.
class Controller {
  constructor(ctx, name) {
    this.ctx = ctx;
    this.name = name;
    this.store = ctx.store;
    this.registry = ctx.registry;
    this.clock = ctx.clock;
    this.log = ctx.log;
    this.queue = new WorkQueue({ name, reconcile: (key) => this.sync(key), log: ctx.log, clock: ctx.clock });
  }

  res(plural, group = '', version = 'v1') {
    const r = this.registry.byPlural(group, version, plural);
    if (!r) throw new Error(`resource ${group ? group + '/' : ''}${plural} is not in the registry`);
    return r;
  }

  // Override: store event -> nothing (enqueue keys with this.queue.add).
  onEvent() {}

  // Override: every key, for start-up and resync.
  allKeys() { return []; }

  // Override: reconcile one key.
  sync() {}

  resync() { for (const k of this.allKeys()) this.queue.add(k); }

  now() { return this.clock.now(); }

  nowISO() { return new Date(this.clock.now()).toISOString().replace(/\.\d+Z$/, 'Z'); }
}

// Same resource (group and plural; the version does not matter to a controller).
function sameRes(a, b) { return !!a && !!b && a.group === b.group && a.plural === b.plural; }

function nsKey(obj) {
  return obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : obj.metadata.name;
}

function splitKey(key) {
  const i = key.indexOf('/');
  return i < 0 ? ['', key] : [key.slice(0, i), key.slice(i + 1)];
}

module.exports = { WorkQueue, Controller, realClock, normalizeLog, nsKey, splitKey, sameRes };
