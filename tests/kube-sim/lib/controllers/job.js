'use strict';
// The Job controller (pkg/controller/job, as of 1.32): pods up to
// parallelism until completions succeed; failures counted against
// backoffLimit (pod failures with restartPolicy Never, container restarts
// with OnFailure); finished pods counted once through the
// batch.kubernetes.io/job-tracking finalizer; SuccessCriteriaMet/Complete and
// FailureTarget/Failed conditions; activeDeadlineSeconds; suspend;
// ttlSecondsAfterFinished (the TTL-after-finished controller).

const { Controller, splitKey, sameRes } = require('./base');
const u = require('./util');

const COMPONENT = 'job-controller';
const TRACKING = 'batch.kubernetes.io/job-tracking';
const MAX_BACKOFF_MS = 6 * 60 * 1000;

const hasCond = (job, type) => ((job.status && job.status.conditions) || []).some((c) => c.type === type && c.status === 'True');
const finished = (job) => hasCond(job, 'Complete') || hasCond(job, 'Failed');

class JobController extends Controller {
  constructor(ctx) {
    super(ctx, 'job');
    this.jobs = this.res('jobs', 'batch');
    this.pods = this.res('pods');
    this.events = ctx.recorder.for(COMPONENT);
  }

  allKeys() { return this.store.list(this.jobs, null).items.map((o) => `${o.metadata.namespace}/${o.metadata.name}`); }

  onEvent({ res, object, old }) {
    const ns = object.metadata.namespace;
    if (sameRes(res, this.jobs)) { this.queue.add(`${ns}/${object.metadata.name}`); return; }
    if (!sameRes(res, this.pods)) return;
    for (const o of [object, old]) {
      const ref = o && u.controllerRef(o);
      if (ref && ref.kind === 'Job') this.queue.add(`${ns}/${ref.name}`);
    }
  }

  sync(key) {
    const [ns, name] = splitKey(key);
    const job = this.store.tryGet(this.jobs, ns, name);
    if (!job) return undefined;
    const pods = this.store.list(this.pods, ns).items.filter((p) => u.isControlledBy(p, job));
    if (finished(job)) {
      this.releasePods(job, pods);
      if (job.metadata.deletionTimestamp) return undefined;
      return this.ttl(job);
    }
    if (job.metadata.deletionTimestamp) { this.releasePods(job, pods); return undefined; }
    const status = structuredClone(job.status || {});
    status.succeeded = status.succeeded || 0;
    status.failed = status.failed || 0;
    const now = this.nowISO();
    if (!status.startTime && !job.spec.suspend) status.startTime = now;

    // Count finished pods once, then let them go. A deleted pod that did not
    // succeed counts as failed (it may never reach the Failed phase).
    const uncounted = pods.filter((p) => (u.isTerminal(p) || u.isTerminating(p)) && (p.metadata.finalizers || []).includes(TRACKING));
    for (const p of uncounted) {
      if (u.podPhase(p) === 'Succeeded') status.succeeded++;
      else status.failed++;
    }
    if (uncounted.length) {
      this.writeStatus(job, status);
      this.releasePods(job, uncounted);
    }
    const active = pods.filter(u.isActive);
    const completions = job.spec.completions ?? (job.spec.parallelism === undefined ? 1 : null);
    const parallelism = job.spec.parallelism ?? 1;
    const backoffLimit = job.spec.backoffLimit ?? 6;
    const restarts = job.spec.template.spec.restartPolicy === 'OnFailure'
      ? sum(active, (p) => sum((p.status && p.status.containerStatuses) || [], (c) => c.restartCount || 0)) : 0;

    let failure = null;
    if (hasCond(job, 'FailureTarget')) {
      const c = job.status.conditions.find((x) => x.type === 'FailureTarget');
      failure = { reason: c.reason, message: c.message };
    } else if (status.failed > backoffLimit || (restarts && restarts >= backoffLimit)) {
      failure = { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' };
    } else if (job.spec.activeDeadlineSeconds && status.startTime
      && Date.parse(status.startTime) + job.spec.activeDeadlineSeconds * 1000 <= this.now()) {
      failure = { reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' };
    }
    const succeededEnough = completions !== null ? status.succeeded >= completions : status.succeeded > 0 && !active.length;
    let requeue;
    if (failure) {
      for (const p of active) this.deletePod(job, p);
      status.conditions = u.setCondition(status.conditions, { type: 'FailureTarget', status: 'True', reason: failure.reason, message: failure.message, lastProbeTime: now }, now);
      if (!pods.some((p) => !u.isTerminal(p) && this.store.tryGet(this.pods, ns, p.metadata.name))) {
        status.conditions = u.setCondition(status.conditions, { type: 'Failed', status: 'True', reason: failure.reason, message: failure.message, lastProbeTime: now }, now);
        this.events.warning(job, failure.reason, failure.message);
      }
    } else if (succeededEnough) {
      const msg = 'Reached expected number of succeeded pods';
      status.conditions = u.setCondition(status.conditions, { type: 'SuccessCriteriaMet', status: 'True', reason: 'CompletionsReached', message: msg, lastProbeTime: now }, now);
      for (const p of active) this.deletePod(job, p);
      if (!pods.some((p) => !u.isTerminal(p) && this.store.tryGet(this.pods, ns, p.metadata.name))) {
        status.conditions = u.setCondition(status.conditions, { type: 'Complete', status: 'True', reason: 'CompletionsReached', message: msg, lastProbeTime: now }, now);
        status.completionTime = now;
        this.events.normal(job, 'Completed', 'Job completed');
      }
    } else if (job.spec.suspend) {
      for (const p of active) this.deletePod(job, p);
      status.conditions = u.setCondition(status.conditions, { type: 'Suspended', status: 'True', reason: 'JobSuspended', message: 'Job suspended', lastProbeTime: now }, now);
    } else {
      if (hasCond(job, 'Suspended')) {
        status.conditions = u.setCondition(status.conditions, { type: 'Suspended', status: 'False', reason: 'JobResumed', message: 'Job resumed', lastProbeTime: now }, now);
      }
      let want = parallelism;
      if (completions !== null) want = Math.min(parallelism, completions - status.succeeded);
      else if (status.succeeded > 0) want = 0;
      const toCreate = want - active.length;
      const wait = this.backoffLeft(job, pods, status.failed);
      if (toCreate > 0 && wait > 0) requeue = { requeueAfter: wait };
      else if (toCreate > 0) for (let i = 0; i < toCreate; i++) this.createPod(job);
      else if (toCreate < 0) for (const p of active.slice(toCreate)) this.deletePod(job, p);
      if (job.spec.activeDeadlineSeconds && status.startTime) {
        const left = Date.parse(status.startTime) + job.spec.activeDeadlineSeconds * 1000 - this.now();
        requeue = { requeueAfter: Math.max(0, Math.min(left, requeue ? requeue.requeueAfter : left)) };
      }
    }
    const live = this.store.list(this.pods, ns).items.filter((p) => u.isControlledBy(p, job));
    status.active = live.filter(u.isActive).length;
    status.ready = live.filter((p) => u.isActive(p) && u.isPodReady(p)).length;
    status.terminating = live.filter((p) => u.isTerminating(p) && !u.isTerminal(p)).length;
    status.uncountedTerminatedPods = {};
    const written = this.writeStatus(job, status);
    if (written && finished(written)) return this.ttl(written);
    return requeue;
  }

  // The pod failure backoff: 10s, 20s, 40s ... (at most 6 minutes) after the
  // last failure before a replacement is made.
  backoffLeft(job, pods, failed) {
    if (!failed || !this.ctx.jobBackoffMs) return 0;
    const delay = Math.min(this.ctx.jobBackoffMs * 2 ** (failed - 1), MAX_BACKOFF_MS);
    let last = 0;
    for (const p of pods) {
      if (u.podPhase(p) !== 'Failed') continue;
      for (const c of (p.status && p.status.containerStatuses) || []) {
        const t = c.state && c.state.terminated && Date.parse(c.state.terminated.finishedAt);
        if (t && t > last) last = t;
      }
      if (!last) last = Date.parse(p.metadata.creationTimestamp);
    }
    if (!last) return 0;
    return Math.max(0, last + delay - this.now());
  }

  writeStatus(job, status) {
    const fresh = this.store.tryGet(this.jobs, job.metadata.namespace, job.metadata.name);
    if (!fresh || fresh.metadata.uid !== job.metadata.uid) return null;
    const clean = JSON.parse(JSON.stringify(status));
    fresh.status = clean;
    return this.store.update(this.jobs, fresh, { subresource: 'status' });
  }

  releasePods(job, pods) {
    for (const p of pods) {
      if (!(p.metadata.finalizers || []).includes(TRACKING)) continue;
      const fresh = this.store.tryGet(this.pods, p.metadata.namespace, p.metadata.name);
      if (!fresh) continue;
      fresh.metadata.finalizers = (fresh.metadata.finalizers || []).filter((f) => f !== TRACKING);
      this.store.update(this.pods, fresh);
    }
  }

  createPod(job) {
    const pod = u.podFromTemplate(job.spec.template, job, this.ctx.nodeName, this.nowISO());
    pod.metadata.generateName = `${job.metadata.name}-`;
    const uid = job.metadata.uid;
    Object.assign(pod.metadata.labels, {
      'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': job.metadata.name,
      'controller-uid': uid, 'job-name': job.metadata.name,
    });
    pod.metadata.finalizers = [...(pod.metadata.finalizers || []), TRACKING];
    let created;
    try {
      created = this.store.create(this.pods, pod);
    } catch (e) {
      this.events.warning(job, 'FailedCreate', `Error creating: ${e.message}`);
      throw e;
    }
    this.events.normal(job, 'SuccessfulCreate', `Created pod: ${created.metadata.name}`);
  }

  deletePod(job, pod) {
    try {
      this.store.delete(this.pods, pod.metadata.namespace, pod.metadata.name, { preconditions: { uid: pod.metadata.uid } });
      this.events.normal(job, 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
    } catch (e) {
      if (e.code !== 404) throw e;
    }
  }

  // ttlSecondsAfterFinished: deleted (foreground, as the TTL controller does)
  // once that long has passed since it finished.
  ttl(job) {
    const ttl = job.spec.ttlSecondsAfterFinished;
    if (ttl === undefined || ttl === null) return undefined;
    const c = job.status.conditions.find((x) => (x.type === 'Complete' || x.type === 'Failed') && x.status === 'True');
    const at = Date.parse((job.status.completionTime) || c.lastTransitionTime) + ttl * 1000;
    const left = at - this.now();
    if (left > 0) return { requeueAfter: left };
    try {
      this.store.delete(this.jobs, job.metadata.namespace, job.metadata.name, { propagationPolicy: 'Foreground', preconditions: { uid: job.metadata.uid } });
    } catch (e) {
      if (e.code !== 404) throw e;
    }
    return undefined;
  }
}

function sum(list, f) { return list.reduce((n, x) => n + f(x), 0); }

module.exports = { JobController };
