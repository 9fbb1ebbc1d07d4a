'use strict';
// The garbage collector (pkg/controller/garbagecollector) for every resource
// in the registry, custom resources included: dependents whose owners are all
// gone are deleted (background); an owner deleted in the foreground
// (finalizer foregroundDeletion) keeps its finalizer until no dependent with
// blockOwnerDeletion remains; an owner deleted with the orphan finalizer has
// its references stripped from its dependents first.
//
// Work keys: "dep|<res>|<ns>|<name>" (is this object garbage?) and
// "owner|<res>|<ns>|<name>" (an owner being deleted with a finalizer).

const { Controller } = require('./base');

const FOREGROUND = 'foregroundDeletion';
const ORPHAN = 'orphan';

function resId(res) { return `${res.group}/${res.version}/${res.plural}`; }

class GarbageCollector extends Controller {
  constructor(ctx) {
    super(ctx, 'garbagecollector');
    this.uids = new Map(); // uid -> identity "res|ns|name"
    this.dependents = new Map(); // owner uid -> Set(identity)
    this.refsOf = new Map(); // identity -> [owner uids]
  }

  start() {
    for (const res of this.registry.all()) {
      if (!res.verbs.includes('list')) continue;
      for (const obj of this.store.list(res, null).items) this.index(res, obj);
    }
  }

  ident(res, obj) { return `${resId(res)}|${obj.metadata.namespace || ''}|${obj.metadata.name}`; }

  parse(id) {
    const [rid, ns, name] = id.split('|');
    const [group, version, plural] = rid.split('/');
    return { res: this.registry.byPlural(group, version, plural), ns, name };
  }

  index(res, obj) {
    const id = this.ident(res, obj);
    this.uids.set(obj.metadata.uid, id);
    this.unindexRefs(id);
    const refs = (obj.metadata.ownerReferences || []).map((r) => r.uid);
    if (!refs.length) return;
    this.refsOf.set(id, refs);
    for (const uid of refs) {
      if (!this.dependents.has(uid)) this.dependents.set(uid, new Set());
      this.dependents.get(uid).add(id);
    }
  }

  unindexRefs(id) {
    for (const uid of this.refsOf.get(id) || []) {
      const set = this.dependents.get(uid);
      if (set) { set.delete(id); if (!set.size) this.dependents.delete(uid); }
    }
    this.refsOf.delete(id);
  }

  // Every dependent the index knows for uid, plus a scan of the owner's scope
  // so that nothing is missed.
  dependentsOf(uid) { return [...(this.dependents.get(uid) || [])]; }

  allKeys() {
    const keys = [];
    for (const id of this.refsOf.keys()) keys.push(`dep|${id}`);
    for (const res of this.registry.all()) {
      if (!res.verbs.includes('list')) continue;
      for (const obj of this.store.list(res, null).items) {
        if (this.deletingWith(obj)) keys.push(`owner|${this.ident(res, obj)}`);
      }
    }
    return keys;
  }

  deletingWith(obj) {
    const f = obj.metadata.finalizers || [];
    return obj.metadata.deletionTimestamp && (f.includes(FOREGROUND) || f.includes(ORPHAN)) ? true : false;
  }

  onEvent({ type, res, object, old }) {
    const id = this.ident(res, object);
    if (type === 'DELETED') {
      this.uids.delete(object.metadata.uid);
      for (const uid of this.refsOf.get(id) || []) this.ownerChanged(uid);
      this.unindexRefs(id);
      for (const dep of this.dependentsOf(object.metadata.uid)) this.queue.add(`dep|${dep}`);
      return;
    }
    this.index(res, object);
    if (this.deletingWith(object)) this.queue.add(`owner|${id}`);
    // A new or changed reference may point at an owner that does not exist.
    const refs = object.metadata.ownerReferences || [];
    const oldRefs = JSON.stringify((old && old.metadata.ownerReferences) || []);
    if (refs.length && (type === 'ADDED' || JSON.stringify(refs) !== oldRefs)) this.queue.add(`dep|${id}`);
    // A dependent leaving, or dropping its reference, may unblock an owner.
    if (old) for (const r of old.metadata.ownerReferences || []) this.ownerChanged(r.uid);
    if (object.metadata.deletionTimestamp) for (const r of refs) this.ownerChanged(r.uid);
  }

  ownerChanged(uid) {
    const id = this.uids.get(uid);
    if (id) {
      const { res, ns, name } = this.parse(id);
      const o = res && this.store.tryGet(res, ns, name);
      if (o && this.deletingWith(o)) this.queue.add(`owner|${id}`);
    }
  }

  sync(key) {
    const i = key.indexOf('|');
    const kind = key.slice(0, i);
    const { res, ns, name } = this.parse(key.slice(i + 1));
    if (!res) return;
    const obj = this.store.tryGet(res, ns, name);
    if (!obj) return;
    if (kind === 'owner') this.processOwner(res, obj);
    else this.attemptToDelete(res, obj);
  }

  // The owner an ownerReference names, or null when it is gone (a missing
  // object, or one of the same name with another uid). Undefined when the
  // kind is unknown: such references are left alone.
  lookupOwner(ref, namespace) {
    const apiVersion = ref.apiVersion || '';
    const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
    const res = this.registry.byKind(apiVersion, ref.kind)
      || (typeof this.registry.byGroupKind === 'function' ? this.registry.byGroupKind(group, ref.kind) : undefined);
    if (!res) return undefined;
    const owner = this.store.tryGet(res, res.namespaced ? namespace : '', ref.name);
    if (!owner || owner.metadata.uid !== ref.uid) return null;
    return owner;
  }

  attemptToDelete(res, obj) {
    const f = obj.metadata.finalizers || [];
    if (obj.metadata.deletionTimestamp) {
      if (f.includes(FOREGROUND)) this.queue.add(`owner|${this.ident(res, obj)}`);
      return;
    }
    const refs = obj.metadata.ownerReferences || [];
    if (!refs.length) return;
    const solid = [];
    const dangling = [];
    const waiting = [];
    for (const ref of refs) {
      const owner = this.lookupOwner(ref, obj.metadata.namespace);
      if (owner === undefined) solid.push(ref);
      else if (owner === null) dangling.push(ref);
      else if (owner.metadata.deletionTimestamp && (owner.metadata.finalizers || []).includes(FOREGROUND)) waiting.push(ref);
      else solid.push(ref);
    }
    if (solid.length) {
      if (!dangling.length && !waiting.length) return;
      const drop = new Set([...dangling, ...waiting].map((r) => r.uid));
      obj.metadata.ownerReferences = refs.filter((r) => !drop.has(r.uid));
      this.store.update(res, obj);
      return;
    }
    let policy = 'Background';
    if (waiting.length && this.dependentsOf(obj.metadata.uid).length) policy = 'Foreground';
    else if (f.includes(ORPHAN)) policy = 'Orphan';
    else if (f.includes(FOREGROUND)) policy = 'Foreground';
    try {
      this.store.delete(res, obj.metadata.namespace, obj.metadata.name, {
        propagationPolicy: policy, preconditions: { uid: obj.metadata.uid },
      });
    } catch (e) {
      if (e.code !== 404) throw e;
    }
  }

  processOwner(res, owner) {
    const f = owner.metadata.finalizers || [];
    if (!owner.metadata.deletionTimestamp) return;
    const uid = owner.metadata.uid;
    const deps = [];
    for (const id of this.dependentsOf(uid)) {
      const { res: dres, ns, name } = this.parse(id);
      const d = dres && this.store.tryGet(dres, ns, name);
      const ref = d && (d.metadata.ownerReferences || []).find((r) => r.uid === uid);
      if (ref) deps.push({ res: dres, obj: d, ref, id });
    }
    if (f.includes(ORPHAN)) {
      for (const { res: dres, obj } of deps) {
        obj.metadata.ownerReferences = obj.metadata.ownerReferences.filter((r) => r.uid !== uid);
        if (!obj.metadata.ownerReferences.length) delete obj.metadata.ownerReferences;
        this.store.update(dres, obj);
      }
      this.removeFinalizer(res, owner, ORPHAN);
      return;
    }
    if (!f.includes(FOREGROUND)) return;
    const blocking = deps.filter((d) => d.ref.blockOwnerDeletion === true);
    if (!blocking.length) {
      this.removeFinalizer(res, owner, FOREGROUND);
      return;
    }
    for (const d of deps) if (!d.obj.metadata.deletionTimestamp) this.queue.add(`dep|${d.id}`);
  }

  removeFinalizer(res, obj, finalizer) {
    const fresh = this.store.tryGet(res, obj.metadata.namespace, obj.metadata.name);
    if (!fresh || fresh.metadata.uid !== obj.metadata.uid) return;
    fresh.metadata.finalizers = (fresh.metadata.finalizers || []).filter((x) => x !== finalizer);
    this.store.update(res, fresh);
  }
}

module.exports = { GarbageCollector };
