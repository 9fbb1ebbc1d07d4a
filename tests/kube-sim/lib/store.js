'use strict';
// The object store: every object of the cluster, in memory, with the object
// mechanics of the real API server — uid, a cluster-wide resourceVersion with
// optimistic concurrency, generation bumped on spec changes only, finalizers
// and deletionTimestamp, graceful pod deletion, and watches that replay from a
// resourceVersion (410 Gone once it is older than the kept history).
//
// It knows nothing of HTTP, authorization, validation, defaulting or patches:
// the API server does those and then calls the store. Controllers and the
// kubelet call it directly and listen to its 'event' emissions.

const crypto = require('crypto');
const { EventEmitter } = require('events');
const errors = require('./errors');
const podSecurity = require('./podsecurity');
const { parseLabelSelector, parseFieldSelector } = require('./selectors');

// Watch history kept for resuming watches: the real API server's watch cache
// is bounded as well. KUBE_SIM_WATCH_HISTORY makes it small for tests of 410.
const HISTORY = Number(process.env.KUBE_SIM_WATCH_HISTORY) || 1000;

const copy = (o) => (o === undefined ? undefined : structuredClone(o));
// RFC 3339 in whole seconds, as metav1.Time serializes.
const stamp = (ms) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
const now = (plusSeconds = 0) => stamp(Date.now() + plusSeconds * 1000);

function randomSuffix(n) {
  const chars = 'bcdfghjklmnpqrstvwxz2456789';
  let s = '';
  for (let i = 0; i < n; i++) s += chars[crypto.randomInt(chars.length)];
  return s;
}

// JSON with sorted keys, so that key order never counts as a change.
function canonical(value, ignoreRV) {
  return JSON.stringify(value, function replacer(k, v) {
    if (ignoreRV && k === 'resourceVersion' && this && this.uid !== undefined) return undefined;
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.keys(v).sort().map((key) => [key, v[key]]));
    }
    return v;
  });
}

// Everything but metadata and status: a change here bumps generation.
function specPart(obj) {
  const { metadata, status, ...rest } = obj;
  return canonical(rest);
}

class Store extends EventEmitter {
  constructor(registry) {
    super();
    this.setMaxListeners(0);
    this.registry = registry;
    this.objects = new Map(); // key -> object
    this.rv = 1;
    this.history = []; // {rv, type, key, res, object, old}
    this.watchers = new Set();
  }

  static key(res, namespace, name) {
    return `${res.group}/${res.plural}/${res.namespaced ? namespace || '' : ''}/${name}`;
  }

  currentResourceVersion() { return String(this.rv); }

  nextRV() { this.rv += 1; return String(this.rv); }

  tryGet(res, namespace, name) {
    return copy(this.objects.get(Store.key(res, namespace, name))) || null;
  }

  get(res, namespace, name) {
    const obj = this.tryGet(res, namespace, name);
    if (!obj) throw errors.notFound(res, name);
    return obj;
  }

  list(res, namespace, { labelSelector, fieldSelector } = {}) {
    const byLabel = parseLabelSelector(labelSelector);
    const byField = parseFieldSelector(fieldSelector, res);
    const prefix = `${res.group}/${res.plural}/${res.namespaced && namespace ? namespace + '/' : ''}`;
    const items = [];
    for (const [key, obj] of this.objects) {
      if (!key.startsWith(prefix)) continue;
      if (!byLabel(obj.metadata.labels) || !byField(obj)) continue;
      items.push(copy(obj));
    }
    items.sort((a, b) => (a.metadata.namespace || '').localeCompare(b.metadata.namespace || '')
      || a.metadata.name.localeCompare(b.metadata.name));
    return { items, resourceVersion: this.currentResourceVersion() };
  }

  // name: as the request gave it ('' for generateName), as the real
  // NamespaceLifecycle admission names the object in its 403.
  checkNamespace(res, namespace, name) {
    if (!res.namespaced) return;
    if (!namespace) throw errors.badRequest('the namespace of the object does not match the namespace on the request');
    const nsRes = this.registry.byPlural('', 'v1', 'namespaces');
    const ns = this.objects.get(Store.key(nsRes, '', namespace));
    if (!ns) throw errors.notFound(nsRes, namespace);
    if (ns.metadata.deletionTimestamp) {
      const what = name ? `${errors.qualified(res)} "${name}"` : errors.qualified(res);
      const d = { name, kind: res.plural };
      if (res.group) d.group = res.group;
      throw errors.forbidden(`${what} is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`, d);
    }
  }

  create(res, input, { dryRun = false } = {}) {
    const obj = copy(input);
    obj.apiVersion = obj.apiVersion || res.apiVersion;
    obj.kind = obj.kind || res.kind;
    const meta = (obj.metadata = obj.metadata || {});
    const requestedName = meta.name || '';
    if (!meta.name && meta.generateName) meta.name = meta.generateName + randomSuffix(5);
    if (!meta.name) {
      throw errors.invalid(res, res.kind, '', [{ field: 'metadata.name', message: 'Required value: name or generateName is required', reason: 'FieldValueRequired' }]);
    }
    if (res.namespaced) this.checkNamespace(res, meta.namespace, requestedName);
    else delete meta.namespace;
    const key = Store.key(res, meta.namespace, meta.name);
    if (this.objects.has(key)) throw errors.alreadyExists(res, meta.name);
    // Pod Security admission, here so that pods a controller creates are
    // refused like a client's (the real admission sees both).
    if (res.kind === 'Pod' && res.group === '') {
      const nsRes = this.registry.byPlural('', 'v1', 'namespaces');
      podSecurity.admitPod(this.objects.get(Store.key(nsRes, '', meta.namespace)), obj);
    }
    // A uid chosen before the store (a Job's, during defaulting) is kept.
    meta.uid = meta.uid || crypto.randomUUID();
    meta.creationTimestamp = now();
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    if (obj.spec !== undefined) meta.generation = 1;
    if (res.kind === 'Namespace') {
      obj.spec = obj.spec || {};
      obj.spec.finalizers = ['kubernetes'];
      obj.status = { phase: 'Active' };
    }
    if (dryRun) return obj;
    meta.resourceVersion = this.nextRV();
    this.objects.set(key, obj);
    this.record('ADDED', res, key, obj, undefined);
    return copy(obj);
  }

  update(res, input, { dryRun = false, subresource = null } = {}) {
    const meta = (input && input.metadata) || {};
    const key = Store.key(res, meta.namespace, meta.name);
    const old = this.objects.get(key);
    if (!old) throw errors.notFound(res, meta.name);
    if (meta.resourceVersion && meta.resourceVersion !== old.metadata.resourceVersion) {
      throw errors.conflict(res, meta.name, 'the object has been modified; please apply your changes to the latest version and try again');
    }
    if (meta.uid && meta.uid !== old.metadata.uid) {
      throw errors.conflict(res, meta.name, `Precondition failed: UID in precondition: ${meta.uid}, UID in object meta: ${old.metadata.uid}`);
    }
    let obj;
    if (subresource === 'status') {
      obj = copy(old);
      obj.status = copy(input.status);
    } else {
      obj = copy(input);
      obj.apiVersion = old.apiVersion;
      obj.kind = old.kind;
      if (res.hasStatus && subresource === null) obj.status = copy(old.status);
      const m = obj.metadata;
      m.uid = old.metadata.uid;
      m.creationTimestamp = old.metadata.creationTimestamp;
      m.namespace = old.metadata.namespace;
      if (old.metadata.deletionTimestamp) {
        m.deletionTimestamp = old.metadata.deletionTimestamp;
        if (old.metadata.deletionGracePeriodSeconds !== undefined) m.deletionGracePeriodSeconds = old.metadata.deletionGracePeriodSeconds;
      } else {
        delete m.deletionTimestamp;
        delete m.deletionGracePeriodSeconds;
      }
      if (old.metadata.generation !== undefined || obj.spec !== undefined) {
        const gen = old.metadata.generation || 1;
        m.generation = specPart(obj) !== specPart(old) ? gen + 1 : gen;
      }
    }
    if (canonical(obj, true) === canonical(old, true)) {
      // A no-op write: the real server keeps the resourceVersion and sends no event.
      return copy(old);
    }
    if (dryRun) return obj;
    // The last finalizer gone from an object being deleted: it goes.
    // (A Namespace goes only through finalizeNamespace, once it is empty.)
    const isNamespace = res.kind === 'Namespace' && res.group === '';
    if (obj.metadata.deletionTimestamp && !(obj.metadata.finalizers || []).length && !this.gracefulPod(res, obj) && !isNamespace) {
      return this.remove(res, key, obj);
    }
    obj.metadata.resourceVersion = this.nextRV();
    this.objects.set(key, obj);
    this.record('MODIFIED', res, key, obj, old);
    return copy(obj);
  }

  // A pod bound to a node waits for its kubelet to confirm termination.
  gracefulPod(res, obj) {
    return res.kind === 'Pod' && res.group === '' && obj.spec && obj.spec.nodeName
      && obj.metadata.deletionGracePeriodSeconds > 0;
  }

  delete(res, namespace, name, { dryRun = false, propagationPolicy, preconditions, gracePeriodSeconds } = {}) {
    const key = Store.key(res, namespace, name);
    const old = this.objects.get(key);
    if (!old) throw errors.notFound(res, name);
    if (preconditions && preconditions.uid && preconditions.uid !== old.metadata.uid) {
      throw errors.conflict(res, name, `Precondition failed: UID in precondition: ${preconditions.uid}, UID in object meta: ${old.metadata.uid}`);
    }
    if (preconditions && preconditions.resourceVersion && preconditions.resourceVersion !== old.metadata.resourceVersion) {
      throw errors.conflict(res, name, `Precondition failed: ResourceVersion in precondition: ${preconditions.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`);
    }
    const obj = copy(old);
    const meta = obj.metadata;
    const finalizers = meta.finalizers ? [...meta.finalizers] : [];
    if (!meta.deletionTimestamp) {
      if (propagationPolicy === 'Foreground' && !finalizers.includes('foregroundDeletion')) finalizers.push('foregroundDeletion');
      if (propagationPolicy === 'Orphan' && !finalizers.includes('orphan')) finalizers.push('orphan');
    }
    let grace = 0;
    if (res.kind === 'Pod' && res.group === '' && obj.spec && obj.spec.nodeName && !(obj.status && ['Succeeded', 'Failed'].includes(obj.status.phase))) {
      grace = gracePeriodSeconds ?? obj.spec.terminationGracePeriodSeconds ?? 30;
      if (meta.deletionGracePeriodSeconds !== undefined) grace = Math.min(grace, meta.deletionGracePeriodSeconds);
    }
    const isNamespace = res.kind === 'Namespace' && res.group === '';
    if (!finalizers.length && grace === 0 && !isNamespace) {
      if (dryRun) return obj;
      return this.remove(res, key, obj);
    }
    if (meta.deletionTimestamp && meta.deletionGracePeriodSeconds === grace
        && JSON.stringify(finalizers) === JSON.stringify(meta.finalizers || [])) {
      return obj; // already being deleted: nothing changes
    }
    // As the real BeforeDelete: the time by which the object should be gone,
    // now plus the grace period (so now for all but pods); a shorter grace
    // period for an object already being deleted moves it earlier.
    if (!meta.deletionTimestamp) meta.deletionTimestamp = now(grace);
    else if (grace < (meta.deletionGracePeriodSeconds || 0)) {
      meta.deletionTimestamp = stamp(Date.parse(meta.deletionTimestamp) + (grace - meta.deletionGracePeriodSeconds) * 1000);
    }
    meta.deletionGracePeriodSeconds = grace;
    if (finalizers.length) meta.finalizers = finalizers;
    if (isNamespace) obj.status = { ...(obj.status || {}), phase: 'Terminating' };
    if (dryRun) return obj;
    meta.resourceVersion = this.nextRV();
    this.objects.set(key, obj);
    this.record('MODIFIED', res, key, obj, old);
    return copy(obj);
  }

  // The namespace controller calls this once a terminating namespace is empty.
  finalizeNamespace(name) {
    const res = this.registry.byPlural('', 'v1', 'namespaces');
    const key = Store.key(res, '', name);
    const obj = this.objects.get(key);
    if (obj && obj.metadata.deletionTimestamp) this.remove(res, key, copy(obj));
  }

  remove(res, key, obj) {
    const old = this.objects.get(key);
    this.objects.delete(key);
    obj.metadata.resourceVersion = this.nextRV();
    this.record('DELETED', res, key, obj, old);
    return copy(obj);
  }

  record(type, res, key, object, old) {
    const entry = { rv: this.rv, type, res, key, object: copy(object), old: copy(old) };
    this.history.push(entry);
    if (this.history.length > HISTORY) this.history.shift();
    for (const w of this.watchers) w(entry);
    this.emit('event', { type, res, object: copy(object), old: copy(old) });
  }

  // Selectors: strings (a field selector limited to the fields the kind
  // supports, as on the API) or matcher functions. onEvent({type, object}). Throws a 410 ApiError when resourceVersion is
  // older than the kept history. Label/field selectors: an object that stops
  // matching is sent as DELETED, one that starts matching as ADDED.
  watch(res, namespace, { resourceVersion, labelSelector, fieldSelector } = {}, onEvent) {
    const byLabel = parseLabelSelector(labelSelector);
    const byField = parseFieldSelector(fieldSelector, res);
    const matches = (o) => o && o.metadata && (!res.namespaced || !namespace || o.metadata.namespace === namespace)
      && byLabel(o.metadata.labels) && byField(o);
    const prefix = `${res.group}/${res.plural}/`;
    const deliver = (entry) => {
      if (!entry.key.startsWith(prefix)) return;
      const now = matches(entry.object);
      const before = entry.type === 'MODIFIED' && matches(entry.old);
      let type = entry.type;
      if (type === 'MODIFIED') {
        if (now && !before) type = 'ADDED';
        else if (!now && before) type = 'DELETED';
        else if (!now) return;
      } else if (!now) return;
      onEvent({ type, object: copy(entry.object) });
    };
    const rv = resourceVersion && resourceVersion !== '0' ? Number(resourceVersion) : null;
    if (rv !== null) {
      if (Number.isNaN(rv)) throw errors.badRequest(`invalid resource version "${resourceVersion}"`);
      const oldest = this.history.length ? this.history[0].rv - 1 : this.rv;
      if (rv < oldest) throw errors.gone(`too old resource version: ${rv} (${oldest})`);
      for (const entry of this.history) if (entry.rv > rv) deliver(entry);
    } else {
      for (const obj of this.list(res, namespace, { labelSelector: byLabel, fieldSelector: byField }).items) {
        onEvent({ type: 'ADDED', object: obj });
      }
    }
    this.watchers.add(deliver);
    return () => this.watchers.delete(deliver);
  }
}

module.exports = { Store, now };
