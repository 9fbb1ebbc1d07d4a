'use strict';
// PodDisruptionBudget status (pkg/controller/disruption): expectedPods,
// currentHealthy, desiredHealthy from minAvailable or maxUnavailable
// (integers or percentages of the controllers' scale), disruptionsAllowed
// and the DisruptionAllowed condition.

const { Controller, splitKey, sameRes } = require('./base');
const { labelSelectorFromObject } = require('../selectors');
const u = require('./util');

class DisruptionController extends Controller {
  constructor(ctx) {
    super(ctx, 'disruption');
    this.pdb = this.res('poddisruptionbudgets', 'policy');
    this.pods = this.res('pods');
    this.scalable = ['replicasets', 'statefulsets', 'deployments'].map((p) => this.res(p, 'apps'));
  }

  allKeys() { return this.store.list(this.pdb, null).items.map((o) => `${o.metadata.namespace}/${o.metadata.name}`); }

  onEvent({ res, object, old }) {
    const ns = object.metadata.namespace;
    if (sameRes(res, this.pdb)) { this.queue.add(`${ns}/${object.metadata.name}`); return; }
    const isPod = sameRes(res, this.pods);
    const scaled = this.scalable.some((r) => sameRes(res, r)) || (res.subresources || []).includes('scale');
    if (!isPod && !scaled) return;
    if (!ns) return;
    for (const pdb of this.store.list(this.pdb, ns).items) {
      const sel = labelSelectorFromObject(pdb.spec.selector || {});
      if (!isPod || sel(object.metadata.labels) || (old && sel(old.metadata.labels))) this.queue.add(`${ns}/${pdb.metadata.name}`);
    }
  }

  // The scale of the controller of a pod (a Deployment for its ReplicaSets).
  controllerScale(ns, ref) {
    const apiVersion = ref.apiVersion || '';
    const res = this.registry.byKind(apiVersion, ref.kind);
    if (!res) return null;
    let owner = this.store.tryGet(res, ns, ref.name);
    if (!owner || owner.metadata.uid !== ref.uid) return null;
    if (ref.kind === 'ReplicaSet') {
      const up = u.controllerRef(owner);
      if (up && up.kind === 'Deployment') {
        const d = this.store.tryGet(this.scalable[2], ns, up.name);
        if (d && d.metadata.uid === up.uid) owner = d;
      }
    }
    const replicas = owner.spec && owner.spec.replicas;
    return { uid: owner.metadata.uid, replicas: typeof replicas === 'number' ? replicas : 1 };
  }

  expectedScale(ns, pods) {
    const seen = new Map();
    for (const p of pods) {
      const ref = u.controllerRef(p);
      if (!ref) continue;
      const sc = this.controllerScale(ns, ref);
      if (sc) seen.set(sc.uid, sc.replicas);
    }
    return [...seen.values()].reduce((a, b) => a + b, 0);
  }

  sync(key) {
    const [ns, name] = splitKey(key);
    const pdb = this.store.tryGet(this.pdb, ns, name);
    if (!pdb) return;
    const sel = labelSelectorFromObject(pdb.spec.selector || {});
    const pods = this.store.list(this.pods, ns).items.filter((p) => sel(p.metadata.labels));
    let expected = 0;
    let desired = 0;
    if (pdb.spec.maxUnavailable !== undefined && pdb.spec.maxUnavailable !== null) {
      expected = this.expectedScale(ns, pods);
      desired = Math.max(0, expected - u.scaledValue(pdb.spec.maxUnavailable, expected, true));
    } else if (pdb.spec.minAvailable !== undefined && pdb.spec.minAvailable !== null) {
      if (typeof pdb.spec.minAvailable === 'number' || /^\d+$/.test(String(pdb.spec.minAvailable))) {
        desired = Number(pdb.spec.minAvailable);
        expected = pods.length;
      } else {
        expected = this.expectedScale(ns, pods);
        desired = u.scaledValue(pdb.spec.minAvailable, expected, true);
      }
    }
    const healthy = pods.filter((p) => !p.metadata.deletionTimestamp && u.isPodReady(p)).length;
    let allowed = healthy - desired;
    if (expected <= 0 || allowed <= 0) allowed = 0;
    const prev = pdb.status || {};
    const now = this.nowISO();
    const cond = allowed > 0
      ? { type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods', message: '', observedGeneration: pdb.metadata.generation }
      : { type: 'DisruptionAllowed', status: 'False', reason: 'InsufficientPods', message: '', observedGeneration: pdb.metadata.generation };
    const status = {
      observedGeneration: pdb.metadata.generation,
      disruptionsAllowed: allowed,
      currentHealthy: healthy,
      desiredHealthy: desired,
      expectedPods: expected,
      conditions: u.setCondition(prev.conditions, cond, now),
    };
    if (prev.disruptedPods && Object.keys(prev.disruptedPods).length) status.disruptedPods = prev.disruptedPods;
    pdb.status = status;
    this.store.update(this.pdb, pdb, { subresource: 'status' });
  }
}

module.exports = { DisruptionController };
