'use strict';
// The Deployment controller (pkg/controller/deployment: sync.go, rolling.go,
// recreate.go, progress.go): one ReplicaSet per pod template
// (<deploy>-<pod-template-hash>), revisions, RollingUpdate within
// maxSurge/maxUnavailable, Recreate, and the status and conditions that
// `kubectl rollout status` reads.

const { Controller, splitKey, sameRes } = require('./base');
const u = require('./util');

const COMPONENT = 'deployment-controller';
const HASH = 'pod-template-hash';
const REVISION = 'deployment.kubernetes.io/revision';
const DESIRED = 'deployment.kubernetes.io/desired-replicas';
const MAX = 'deployment.kubernetes.io/max-replicas';

const revisionOf = (rs) => Number((rs.metadata.annotations || {})[REVISION] || 0);
const specReplicas = (rs) => rs.spec.replicas ?? 0;
const sum = (list, f) => list.reduce((n, x) => n + f(x), 0);

function templateWithoutHash(t) {
  const c = structuredClone(t || {});
  if (c.metadata && c.metadata.labels) delete c.metadata.labels[HASH];
  return c;
}

class DeploymentController extends Controller {
  constructor(ctx) {
    super(ctx, 'deployment');
    this.deploy = this.res('deployments', 'apps');
    this.rs = this.res('replicasets', 'apps');
    this.pods = this.res('pods');
    this.events = ctx.recorder.for(COMPONENT);
  }

  allKeys() { return this.store.list(this.deploy, null).items.map((o) => `${o.metadata.namespace}/${o.metadata.name}`); }

  onEvent({ type, res, object, old }) {
    const ns = object.metadata.namespace;
    if (sameRes(res, this.deploy)) { this.queue.add(`${ns}/${object.metadata.name}`); return; }
    if (sameRes(res, this.rs)) {
      for (const o of [object, old]) {
        const ref = o && u.controllerRef(o);
        if (ref && ref.kind === 'Deployment') this.queue.add(`${ns}/${ref.name}`);
      }
    } else if (sameRes(res, this.pods) && type === 'DELETED') {
      // Recreate waits for the last old pod to be gone.
      const ref = u.controllerRef(object);
      const rs = ref && ref.kind === 'ReplicaSet' && this.store.tryGet(this.rs, ns, ref.name);
      const dref = rs && u.controllerRef(rs);
      if (dref && dref.kind === 'Deployment') this.queue.add(`${ns}/${dref.name}`);
    }
  }

  sync(key) {
    const [ns, name] = splitKey(key);
    const d = this.store.tryGet(this.deploy, ns, name);
    if (!d) return undefined;
    const rsList = this.store.list(this.rs, ns).items.filter((r) => u.isControlledBy(r, d));
    if (d.metadata.deletionTimestamp) return this.syncStatus(d, rsList);
    const type = (d.spec.strategy && d.spec.strategy.type) || 'RollingUpdate';
    if (d.spec.paused) {
      const { newRS, oldRSs } = this.getReplicaSets(d, rsList, false);
      if (newRS && !oldRSs.some((r) => specReplicas(r) > 0)) this.scale(d, newRS, d.spec.replicas ?? 1);
      return this.syncStatus(d, this.list(d));
    }
    if (type === 'Recreate') this.recreate(d, rsList);
    else this.rolling(d, rsList);
    this.cleanup(d);
    return this.syncStatus(d, this.list(d));
  }

  list(d) { return this.store.list(this.rs, d.metadata.namespace).items.filter((r) => u.isControlledBy(r, d)); }

  // The new ReplicaSet is the one whose template equals the deployment's,
  // ignoring the hash label; made on demand with the next revision number.
  getReplicaSets(d, rsList, create) {
    const want = u.canonical(templateWithoutHash(d.spec.template));
    const sorted = [...rsList].sort((a, b) => (a.metadata.creationTimestamp || '').localeCompare(b.metadata.creationTimestamp || ''));
    let newRS = sorted.find((r) => u.canonical(templateWithoutHash(r.spec.template)) === want) || null;
    const oldRSs = sorted.filter((r) => r !== newRS);
    const maxOld = Math.max(0, ...oldRSs.map(revisionOf));
    if (newRS && revisionOf(newRS) <= maxOld) {
      newRS.metadata.annotations = { ...(newRS.metadata.annotations || {}), [REVISION]: String(maxOld + 1) };
      newRS = this.store.update(this.rs, newRS);
    }
    if (!newRS && create) newRS = this.createRS(d, maxOld + 1, oldRSs);
    if (newRS) this.setDeploymentRevision(d, revisionOf(newRS));
    return { newRS, oldRSs };
  }

  createRS(d, revision, oldRSs) {
    let collisionCount = (d.status && d.status.collisionCount) || 0;
    const replicas = d.spec.replicas ?? 1;
    for (;;) {
      const hash = u.computeHash(d.spec.template, collisionCount);
      const tmpl = structuredClone(d.spec.template);
      tmpl.metadata = tmpl.metadata || {};
      tmpl.metadata.labels = { ...(tmpl.metadata.labels || {}), [HASH]: hash };
      const selector = structuredClone(d.spec.selector || {});
      selector.matchLabels = { ...(selector.matchLabels || {}), [HASH]: hash };
      const type = (d.spec.strategy && d.spec.strategy.type) || 'RollingUpdate';
      const size = type === 'Recreate' ? 0 : this.newRSReplicas(d, oldRSs, null);
      const rs = {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name: `${d.metadata.name}-${hash}`,
          namespace: d.metadata.namespace,
          labels: { ...tmpl.metadata.labels },
          annotations: { [DESIRED]: String(replicas), [MAX]: String(replicas + this.maxSurge(d)), [REVISION]: String(revision) },
          ownerReferences: [u.newControllerRef(d)],
        },
        spec: { replicas: size, minReadySeconds: d.spec.minReadySeconds || 0, selector, template: tmpl },
      };
      try {
        const created = this.store.create(this.rs, rs);
        if (size > 0) this.events.normal(d, 'ScalingReplicaSet', `Scaled up replica set ${created.metadata.name} from 0 to ${size}`);
        this.setProgressing(d, 'True', 'NewReplicaSetCreated', `Created new replica set "${created.metadata.name}"`);
        return created;
      } catch (e) {
        if (e.code !== 409) throw e;
        const existing = this.store.tryGet(this.rs, d.metadata.namespace, rs.metadata.name);
        if (existing && u.isControlledBy(existing, d) && u.deepEqual(templateWithoutHash(existing.spec.template), templateWithoutHash(d.spec.template))) return existing;
        collisionCount += 1;
        const fresh = this.store.get(this.deploy, d.metadata.namespace, d.metadata.name);
        fresh.status = { ...(fresh.status || {}), collisionCount };
        this.store.update(this.deploy, fresh, { subresource: 'status' });
      }
    }
  }

  setDeploymentRevision(d, revision) {
    const fresh = this.store.get(this.deploy, d.metadata.namespace, d.metadata.name);
    if ((fresh.metadata.annotations || {})[REVISION] === String(revision)) return;
    fresh.metadata.annotations = { ...(fresh.metadata.annotations || {}), [REVISION]: String(revision) };
    this.store.update(this.deploy, fresh);
  }

  maxSurge(d) {
    const r = d.spec.strategy && d.spec.strategy.rollingUpdate;
    if ((d.spec.strategy && d.spec.strategy.type) === 'Recreate') return 0;
    return u.scaledValue(r && r.maxSurge !== undefined ? r.maxSurge : '25%', d.spec.replicas ?? 1, true);
  }

  maxUnavailable(d) {
    const r = d.spec.strategy && d.spec.strategy.rollingUpdate;
    if ((d.spec.strategy && d.spec.strategy.type) === 'Recreate') return 0;
    const replicas = d.spec.replicas ?? 1;
    let mu = u.scaledValue(r && r.maxUnavailable !== undefined ? r.maxUnavailable : '25%', replicas, false);
    if (mu === 0 && this.maxSurge(d) === 0) mu = 1;
    return Math.min(mu, replicas);
  }

  // deploymentutil.NewRSNewReplicas for RollingUpdate.
  newRSReplicas(d, oldRSs, newRS) {
    const replicas = d.spec.replicas ?? 1;
    const current = sum(oldRSs, specReplicas) + (newRS ? specReplicas(newRS) : 0);
    const maxTotal = replicas + this.maxSurge(d);
    if (current >= maxTotal) return newRS ? specReplicas(newRS) : 0;
    const up = Math.min(maxTotal - current, replicas - (newRS ? specReplicas(newRS) : 0));
    return (newRS ? specReplicas(newRS) : 0) + Math.max(0, up);
  }

  scale(d, rs, size) {
    const from = specReplicas(rs);
    const replicas = d.spec.replicas ?? 1;
    const ann = rs.metadata.annotations || {};
    if (from === size && ann[DESIRED] === String(replicas) && ann[MAX] === String(replicas + this.maxSurge(d))) return rs;
    rs.spec.replicas = size;
    rs.metadata.annotations = { ...ann, [DESIRED]: String(replicas), [MAX]: String(replicas + this.maxSurge(d)) };
    const out = this.store.update(this.rs, rs);
    if (from !== size) {
      this.events.normal(d, 'ScalingReplicaSet', `Scaled ${size > from ? 'up' : 'down'} replica set ${rs.metadata.name} from ${from} to ${size}`);
    }
    return out;
  }

  rolling(d, rsList) {
    let { newRS, oldRSs } = this.getReplicaSets(d, rsList, true);
    const replicas = d.spec.replicas ?? 1;
    // reconcileNewReplicaSet
    if (specReplicas(newRS) > replicas) newRS = this.scale(d, newRS, replicas);
    else if (specReplicas(newRS) < replicas) newRS = this.scale(d, newRS, this.newRSReplicas(d, oldRSs, newRS));
    // reconcileOldReplicaSets
    const oldCount = sum(oldRSs, specReplicas);
    if (!oldCount) return;
    const all = [...oldRSs, newRS];
    const minAvailable = replicas - this.maxUnavailable(d);
    const newUnavailable = specReplicas(newRS) - ((newRS.status && newRS.status.availableReplicas) || 0);
    const maxScaledDown = sum(all, specReplicas) - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return;
    // Old pods that are not available are removed first: they cost no availability.
    let budget = maxScaledDown;
    for (let i = 0; i < oldRSs.length && budget > 0; i++) {
      const rs = oldRSs[i];
      const unhealthy = specReplicas(rs) - ((rs.status && rs.status.availableReplicas) || 0);
      if (unhealthy <= 0) continue;
      const down = Math.min(unhealthy, budget);
      oldRSs[i] = this.scale(d, rs, specReplicas(rs) - down);
      budget -= down;
    }
    const available = sum([...oldRSs, newRS], (r) => (r.status && r.status.availableReplicas) || 0);
    let total = Math.min(available - minAvailable, budget);
    for (let i = 0; i < oldRSs.length && total > 0; i++) {
      const rs = oldRSs[i];
      if (!specReplicas(rs)) continue;
      const down = Math.min(specReplicas(rs), total);
      oldRSs[i] = this.scale(d, rs, specReplicas(rs) - down);
      total -= down;
    }
  }

  recreate(d, rsList) {
    const { oldRSs } = this.getReplicaSets(d, rsList, false);
    let scaledDown = false;
    for (const rs of oldRSs) {
      if (specReplicas(rs) > 0) { this.scale(d, rs, 0); scaledDown = true; }
    }
    if (scaledDown) return;
    const ns = d.metadata.namespace;
    const oldUids = new Set(oldRSs.map((r) => r.metadata.uid));
    const running = this.store.list(this.pods, ns).items.some((p) => {
      const ref = u.controllerRef(p);
      return ref && oldUids.has(ref.uid) && !u.isTerminal(p);
    });
    if (running) return;
    const { newRS } = this.getReplicaSets(d, this.list(d), true);
    this.scale(d, newRS, d.spec.replicas ?? 1);
  }

  cleanup(d) {
    const limit = d.spec.revisionHistoryLimit ?? 10;
    const { newRS } = this.getReplicaSets(d, this.list(d), false);
    const old = this.list(d).filter((r) => r.metadata.uid !== (newRS && newRS.metadata.uid))
      .filter((r) => !specReplicas(r) && !((r.status && r.status.replicas) || 0) && !r.metadata.deletionTimestamp)
      .sort((a, b) => revisionOf(a) - revisionOf(b));
    for (const rs of old.slice(0, Math.max(0, old.length - limit))) {
      try { this.store.delete(this.rs, rs.metadata.namespace, rs.metadata.name); } catch (e) { if (e.code !== 404) throw e; }
    }
  }

  setProgressing(d, status, reason, message) {
    const fresh = this.store.get(this.deploy, d.metadata.namespace, d.metadata.name);
    const conds = u.setCondition(fresh.status && fresh.status.conditions,
      { type: 'Progressing', status, lastUpdateTime: null, reason, message }, this.nowISO());
    fresh.status = { ...(fresh.status || {}), conditions: conds };
    this.store.update(this.deploy, fresh, { subresource: 'status' });
  }

  syncStatus(d, rsList) {
    const fresh = this.store.tryGet(this.deploy, d.metadata.namespace, d.metadata.name);
    if (!fresh) return undefined;
    const replicas = d.spec.replicas ?? 1;
    const want = u.canonical(templateWithoutHash(d.spec.template));
    const newRS = rsList.find((r) => u.canonical(templateWithoutHash(r.spec.template)) === want);
    const st = (r, f) => (r.status && r.status[f]) || 0;
    const status = {
      observedGeneration: d.metadata.generation,
      replicas: sum(rsList, (r) => st(r, 'replicas')),
      updatedReplicas: newRS ? st(newRS, 'replicas') : 0,
      readyReplicas: sum(rsList, (r) => st(r, 'readyReplicas')),
      availableReplicas: sum(rsList, (r) => st(r, 'availableReplicas')),
    };
    status.unavailableReplicas = Math.max(0, replicas - status.availableReplicas);
    const now = this.nowISO();
    let conds = (fresh.status && fresh.status.conditions) || [];
    const minAvailable = replicas - this.maxUnavailable(d);
    conds = status.availableReplicas >= minAvailable
      ? u.setCondition(conds, { type: 'Available', status: 'True', lastUpdateTime: null, reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }, now)
      : u.setCondition(conds, { type: 'Available', status: 'False', lastUpdateTime: null, reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' }, now);
    let requeue;
    if (newRS && !d.spec.paused) {
      const prev = fresh.status || {};
      const prog = conds.find((c) => c.type === 'Progressing');
      const setProgressing = (cStatus, reason, message) => {
        conds = u.setCondition(conds, { type: 'Progressing', status: cStatus, lastUpdateTime: null, reason, message }, now);
      };
      const complete = status.updatedReplicas === replicas && status.replicas === replicas
        && status.availableReplicas === replicas;
      const moved = !prog || prog.reason === 'NewReplicaSetAvailable'
        || ['replicas', 'updatedReplicas', 'availableReplicas'].some((f) => status[f] !== (prev[f] || 0));
      if (complete) {
        setProgressing('True', 'NewReplicaSetAvailable', `ReplicaSet "${newRS.metadata.name}" has successfully progressed.`);
      } else if (moved) {
        setProgressing('True', 'ReplicaSetUpdated', `ReplicaSet "${newRS.metadata.name}" is progressing.`);
        conds.find((c) => c.type === 'Progressing').lastUpdateTime = now; // progress made: the deadline restarts
      } else if (prog.reason !== 'ProgressDeadlineExceeded') {
        const deadline = d.spec.progressDeadlineSeconds ?? 600;
        const left = Date.parse(prog.lastUpdateTime || prog.lastTransitionTime) + deadline * 1000 - this.now();
        if (left <= 0) {
          const msg = `ReplicaSet "${newRS.metadata.name}" has timed out progressing.`;
          setProgressing('False', 'ProgressDeadlineExceeded', msg);
          this.events.warning(d, 'ProgressDeadlineExceeded', msg);
        } else {
          requeue = { requeueAfter: left };
        }
      }
    }
    status.conditions = conds;
    if (fresh.status && fresh.status.collisionCount) status.collisionCount = fresh.status.collisionCount;
    fresh.status = status;
    this.store.update(this.deploy, fresh, { subresource: 'status' });
    return requeue;
  }
}

module.exports = { DeploymentController };
