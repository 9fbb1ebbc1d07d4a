'use strict';
// The ReplicaSet controller (pkg/controller/replicaset): keeps spec.replicas
// active pods named <rs>-<5 random>, adopting matching orphans, deleting the
// least useful pods first, and reports replicas/ready/available in status.

const { Controller, splitKey, sameRes } = require('./base');
const { labelSelectorFromObject } = require('../selectors');
const u = require('./util');

const COMPONENT = 'replicaset-controller';

// Lower ranks are deleted first (controller.ActivePods ordering, simplified):
// unscheduled, pending, not ready, ready for less time, then newer pods.
function deletionRank(pod) {
  if (!pod.spec.nodeName) return 0;
  if (u.podPhase(pod) === 'Pending') return 1;
  if (!u.isPodReady(pod)) return 2;
  return 3;
}

class ReplicaSetController extends Controller {
  constructor(ctx) {
    super(ctx, 'replicaset');
    this.rs = this.res('replicasets', 'apps');
    this.pods = this.res('pods');
    this.events = ctx.recorder.for(COMPONENT);
  }

  allKeys() { return this.store.list(this.rs, null).items.map((o) => `${o.metadata.namespace}/${o.metadata.name}`); }

  onEvent({ res, object, old }) {
    const ns = object.metadata.namespace;
    if (sameRes(res, this.rs)) { this.queue.add(`${ns}/${object.metadata.name}`); return; }
    if (!sameRes(res, this.pods)) return;
    for (const o of [object, old]) {
      if (!o) continue;
      const ref = u.controllerRef(o);
      if (ref && ref.kind === 'ReplicaSet') this.queue.add(`${ns}/${ref.name}`);
      else if (!ref && !o.metadata.deletionTimestamp) {
        for (const rs of this.store.list(this.rs, ns).items) {
          if (labelSelectorFromObject(rs.spec.selector)(o.metadata.labels)) this.queue.add(`${ns}/${rs.metadata.name}`);
        }
      }
    }
  }

  sync(key) {
    const [ns, name] = splitKey(key);
    const rs = this.store.tryGet(this.rs, ns, name);
    if (!rs) return undefined;
    const pods = this.claimPods(rs);
    const active = pods.filter(u.isActive);
    if (!rs.metadata.deletionTimestamp) this.manageReplicas(rs, active);
    return this.writeStatus(rs);
  }

  claimPods(rs) {
    const selector = labelSelectorFromObject(rs.spec.selector);
    const out = [];
    for (const pod of this.store.list(this.pods, rs.metadata.namespace).items) {
      if (u.isControlledBy(pod, rs)) { out.push(pod); continue; }
      if (u.controllerRef(pod) || rs.metadata.deletionTimestamp || pod.metadata.deletionTimestamp) continue;
      if (!selector(pod.metadata.labels)) continue;
      pod.metadata.ownerReferences = [...(pod.metadata.ownerReferences || []), u.newControllerRef(rs)];
      out.push(this.store.update(this.pods, pod));
    }
    return out;
  }

  manageReplicas(rs, active) {
    const want = rs.spec.replicas ?? 1;
    const diff = active.length - want;
    if (diff < 0) {
      for (let i = 0; i < -diff; i++) {
        const pod = u.podFromTemplate(rs.spec.template, rs, this.ctx.nodeName, this.nowISO());
        pod.metadata.generateName = `${rs.metadata.name}-`;
        let created;
        try {
          created = this.store.create(this.pods, pod);
        } catch (e) {
          this.events.warning(rs, 'FailedCreate', `Error creating: ${e.message}`);
          throw e;
        }
        this.events.normal(rs, 'SuccessfulCreate', `Created pod: ${created.metadata.name}`);
      }
    } else if (diff > 0) {
      const victims = [...active].sort((a, b) => deletionRank(a) - deletionRank(b)
        || (b.metadata.creationTimestamp || '').localeCompare(a.metadata.creationTimestamp || '')
        || b.metadata.name.localeCompare(a.metadata.name)).slice(0, diff);
      for (const pod of victims) {
        try {
          this.store.delete(this.pods, pod.metadata.namespace, pod.metadata.name, { preconditions: { uid: pod.metadata.uid } });
          this.events.normal(rs, 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
        } catch (e) {
          if (e.code !== 404) throw e;
        }
      }
    }
  }

  writeStatus(rs) {
    const fresh = this.store.tryGet(this.rs, rs.metadata.namespace, rs.metadata.name);
    if (!fresh || fresh.metadata.uid !== rs.metadata.uid) return undefined;
    const minReady = rs.spec.minReadySeconds || 0;
    const now = this.now();
    const templateLabels = (rs.spec.template && rs.spec.template.metadata && rs.spec.template.metadata.labels) || {};
    const st = { replicas: 0, fullyLabeledReplicas: 0, readyReplicas: 0, availableReplicas: 0, observedGeneration: rs.metadata.generation };
    let wait = null;
    for (const pod of this.store.list(this.pods, rs.metadata.namespace).items) {
      if (!u.isControlledBy(pod, rs) || !u.isActive(pod)) continue;
      st.replicas++;
      if (u.labelsMatch(templateLabels, pod.metadata.labels)) st.fullyLabeledReplicas++;
      if (u.isPodReady(pod)) st.readyReplicas++;
      if (u.isPodAvailable(pod, minReady, now)) st.availableReplicas++;
      const left = u.msUntilAvailable(pod, minReady, now);
      if (left !== null) wait = wait === null ? left : Math.min(wait, left);
    }
    if (fresh.status && fresh.status.conditions) st.conditions = fresh.status.conditions;
    fresh.status = st;
    this.store.update(this.rs, fresh, { subresource: 'status' });
    return wait !== null ? { requeueAfter: wait } : undefined;
  }
}

module.exports = { ReplicaSetController };
