'use strict';
// Pod status as the kubelet reports it: phase, conditions, QoS class and the
// wording of its messages. Pure functions over the pod spec and the
// container statuses the pod worker keeps.

const { condition } = require('./controllers/util');

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

// Go's time.Duration.String() for whole milliseconds: 10s, 1m20s, 5m0s, 200ms.
function goDuration(ms) {
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3600000);
  const m = Math.floor((ms % 3600000) / 60000);
  const s = (ms % 60000) / 1000;
  const sec = `${Number.isInteger(s) ? s : s.toFixed(3).replace(/0+$/, '')}s`;
  if (h) return `${h}h${m}m${sec}`;
  if (m) return `${m}m${sec}`;
  return sec;
}

// "zk-0_default(uid)": how the kubelet names a pod in messages (format.Pod).
const podRef = (pod) => `${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`;

// Quantity strings ("500m", "1Gi", "2") as numbers of base units.
const SUFFIX = {
  n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};
function parseQuantity(q) {
  if (typeof q === 'number') return q;
  const m = /^([+-]?[0-9.]+(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]?)$/.exec(String(q).trim());
  if (!m) throw new Error(`quantities must match the regular expression: ${q}`);
  return Number(m[1]) * SUFFIX[m[2]];
}

function qosClass(pod) {
  const all = [...(pod.spec.initContainers || []), ...(pod.spec.containers || [])];
  let any = false;
  let guaranteed = true;
  for (const c of all) {
    const req = (c.resources && c.resources.requests) || {};
    const lim = (c.resources && c.resources.limits) || {};
    for (const r of ['cpu', 'memory']) {
      const l = lim[r];
      const q = req[r] !== undefined ? req[r] : l; // requests default to limits
      if (q !== undefined || l !== undefined) any = true;
      if (l === undefined || parseQuantity(q) !== parseQuantity(l)) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

function terminatedOk(s) { return !!(s && s.state && s.state.terminated && s.state.terminated.exitCode === 0); }

// getPhase of the kubelet, without sidecars and unknown states.
function phaseOf(pod, initStatuses, statuses, initDone) {
  const policy = pod.spec.restartPolicy || 'Always';
  if (!initDone) {
    const failedInit = initStatuses.some((s) => s.state.terminated && s.state.terminated.exitCode !== 0);
    if (failedInit && policy === 'Never') return 'Failed';
    return 'Pending';
  }
  let running = 0; let waiting = 0; let stopped = 0; let succeeded = 0;
  for (const s of statuses) {
    if (s.state.running) running++;
    else if (s.state.terminated) { stopped++; if (s.state.terminated.exitCode === 0) succeeded++; }
    else if (s.state.waiting) {
      if (s.lastState && s.lastState.terminated) stopped++;
      else waiting++;
    }
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

// Conditions in the order a 1.32 kubelet writes them; lastTransitionTime is
// kept from the previous status while the value stays the same.
function conditionsOf({ pod, previous, sandboxReady, initDone, initStatuses, statuses, phase }) {
  const prev = new Map((previous || []).map((c) => [c.type, c]));
  const cond = (type, ok, reason, message) => {
    const status = ok ? 'True' : 'False';
    const p = prev.get(type);
    const c = { type, status, lastProbeTime: null, lastTransitionTime: p && p.status === status ? p.lastTransitionTime : now() };
    if (reason) c.reason = reason;
    if (message) c.message = message;
    return c;
  };
  const done = phase === 'Succeeded' || phase === 'Failed';
  const incompleteInit = initStatuses.filter((s) => !terminatedOk(s)).map((s) => s.name);
  const unready = statuses.filter((s) => !s.ready).map((s) => s.name);
  const out = [cond('PodReadyToStartContainers', sandboxReady)];
  out.push(initDone || !incompleteInit.length
    ? cond('Initialized', true, done && phase === 'Succeeded' ? 'PodCompleted' : undefined)
    : cond('Initialized', false, 'ContainersNotInitialized', `containers with incomplete status: [${incompleteInit.join(' ')}]`));
  let readyReason; let readyMessage;
  if (!initDone) { readyReason = 'ContainersNotReady'; readyMessage = `containers with unready status: [${statuses.map((s) => s.name).join(' ')}]`; }
  else if (done) readyReason = 'PodCompleted';
  else if (unready.length) { readyReason = 'ContainersNotReady'; readyMessage = `containers with unready status: [${unready.join(' ')}]`; }
  const containersReady = initDone && !done && unready.length === 0;
  // Readiness gates: the pod is Ready only when every gate's condition is True too.
  const gates = (pod.spec.readinessGates || []).map((g) => g.conditionType);
  const gateTrue = (t) => (condition({ status: { conditions: previous || [] } }, t) || {}).status === 'True';
  const missingGates = gates.filter((t) => !gateTrue(t));
  let podReady = containersReady && missingGates.length === 0;
  let podReason = readyReason; let podMessage = readyMessage;
  if (containersReady && missingGates.length) {
    podReady = false;
    podReason = 'ReadinessGatesNotReady';
    podMessage = `corresponding condition of pod readiness gate "${missingGates[0]}" does not exist.`;
  }
  out.push(cond('Ready', podReady, podReady ? undefined : podReason, podReady ? undefined : podMessage));
  out.push(cond('ContainersReady', containersReady, containersReady ? undefined : readyReason, containersReady ? undefined : readyMessage));
  out.push(cond('PodScheduled', true));
  // Conditions other components own (DisruptionTarget, readiness gates) stay.
  const ours = new Set(out.map((c) => c.type));
  for (const c of previous || []) if (!ours.has(c.type)) out.push(c);
  return out;
}

module.exports = { goDuration, podRef, parseQuantity, qosClass, phaseOf, conditionsOf, terminatedOk, now };
