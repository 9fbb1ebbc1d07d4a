'use strict';
// The controller manager: every controller of the test cluster, driven by the
// store's 'event' emissions, with a periodic resync.

const { realClock, normalizeLog } = require('./base');
const { EventRecorder } = require('./events');
const { NodeController, SchedulerController } = require('./node');
const { NamespaceController, ServiceAccountController, ensureSystemNamespaces } = require('./namespace');
const { StatefulSetController } = require('./statefulset');
const { ReplicaSetController } = require('./replicaset');
const { DeploymentController } = require('./deployment');
const { JobController } = require('./job');
const { GarbageCollector } = require('./gc');
const { EndpointsController, EndpointSliceController } = require('./endpoints');
const { VolumeController, claimVolumePath } = require('./volumes');
const { DisruptionController } = require('./disruption');

const CONTROLLERS = {
  node: NodeController,
  scheduler: SchedulerController,
  namespace: NamespaceController,
  serviceaccount: ServiceAccountController,
  statefulset: StatefulSetController,
  replicaset: ReplicaSetController,
  deployment: DeploymentController,
  job: JobController,
  garbagecollector: GarbageCollector,
  endpoints: EndpointsController,
  endpointslice: EndpointSliceController,
  volumes: VolumeController,
  disruption: DisruptionController,
};

// options: store, registry (required); log (function(message) or console-like);
// clock {now(), setTimeout(fn, ms), clearTimeout(h)}; caPem (cluster CA for
// kube-root-ca.crt); volumesDir (where provisioned volumes live); nodeName
// ('kube-sim'); resyncMs (15000); jobBackoffMs (10000: the Job controller's
// base delay before replacing a failed pod); schedule (false: bind pods that
// name no node to nodeName); only/except: controller names.
function startControllers(options) {
  const { store, registry } = options;
  if (!store || !registry) throw new Error('startControllers needs store and registry');
  const ctx = {
    store,
    registry,
    log: normalizeLog(options.log),
    clock: options.clock || realClock,
    caPem: options.caPem,
    volumesDir: options.volumesDir,
    nodeName: options.nodeName || 'kube-sim',
    jobBackoffMs: options.jobBackoffMs ?? 10000,
  };
  ctx.recorder = new EventRecorder(ctx);
  ensureSystemNamespaces(ctx);

  // The kubelet binds pods by default (it waits for their claims); this
  // scheduler runs only when asked for.
  const except = [...(options.except || []), ...(options.schedule ? [] : ['scheduler'])];
  const names = Object.keys(CONTROLLERS).filter((n) => (!options.only || options.only.includes(n)) && !except.includes(n));
  const controllers = names.map((n) => new CONTROLLERS[n](ctx));
  const listener = (evt) => {
    for (const c of controllers) {
      try {
        c.onEvent(evt);
      } catch (e) {
        ctx.log(`${c.name}: cannot handle ${evt.type} ${evt.res && evt.res.kind}: ${e.stack || e.message}`);
      }
    }
  };
  store.on('event', listener);
  for (const c of controllers) {
    if (typeof c.start === 'function') c.start();
    c.resync();
  }
  const timer = setInterval(() => { for (const c of controllers) c.resync(); }, options.resyncMs || 15000);
  timer.unref();

  return {
    controllers: Object.fromEntries(controllers.map((c) => [c.name, c])),
    // Resolves once every work queue is empty (time-based requeues pending
    // later do not count).
    idle() {
      const pending = controllers.filter((c) => !c.queue.isIdle());
      if (!pending.length) return Promise.resolve();
      return new Promise((resolve) => setImmediate(() => resolve(this.idle())));
    },
    stop() {
      clearInterval(timer);
      store.removeListener('event', listener);
      for (const c of controllers) {
        if (typeof c.stop === 'function') c.stop();
        c.queue.stop();
      }
    },
  };
}

module.exports = { startControllers, claimVolumePath, CONTROLLERS };
