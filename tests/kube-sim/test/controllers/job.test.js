'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { cluster, until, events } = require('./helpers');

function jobObject(name, spec = {}, restartPolicy = 'Never') {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: 'default' },
    spec: {
      template: { metadata: { labels: { app: name } }, spec: { restartPolicy, containers: [{ name: 'c', image: 'busybox' }] } },
      ...spec,
    },
  };
}

const cond = (job, type) => ((job.status && job.status.conditions) || []).find((c) => c.type === type && c.status === 'True');

test('a Job runs completions pods, parallelism at a time, and completes', async (t) => {
  const c = cluster(t);
  const jobs = c.r('jobs', 'batch');
  c.store.create(jobs, jobObject('pi', { completions: 3, parallelism: 2 }));
  await until(() => c.pods().length === 2, { what: '2 pods' });
  const p = c.pods()[0];
  assert.strictEqual(p.metadata.labels['job-name'], 'pi');
  assert.strictEqual(p.metadata.labels['batch.kubernetes.io/job-name'], 'pi');
  assert.ok(p.metadata.finalizers.includes('batch.kubernetes.io/job-tracking'));
  let done = 0;
  const job = await until(() => {
    for (const pod of c.pods()) {
      if (pod.status.phase === 'Pending' && done < 3) { c.setPod(pod.metadata.name, { phase: 'Succeeded', ready: false }); done++; }
    }
    const j = c.store.get(jobs, 'default', 'pi');
    return cond(j, 'Complete') && j;
  }, { what: 'Complete' });
  assert.strictEqual(job.status.succeeded, 3);
  assert.strictEqual(job.status.failed, 0);
  assert.strictEqual(job.status.active, 0);
  assert.ok(job.status.startTime && job.status.completionTime);
  assert.strictEqual(cond(job, 'SuccessCriteriaMet').reason, 'CompletionsReached');
  assert.strictEqual(cond(job, 'Complete').message, 'Reached expected number of succeeded pods');
  assert.ok(c.pods().every((x) => !(x.metadata.finalizers || []).includes('batch.kubernetes.io/job-tracking')));
  assert.strictEqual(c.pods().length, 3);
  assert.ok(events(c.store, c.registry).some((e) => e.reason === 'Completed' && e.message === 'Job completed'));
});

test('a Job fails once more pods failed than backoffLimit', async (t) => {
  const c = cluster(t);
  const jobs = c.r('jobs', 'batch');
  c.store.create(jobs, jobObject('bad', { backoffLimit: 2 }));
  const job = await until(() => {
    for (const pod of c.pods()) if (pod.status.phase === 'Pending') c.setPod(pod.metadata.name, { phase: 'Failed', ready: false });
    const j = c.store.get(jobs, 'default', 'bad');
    return cond(j, 'Failed') && j;
  }, { what: 'Failed' });
  assert.strictEqual(job.status.failed, 3);
  assert.strictEqual(cond(job, 'Failed').reason, 'BackoffLimitExceeded');
  assert.strictEqual(cond(job, 'FailureTarget').message, 'Job has reached the specified backoff limit');
  assert.strictEqual(c.pods().length, 3);
  assert.ok(events(c.store, c.registry).some((e) => e.reason === 'BackoffLimitExceeded' && e.type === 'Warning'));
});

test('OnFailure counts container restarts against backoffLimit; ttlSecondsAfterFinished deletes the job', async (t) => {
  const c = cluster(t);
  const jobs = c.r('jobs', 'batch');
  c.store.create(jobs, jobObject('flaky', { backoffLimit: 2 }, 'OnFailure'));
  await until(() => c.pods().length === 1);
  c.setPod(c.pods()[0].metadata.name, { ready: false, restarts: 2 });
  await until(() => cond(c.store.get(jobs, 'default', 'flaky'), 'FailureTarget'), { what: 'FailureTarget' });
  await until(() => c.pods()[0].metadata.deletionTimestamp);
  c.reap();
  await until(() => cond(c.store.get(jobs, 'default', 'flaky'), 'Failed'), { what: 'Failed' });

  c.store.create(jobs, jobObject('short', { ttlSecondsAfterFinished: 0 }));
  await until(() => c.pods().some((p) => p.metadata.labels['job-name'] === 'short'));
  c.setPod(c.pods().find((p) => p.metadata.labels['job-name'] === 'short').metadata.name, { phase: 'Succeeded', ready: false });
  await until(() => !c.store.tryGet(jobs, 'default', 'short'), { what: 'ttl deletion' });
  await until(() => !c.pods().some((p) => p.metadata.labels['job-name'] === 'short'), { what: 'pods collected' });
});
