'use strict';
// The StatefulSet controller, after pkg/controller/statefulset
// (stateful_set_control.go): stable pod names and claims, OrderedReady and
// Parallel pod management, ControllerRevisions, RollingUpdate with partition
// (one pod at a time, highest ordinal first) and OnDelete, claim retention.

const { Controller, splitKey, sameRes } = require('./base');
const { labelSelectorFromObject } = require('../selectors');
const u = require('./util');
const s = require('./statefulset-util');

const COMPONENT = 'statefulset-controller';

class StatefulSetController extends Controller {
  constructor(ctx) {
    super(ctx, 'statefulset');
    this.sts = this.res('statefulsets', 'apps');
    this.pods = this.res('pods');
    this.revs = this.res('controllerrevisions', 'apps');
    this.pvcs = this.res('persistentvolumeclaims');
    this.events = ctx.recorder.for(COMPONENT);
  }

  allKeys() { return this.store.list(this.sts, null).items.map((o) => `${o.metadata.namespace}/${o.metadata.name}`); }

  onEvent({ res, object, old }) {
    const ns = object.metadata.namespace;
    if (sameRes(res, this.sts)) { this.queue.add(`${ns}/${object.metadata.name}`); return; }
    if (sameRes(res, this.pods) || sameRes(res, this.revs)) {
      for (const o of [object, old]) {
        if (!o) continue;
        const ref = u.controllerRef(o);
        if (ref && ref.kind === 'StatefulSet') this.queue.add(`${ns}/${ref.name}`);
        else if (!ref && sameRes(res, this.pods)) this.enqueueMatching(ns, o.metadata.labels);
      }
      return;
    }
    if (sameRes(res, this.pvcs)) this.enqueueMatching(ns, null);
  }

  enqueueMatching(ns, labels) {
    for (const set of this.store.list(this.sts, ns).items) {
      if (labels === null || labelSelectorFromObject(set.spec.selector)(labels)) this.queue.add(`${ns}/${set.metadata.name}`);
    }
  }

  sync(key) {
    const [ns, name] = splitKey(key);
    const set = this.store.tryGet(this.sts, ns, name);
    if (!set) return undefined;
    const pods = this.claimPods(set);
    const revisions = this.store.list(this.revs, ns).items
      .filter((r) => u.isControlledBy(r, set))
      .sort((a, b) => a.revision - b.revision);
    if (set.metadata.deletionTimestamp) {
      // Only status while the set is being deleted: no pods and no revisions are made.
      const st = set.status || {};
      const byName = (n) => revisions.find((r) => r.metadata.name === n);
      const current = byName(st.currentRevision) || revisions[revisions.length - 1];
      const update = byName(st.updateRevision) || current;
      if (current) this.writeStatus(set, current, update, st.collisionCount || 0);
      return undefined;
    }
    const { current, update, collisionCount } = this.getRevisions(set, revisions);
    const result = { wait: null };
    try {
      this.updateSet(set, current, update, pods, result);
    } finally {
      this.writeStatus(set, current, update, collisionCount);
    }
    this.truncateHistory(set, current, update);
    return result.wait !== null ? { requeueAfter: result.wait } : undefined;
  }

  // Pods the set controls, adopting orphans that match its selector and name.
  claimPods(set) {
    const ns = set.metadata.namespace;
    const selector = labelSelectorFromObject(set.spec.selector);
    const out = [];
    for (const pod of this.store.list(this.pods, ns).items) {
      if (u.isControlledBy(pod, set)) { out.push(pod); continue; }
      if (u.controllerRef(pod) || set.metadata.deletionTimestamp || pod.metadata.deletionTimestamp) continue;
      if (!selector(pod.metadata.labels) || s.ordinalOf(set, pod) < 0) continue;
      pod.metadata.ownerReferences = [...(pod.metadata.ownerReferences || []), u.newControllerRef(set)];
      out.push(this.store.update(this.pods, pod));
    }
    return out;
  }

  // getStatefulSetRevisions: the update revision is the set's current
  // template; an equal older revision is reused with a new number (rollback).
  getRevisions(set, revisions) {
    let collisionCount = (set.status && set.status.collisionCount) || 0;
    const next = revisions.length ? revisions[revisions.length - 1].revision + 1 : 1;
    let update = s.newRevision(set, next, collisionCount);
    const equal = revisions.filter((r) => s.sameRevisionData(r, update));
    if (equal.length && equal[equal.length - 1] === revisions[revisions.length - 1]) {
      update = equal[equal.length - 1];
    } else if (equal.length) {
      const r = equal[equal.length - 1];
      r.revision = next;
      update = this.store.update(this.revs, r);
    } else {
      for (;;) {
        try {
          update = this.store.create(this.revs, update);
          break;
        } catch (e) {
          if (e.code !== 409) throw e;
          const existing = this.store.tryGet(this.revs, set.metadata.namespace, update.metadata.name);
          if (existing && u.isControlledBy(existing, set) && s.sameRevisionData(existing, update)) { update = existing; break; }
          collisionCount += 1;
          update = s.newRevision(set, next, collisionCount);
        }
      }
    }
    const currentName = set.status && set.status.currentRevision;
    const current = revisions.find((r) => r.metadata.name === currentName && r.metadata.name !== update.metadata.name) || update;
    return { current, update, collisionCount };
  }

  updateSet(set, currentRev, updateRev, pods, result) {
    const currentSet = s.applyRevision(set, currentRev);
    const updateSet = s.applyRevision(set, updateRev);
    const start = s.startOrdinal(set);
    const count = s.replicaCount(set);
    const minReady = set.spec.minReadySeconds || 0;
    const now = this.now();
    const replicas = new Array(count).fill(null);
    const condemned = [];
    for (const pod of pods) {
      const o = s.ordinalOf(set, pod);
      if (o < 0) continue;
      if (o >= start && o < start + count) replicas[o - start] = pod;
      else condemned.push(pod);
    }
    condemned.sort((a, b) => s.ordinalOf(set, b) - s.ordinalOf(set, a));
    const strat = s.strategy(set);
    const slots = replicas.map((pod, i) => pod || { planned: this.plannedPod(currentSet, updateSet, currentRev, updateRev, start + i, strat) });
    const unavailable = (p) => !p || p.planned || u.isTerminating(p) || !u.isRunningAndReady(p) || !u.isPodAvailable(p, minReady, now);
    const noteWait = (p) => {
      const left = p && !p.planned ? u.msUntilAvailable(p, minReady, now) : null;
      if (left !== null) result.wait = result.wait === null ? left : Math.min(result.wait, left);
    };
    let firstUnavailable = slots.find((p) => unavailable(p)) || null;
    if (!firstUnavailable) firstUnavailable = [...condemned].reverse().find((p) => unavailable(p)) || null;
    const monotonic = set.spec.podManagementPolicy !== 'Parallel';

    const processReplica = (i) => {
      const slot = slots[i];
      if (slot.planned) {
        const ordinal = start + i;
        if (this.claimsStale(set, ordinal)) return true;
        this.createPod(set, slot.planned, ordinal);
        return monotonic;
      }
      const pod = slot;
      if (['Failed', 'Succeeded'].includes(u.podPhase(pod))) {
        if (!u.isTerminating(pod)) this.deletePod(set, pod);
        return true;
      }
      if (u.podPhase(pod) === 'Pending') this.ensureClaims(set, s.ordinalOf(set, pod), pod);
      if (u.isTerminating(pod) && monotonic) return true;
      if (!u.isRunningAndReady(pod) && monotonic) return true;
      if (!u.isPodAvailable(pod, minReady, now) && monotonic) { noteWait(pod); return true; }
      noteWait(pod);
      this.fixClaimOwners(updateSet, pod);
      if (!s.identityMatches(set, pod)) this.fixIdentity(set, pod);
      return false;
    };
    if (this.runForAll(slots.length, processReplica, monotonic)) return;
    if (this.runForAll(condemned.length, (i) => { this.fixClaimOwners(updateSet, condemned[i]); return false; }, monotonic)) return;

    const processCondemned = (i) => {
      const pod = condemned[i];
      if (u.isTerminating(pod)) return monotonic;
      if (monotonic && pod !== firstUnavailable && (!u.isRunningAndReady(pod) || !u.isPodAvailable(pod, minReady, now))) return true;
      this.deletePod(set, pod);
      return true;
    };
    if (this.runForAll(condemned.length, processCondemned, monotonic)) return;

    if (strat.type === 'OnDelete') return;
    // Terminate the highest-ordinal pod that is not at the update revision;
    // wait for each replacement to be available before the next.
    for (let target = slots.length - 1; target >= strat.partition; target--) {
      const pod = slots[target];
      if (!pod.planned && pod.metadata.labels[s.REVISION_LABEL] !== updateRev.metadata.name && !u.isTerminating(pod)) {
        this.deletePod(set, pod);
        return;
      }
      if (unavailable(pod)) { noteWait(pod); return; }
    }
  }

  // newVersionedStatefulSetPod: ordinals below the partition stay at the
  // current revision, the others are made at the update revision.
  plannedPod(currentSet, updateSet, currentRev, updateRev, ordinal, strat) {
    const start = s.startOrdinal(currentSet);
    if (strat.type === 'RollingUpdate' && ordinal < start + strat.partition) {
      return s.newPod(currentSet, currentRev.metadata.name, ordinal, this.ctx.nodeName, this.nowISO());
    }
    return s.newPod(updateSet, updateRev.metadata.name, ordinal, this.ctx.nodeName, this.nowISO());
  }

  // Monotonic: one at a time, stop at the first that says so. Parallel: all,
  // then the first error.
  runForAll(n, fn, monotonic) {
    if (monotonic) {
      for (let i = 0; i < n; i++) if (fn(i)) return true;
      return false;
    }
    let error = null;
    for (let i = 0; i < n; i++) {
      try { fn(i); } catch (e) { error = error || e; }
    }
    if (error) throw error;
    return false;
  }

  // A claim still being deleted, or still owned by a previous pod of the same
  // name, must be gone before the pod is made again.
  claimsStale(set, ordinal) {
    for (const { claim } of s.claimsFor(set, ordinal)) {
      const c = this.store.tryGet(this.pvcs, set.metadata.namespace, claim.metadata.name);
      if (!c) continue;
      if (c.metadata.deletionTimestamp) return true;
      if ((c.metadata.ownerReferences || []).some((r) => r.kind === 'Pod' && r.name === s.podName(set, ordinal))) return true;
    }
    return false;
  }

  ensureClaims(set, ordinal, pod) {
    const podName = s.podName(set, ordinal);
    for (const { claim } of s.claimsFor(set, ordinal)) {
      if (this.store.tryGet(this.pvcs, set.metadata.namespace, claim.metadata.name)) continue;
      claim.metadata.ownerReferences = s.desiredClaimRefs(claim, set, pod);
      if (!claim.metadata.ownerReferences.length) delete claim.metadata.ownerReferences;
      try {
        this.store.create(this.pvcs, claim);
        this.events.normal(set, 'SuccessfulCreate', `create Claim ${claim.metadata.name} Pod ${podName} in StatefulSet ${set.metadata.name} success`);
      } catch (e) {
        if (e.code === 409) continue;
        this.events.warning(set, 'FailedCreate', `create Claim ${claim.metadata.name} for Pod ${podName} in StatefulSet ${set.metadata.name} failed error: ${e.message}`);
        throw e;
      }
    }
  }

  createPod(set, pod, ordinal) {
    this.ensureClaims(set, ordinal, null);
    try {
      this.store.create(this.pods, pod);
      this.events.normal(set, 'SuccessfulCreate', `create Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} successful`);
    } catch (e) {
      if (e.code === 409 && e.reason === 'AlreadyExists') return;
      this.events.warning(set, 'FailedCreate', `create Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} failed error: ${e.message}`);
      throw e;
    }
  }

  deletePod(set, pod) {
    try {
      this.store.delete(this.pods, pod.metadata.namespace, pod.metadata.name, { preconditions: { uid: pod.metadata.uid } });
      this.events.normal(set, 'SuccessfulDelete', `delete Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} successful`);
    } catch (e) {
      if (e.code === 404) return;
      this.events.warning(set, 'FailedDelete', `delete Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} failed error: ${e.message}`);
      throw e;
    }
  }

  fixClaimOwners(set, pod) {
    const ordinal = s.ordinalOf(set, pod);
    for (const { claim: want } of s.claimsFor(set, ordinal)) {
      const claim = this.store.tryGet(this.pvcs, set.metadata.namespace, want.metadata.name);
      if (!claim || claim.metadata.deletionTimestamp) continue;
      const refs = s.desiredClaimRefs(claim, set, pod);
      if (u.deepEqual(refs, claim.metadata.ownerReferences || [])) continue;
      claim.metadata.ownerReferences = refs;
      if (!refs.length) delete claim.metadata.ownerReferences;
      this.store.update(this.pvcs, claim);
    }
  }

  fixIdentity(set, pod) {
    pod.metadata.labels = { ...(pod.metadata.labels || {}) };
    pod.metadata.labels[s.POD_NAME_LABEL] = pod.metadata.name;
    pod.metadata.labels[s.POD_INDEX_LABEL] = String(s.ordinalOf(set, pod));
    this.store.update(this.pods, pod);
  }

  // Status from the pods as they are after this sync's writes.
  writeStatus(set, currentRev, updateRev, collisionCount) {
    const fresh = this.store.tryGet(this.sts, set.metadata.namespace, set.metadata.name);
    if (!fresh || fresh.metadata.uid !== set.metadata.uid) return;
    const minReady = set.spec.minReadySeconds || 0;
    const now = this.now();
    const st = {
      observedGeneration: set.metadata.generation,
      replicas: 0, readyReplicas: 0, currentReplicas: 0, updatedReplicas: 0, availableReplicas: 0,
      currentRevision: currentRev.metadata.name,
      updateRevision: updateRev.metadata.name,
      collisionCount,
    };
    for (const pod of this.store.list(this.pods, set.metadata.namespace).items) {
      if (!u.isControlledBy(pod, set) || s.ordinalOf(set, pod) < 0) continue;
      st.replicas++;
      if (u.isRunningAndReady(pod)) {
        st.readyReplicas++;
        if (u.isPodAvailable(pod, minReady, now)) st.availableReplicas++;
      }
      if (!u.isTerminating(pod)) {
        const rev = pod.metadata.labels[s.REVISION_LABEL];
        if (rev === st.currentRevision) st.currentReplicas++;
        if (rev === st.updateRevision) st.updatedReplicas++;
      }
    }
    const want = s.replicaCount(set);
    if (s.strategy(set).type === 'RollingUpdate' && st.updatedReplicas === want && st.readyReplicas === want && st.replicas === want) {
      st.currentReplicas = st.updatedReplicas;
      st.currentRevision = st.updateRevision;
    }
    if (fresh.status && fresh.status.conditions) st.conditions = fresh.status.conditions;
    fresh.status = st;
    this.store.update(this.sts, fresh, { subresource: 'status' });
  }

  truncateHistory(set, currentRev, updateRev) {
    const ns = set.metadata.namespace;
    const limit = set.spec.revisionHistoryLimit ?? 10;
    const live = new Set([currentRev.metadata.name, updateRev.metadata.name]);
    for (const pod of this.store.list(this.pods, ns).items) {
      if (u.isControlledBy(pod, set)) live.add(pod.metadata.labels[s.REVISION_LABEL]);
    }
    const history = this.store.list(this.revs, ns).items
      .filter((r) => u.isControlledBy(r, set) && !live.has(r.metadata.name))
      .sort((a, b) => a.revision - b.revision);
    for (const r of history.slice(0, Math.max(0, history.length - limit))) {
      try { this.store.delete(this.revs, ns, r.metadata.name); } catch (e) { if (e.code !== 404) throw e; }
    }
  }
}

module.exports = { StatefulSetController };
