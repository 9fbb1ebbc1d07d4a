'use strict';
// A store with the controllers running, and the kubelet's part played by
// hand: tests decide when pods run, become ready, fail or finish terminating.

const fs = require('fs');
const os = require('os');
const path = require('path');
const { Registry } = require('../../lib/registry');
const { Store } = require('../../lib/store');
const { startControllers } = require('../../lib/controllers');

function cluster(t, opts = {}) {
  const registry = new Registry();
  const store = new Store(registry);
  const volumesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-sim-ctrl-test-'));
  const logs = [];
  const controllers = startControllers({
    store, registry, log: (m) => { logs.push(m); if (process.env.KUBE_SIM_TEST_LOG) console.error(m); }, caPem: 'CA', volumesDir, jobBackoffMs: 0, ...opts,
  });
  t.after(() => {
    controllers.stop();
    fs.rmSync(volumesDir, { recursive: true, force: true });
  });
  const r = (plural, group = '') => {
    const res = registry.all().find((x) => x.plural === plural && x.group === group);
    if (!res) throw new Error(`no resource ${plural}`);
    return res;
  };
  const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const pods = (ns = 'default', labelSelector) => store.list(r('pods'), ns, { labelSelector }).items;
  const pod = (name, ns = 'default') => store.tryGet(r('pods'), ns, name);

  // The kubelet: a pod starts running (ready or not) with an IP.
  let ip = 10;
  function setPod(name, { phase = 'Running', ready = true, ns = 'default', restarts } = {}) {
    const p = store.get(r('pods'), ns, name);
    const conds = (p.status.conditions || []).filter((c) => c.type !== 'Ready');
    const was = (p.status.conditions || []).find((c) => c.type === 'Ready');
    const status = ready ? 'True' : 'False';
    conds.push({ type: 'Ready', status, lastTransitionTime: was && was.status === status ? was.lastTransitionTime : now() });
    p.status = { ...p.status, phase, conditions: conds, podIP: p.status.podIP || `10.0.0.${ip++}` };
    if (restarts !== undefined) p.status.containerStatuses = [{ name: 'c', restartCount: restarts }];
    if (phase === 'Succeeded' || phase === 'Failed') {
      p.status.containerStatuses = [{ name: 'c', state: { terminated: { exitCode: phase === 'Failed' ? 1 : 0, finishedAt: now() } } }];
    }
    return store.update(r('pods'), p, { subresource: 'status' });
  }
  // The kubelet finishing graceful termination of every deleted pod.
  function reap(ns = 'default') {
    let n = 0;
    for (const p of pods(ns)) {
      if (p.metadata.deletionTimestamp && store.tryGet(r('pods'), ns, p.metadata.name)) {
        store.delete(r('pods'), ns, p.metadata.name, { gracePeriodSeconds: 0 });
        n++;
      }
    }
    return n;
  }
  return { store, registry, controllers, r, pods, pod, setPod, reap, logs, volumesDir, settle: () => controllers.idle() };
}

// Polls fn (sync or async) until it returns a truthy value; throws with the
// last value seen after the deadline.
async function until(fn, { timeout = 5000, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 5));
  }
}

function events(store, registry, ns = 'default') {
  const res = registry.byPlural('', 'v1', 'events');
  return store.list(res, ns).items;
}

module.exports = { cluster, until, events };
