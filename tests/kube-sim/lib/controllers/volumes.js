'use strict';
// Storage: a claim is provisioned and bound at once (a PersistentVolume
// pvc-<uid> whose hostPath is a directory under volumesDir, reclaimPolicy
// Delete); a claim naming a volume binds to it. A claim in use by a pod that
// has not terminated keeps kubernetes.io/pvc-protection; once a claim is
// gone its volume is released, and a Delete volume is removed with its
// directory (PV controller, pvc-protection controller, a hostpath
// provisioner).

const fs = require('fs');
const os = require('os');
const path = require('path');
const { Controller, splitKey, sameRes } = require('./base');
const u = require('./util');

const PROTECTION = 'kubernetes.io/pvc-protection';
const PROVISIONER = 'kube-sim.io/hostpath';

function volumesDirOf(ctx) { return path.resolve(ctx.volumesDir || path.join(os.tmpdir(), 'kube-sim-volumes')); }

// The directory that holds a claim's data, or null while it is not bound.
function claimVolumePath(store, registry, namespace, claimName) {
  const pvc = store.tryGet(registry.byPlural('', 'v1', 'persistentvolumeclaims'), namespace, claimName);
  if (!pvc || !pvc.spec.volumeName) return null;
  const pv = store.tryGet(registry.byPlural('', 'v1', 'persistentvolumes'), '', pvc.spec.volumeName);
  return (pv && pv.spec.hostPath && pv.spec.hostPath.path) || null;
}

function claimNamesOf(pod) {
  return (pod.spec.volumes || []).filter((v) => v.persistentVolumeClaim).map((v) => v.persistentVolumeClaim.claimName);
}

class VolumeController extends Controller {
  constructor(ctx) {
    super(ctx, 'volumes');
    this.pvcs = this.res('persistentvolumeclaims');
    this.pvs = this.res('persistentvolumes');
    this.pods = this.res('pods');
    this.dir = volumesDirOf(ctx);
    this.events = ctx.recorder.for('persistentvolume-controller');
  }

  allKeys() {
    return [
      ...this.store.list(this.pvcs, null).items.map((o) => `pvc:${o.metadata.namespace}/${o.metadata.name}`),
      ...this.store.list(this.pvs, null).items.map((o) => `pv:${o.metadata.name}`),
    ];
  }

  onEvent({ type, res, object, old }) {
    if (sameRes(res, this.pvcs)) {
      this.queue.add(`pvc:${object.metadata.namespace}/${object.metadata.name}`);
      if (type === 'DELETED') {
        for (const pv of this.store.list(this.pvs, null).items) {
          if (pv.spec.claimRef && pv.spec.claimRef.uid === object.metadata.uid) this.queue.add(`pv:${pv.metadata.name}`);
        }
      }
    } else if (sameRes(res, this.pvs)) {
      if (type !== 'DELETED') this.queue.add(`pv:${object.metadata.name}`);
    } else if (sameRes(res, this.pods)) {
      const names = new Set([...claimNamesOf(object), ...(old ? claimNamesOf(old) : [])]);
      for (const n of names) this.queue.add(`pvc:${object.metadata.namespace}/${n}`);
    }
  }

  sync(key) {
    if (key.startsWith('pv:')) return this.syncVolume(key.slice(3));
    const [ns, name] = splitKey(key.slice(4));
    const pvc = this.store.tryGet(this.pvcs, ns, name);
    if (!pvc) return undefined;
    const finalizers = pvc.metadata.finalizers || [];
    if (pvc.metadata.deletionTimestamp) {
      if (finalizers.includes(PROTECTION) && !this.inUse(pvc)) {
        pvc.metadata.finalizers = finalizers.filter((f) => f !== PROTECTION);
        this.store.update(this.pvcs, pvc);
      }
      return undefined;
    }
    if (!finalizers.includes(PROTECTION)) {
      pvc.metadata.finalizers = [...finalizers, PROTECTION];
      this.store.update(this.pvcs, pvc);
      return undefined; // the update brings this claim back
    }
    if (pvc.status && pvc.status.phase === 'Bound') return undefined;
    return this.bind(pvc);
  }

  inUse(pvc) {
    return this.store.list(this.pods, pvc.metadata.namespace).items
      .some((p) => !u.isTerminal(p) && claimNamesOf(p).includes(pvc.metadata.name));
  }

  bind(pvc) {
    let pv;
    if (pvc.spec.volumeName) {
      pv = this.store.tryGet(this.pvs, '', pvc.spec.volumeName);
      if (!pv) return this.pending(pvc, 'VolumeMismatch', `volume "${pvc.spec.volumeName}" not found`);
      const ref = pv.spec.claimRef;
      if (ref && ref.uid && ref.uid !== pvc.metadata.uid) return this.pending(pvc, 'VolumeMismatch', `volume "${pv.metadata.name}" already bound to a different claim.`);
      if (!ref || ref.uid !== pvc.metadata.uid) {
        pv.spec.claimRef = this.claimRef(pvc);
        pv = this.store.update(this.pvs, pv);
      }
    } else {
      pv = this.provision(pvc);
    }
    if (!pv.status || pv.status.phase !== 'Bound') {
      pv.status = { ...(pv.status || {}), phase: 'Bound' };
      this.store.update(this.pvs, pv, { subresource: 'status' });
    }
    const fresh = this.store.get(this.pvcs, pvc.metadata.namespace, pvc.metadata.name);
    fresh.spec.volumeName = pv.metadata.name;
    fresh.metadata.annotations = {
      ...(fresh.metadata.annotations || {}),
      'pv.kubernetes.io/bind-completed': 'yes',
      'pv.kubernetes.io/bound-by-controller': 'yes',
    };
    const bound = this.store.update(this.pvcs, fresh);
    bound.status = {
      phase: 'Bound',
      accessModes: pv.spec.accessModes || pvc.spec.accessModes || ['ReadWriteOnce'],
      capacity: { ...(pv.spec.capacity || {}) },
    };
    this.store.update(this.pvcs, bound, { subresource: 'status' });
    return undefined;
  }

  pending(pvc, reason, message) {
    if (!pvc.status || pvc.status.phase !== 'Pending') {
      pvc.status = { ...(pvc.status || {}), phase: 'Pending' };
      this.store.update(this.pvcs, pvc, { subresource: 'status' });
    }
    this.events.warning(pvc, reason, message);
    return { requeueAfter: 5000 };
  }

  claimRef(pvc) {
    return {
      kind: 'PersistentVolumeClaim', namespace: pvc.metadata.namespace, name: pvc.metadata.name,
      uid: pvc.metadata.uid, apiVersion: 'v1', resourceVersion: pvc.metadata.resourceVersion,
    };
  }

  provision(pvc) {
    const name = `pvc-${pvc.metadata.uid}`;
    const existing = this.store.tryGet(this.pvs, '', name);
    if (existing) return existing;
    const dir = path.join(this.dir, name);
    fs.mkdirSync(dir, { recursive: true, mode: 0o777 });
    fs.chmodSync(dir, 0o777); // pods may run as any user
    const storage = (pvc.spec.resources && pvc.spec.resources.requests && pvc.spec.resources.requests.storage) || '1Gi';
    const pv = {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: {
        name,
        annotations: { 'pv.kubernetes.io/provisioned-by': PROVISIONER },
        finalizers: ['kubernetes.io/pv-protection'],
      },
      spec: {
        capacity: { storage },
        accessModes: pvc.spec.accessModes || ['ReadWriteOnce'],
        hostPath: { path: dir, type: 'DirectoryOrCreate' },
        claimRef: this.claimRef(pvc),
        persistentVolumeReclaimPolicy: 'Delete',
        storageClassName: pvc.spec.storageClassName || '',
        volumeMode: pvc.spec.volumeMode || 'Filesystem',
      },
      status: { phase: 'Bound' },
    };
    const created = this.store.create(this.pvs, pv);
    this.events.normal(pvc, 'ProvisioningSucceeded', `Successfully provisioned volume ${name} using ${PROVISIONER}`);
    return created;
  }

  // A volume whose claim is gone: Delete removes it and its directory,
  // Retain leaves it Released.
  syncVolume(name) {
    const pv = this.store.tryGet(this.pvs, '', name);
    if (!pv) return undefined;
    if (pv.metadata.deletionTimestamp) {
      const ref = pv.spec.claimRef;
      const claim = ref && this.store.tryGet(this.pvcs, ref.namespace, ref.name);
      if ((!claim || claim.metadata.uid !== ref.uid) && (pv.metadata.finalizers || []).includes('kubernetes.io/pv-protection')) {
        pv.metadata.finalizers = pv.metadata.finalizers.filter((f) => f !== 'kubernetes.io/pv-protection');
        this.store.update(this.pvs, pv);
      }
      return undefined;
    }
    const ref = pv.spec.claimRef;
    if (!ref || !ref.uid) return undefined;
    const claim = this.store.tryGet(this.pvcs, ref.namespace, ref.name);
    if (claim && claim.metadata.uid === ref.uid) return undefined;
    if (pv.spec.persistentVolumeReclaimPolicy === 'Delete') {
      this.removeDirectory(pv);
      try { this.store.delete(this.pvs, '', name); } catch (e) { if (e.code !== 404) throw e; }
      const left = this.store.tryGet(this.pvs, '', name);
      if (left && (left.metadata.finalizers || []).includes('kubernetes.io/pv-protection')) {
        left.metadata.finalizers = left.metadata.finalizers.filter((f) => f !== 'kubernetes.io/pv-protection');
        this.store.update(this.pvs, left);
      }
    } else if (!pv.status || pv.status.phase !== 'Released') {
      pv.status = { ...(pv.status || {}), phase: 'Released' };
      this.store.update(this.pvs, pv, { subresource: 'status' });
    }
    return undefined;
  }

  // Only directories this controller made: directly under volumesDir.
  removeDirectory(pv) {
    const p = pv.spec.hostPath && pv.spec.hostPath.path;
    if (!p || path.dirname(path.resolve(p)) !== this.dir || path.basename(p) !== pv.metadata.name) return;
    fs.rmSync(p, { recursive: true, force: true });
  }
}

module.exports = { VolumeController, claimVolumePath, PROTECTION };
