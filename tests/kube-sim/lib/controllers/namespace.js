'use strict';
// Namespaces: the system namespaces at start, deletion of everything in a
// terminating namespace before it goes (pkg/controller/namespace), and what
// every namespace holds: the ServiceAccount "default" and the ConfigMap
// kube-root-ca.crt (serviceaccount and root-ca-cert-publisher controllers).

const { Controller, splitKey, sameRes } = require('./base');
const { setCondition } = require('./util');

const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];
const ROOT_CA = 'kube-root-ca.crt';
const ROOT_CA_DESCRIPTION = 'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

function ensureSystemNamespaces(ctx) {
  const res = ctx.registry.byPlural('', 'v1', 'namespaces');
  for (const name of SYSTEM_NAMESPACES) {
    if (ctx.store.tryGet(res, '', name)) continue;
    ctx.store.create(res, { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name } } });
  }
}

class NamespaceController extends Controller {
  constructor(ctx) {
    super(ctx, 'namespace');
    this.ns = this.res('namespaces');
  }

  allKeys() {
    return this.store.list(this.ns, null).items.filter((n) => n.metadata.deletionTimestamp).map((n) => n.metadata.name);
  }

  onEvent({ type, res, object }) {
    if (sameRes(res, this.ns)) {
      if (object.metadata.deletionTimestamp && type !== 'DELETED') this.queue.add(object.metadata.name);
      return;
    }
    // Anything leaving a terminating namespace may be the last of it.
    const ns = object.metadata && object.metadata.namespace;
    if (!ns || !res.namespaced) return;
    if (type === 'DELETED' || object.metadata.deletionTimestamp) {
      const n = this.store.tryGet(this.ns, '', ns);
      if (n && n.metadata.deletionTimestamp) this.queue.add(ns);
    }
  }

  contentResources() {
    return this.registry.all().filter((r) => r.namespaced && r.verbs.includes('delete') && r.verbs.includes('list'));
  }

  sync(name) {
    const ns = this.store.tryGet(this.ns, '', name);
    if (!ns || !ns.metadata.deletionTimestamp) return undefined;
    const remaining = new Map(); // resource -> count
    const finalizers = new Map(); // finalizer -> count
    let failure = null;
    for (const res of this.contentResources()) {
      for (const obj of this.store.list(res, name).items) {
        if (!obj.metadata.deletionTimestamp) {
          try {
            this.store.delete(res, name, obj.metadata.name, { propagationPolicy: 'Background' });
          } catch (e) {
            if (e.code !== 404) failure = failure || e;
          }
        }
        if (!this.store.tryGet(res, name, obj.metadata.name)) continue;
        const label = res.group ? `${res.plural}.${res.group}` : res.plural;
        remaining.set(label, (remaining.get(label) || 0) + 1);
        const left = this.store.tryGet(res, name, obj.metadata.name);
        for (const f of left.metadata.finalizers || []) finalizers.set(f, (finalizers.get(f) || 0) + 1);
      }
    }
    if (!remaining.size) {
      this.store.finalizeNamespace(name);
      return undefined;
    }
    // The namespace is held by spec.finalizers ("kubernetes"); a store that
    // only honours metadata.finalizers on update would drop it on this write.
    if (this.storeKeepsTerminatingNamespaces()) {
      this.writeConditions(ns, remaining, finalizers, failure);
    }
    return { requeueAfter: 2000 };
  }

  storeKeepsTerminatingNamespaces() {
    if (this.keepsNamespaces === undefined) {
      const { Store } = require('../store');
      const probe = new Store(this.registry);
      probe.create(this.ns, { metadata: { name: 'probe' } });
      const n = probe.delete(this.ns, '', 'probe');
      n.status = { ...n.status, conditions: [] };
      probe.update(this.ns, n, { subresource: 'status' });
      this.keepsNamespaces = !!probe.tryGet(this.ns, '', 'probe');
    }
    return this.keepsNamespaces;
  }

  // The conditions `kubectl describe namespace` shows while content remains.
  writeConditions(ns, remaining, finalizers, failure) {
    const now = this.nowISO();
    let conds = ns.status && ns.status.conditions;
    const set = (type, status, reason, message) => { conds = setCondition(conds, { type, status, reason, message }, now); };
    set('NamespaceDeletionDiscoveryFailure', 'False', 'ResourcesDiscovered', 'All resources successfully discovered');
    set('NamespaceDeletionGroupVersionParsingFailure', 'False', 'ParsedGroupVersions', 'All legacy kube types successfully parsed');
    if (failure) set('NamespaceDeletionContentFailure', 'True', 'ContentDeletionFailed', `Failed to delete all resource types, 1 remaining: ${failure.message}`);
    else set('NamespaceDeletionContentFailure', 'False', 'ContentDeleted', 'All content successfully deleted, may be waiting on finalization');
    const content = [...remaining].sort().map(([r, n]) => `${r} has ${n} resource instances`).join(', ');
    set('NamespaceContentRemaining', 'True', 'SomeResourcesRemain', `Some resources are remaining: ${content}`);
    if (finalizers.size) {
      const fin = [...finalizers].sort().map(([f, n]) => `${f} in ${n} resource instances`).join(', ');
      set('NamespaceFinalizersRemaining', 'True', 'SomeFinalizersRemain', `Some content in the namespace has finalizers remaining: ${fin}`);
    } else {
      set('NamespaceFinalizersRemaining', 'False', 'ContentHasNoFinalizers', 'All content-preserving finalizers finished');
    }
    ns.status = { ...(ns.status || {}), phase: 'Terminating', conditions: conds };
    this.store.update(this.ns, ns, { subresource: 'status' });
  }
}

// Keys are namespace names; each sync makes sure the namespace's default
// ServiceAccount and root CA ConfigMap exist (and the CA is current).
class ServiceAccountController extends Controller {
  constructor(ctx) {
    super(ctx, 'serviceaccount');
    this.ns = this.res('namespaces');
    this.sa = this.res('serviceaccounts');
    this.cm = this.res('configmaps');
  }

  allKeys() { return this.store.list(this.ns, null).items.map((n) => n.metadata.name); }

  onEvent({ type, res, object }) {
    if (sameRes(res, this.ns) && type !== 'DELETED') this.queue.add(object.metadata.name);
    else if (sameRes(res, this.sa) && object.metadata.name === 'default') this.queue.add(object.metadata.namespace);
    else if (sameRes(res, this.cm) && object.metadata.name === ROOT_CA) this.queue.add(object.metadata.namespace);
  }

  sync(key) {
    const [, name] = splitKey(key);
    const ns = this.store.tryGet(this.ns, '', name);
    if (!ns || ns.metadata.deletionTimestamp) return;
    if (!this.store.tryGet(this.sa, name, 'default')) {
      this.createIgnoringExists(this.sa, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: name } });
    }
    if (this.ctx.caPem === undefined) return;
    const data = { 'ca.crt': this.ctx.caPem };
    const cm = this.store.tryGet(this.cm, name, ROOT_CA);
    if (!cm) {
      this.createIgnoringExists(this.cm, {
        apiVersion: 'v1', kind: 'ConfigMap',
        metadata: { name: ROOT_CA, namespace: name, annotations: { 'kubernetes.io/description': ROOT_CA_DESCRIPTION } },
        data,
      });
    } else if (JSON.stringify(cm.data || {}) !== JSON.stringify(data) && !cm.metadata.deletionTimestamp) {
      cm.data = data;
      this.store.update(this.cm, cm);
    }
  }

  createIgnoringExists(res, obj) {
    try {
      this.store.create(res, obj);
    } catch (e) {
      if (e.code === 409 || e.code === 403) return; // raced, or the namespace began terminating
      throw e;
    }
  }
}

module.exports = { NamespaceController, ServiceAccountController, ensureSystemNamespaces, SYSTEM_NAMESPACES };
