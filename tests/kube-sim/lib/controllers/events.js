'use strict';
// core/v1 Events as client-go's record.EventRecorder writes them for the
// controller manager: named <object>.<hex nanoseconds>, in the object's
// namespace ('default' for cluster-scoped objects), and aggregated: the same
// reason and message about the same object bumps count and lastTimestamp.

const MAX_CACHE = 4096;

class EventRecorder {
  constructor({ store, registry, clock, log }) {
    this.store = store;
    this.res = registry.byPlural('', 'v1', 'events');
    this.clock = clock;
    this.log = log;
    this.cache = new Map(); // aggregation key -> {namespace, name}
    this.seq = 0;
  }

  // obj: any API object (with apiVersion/kind); type 'Normal' | 'Warning'.
  record(component, obj, type, reason, message) {
    const meta = obj.metadata || {};
    const namespace = meta.namespace || 'default';
    const involved = {
      kind: obj.kind, namespace: meta.namespace, name: meta.name, uid: meta.uid,
      apiVersion: obj.apiVersion, resourceVersion: meta.resourceVersion,
    };
    if (!involved.namespace) delete involved.namespace;
    const key = [component, involved.kind, namespace, involved.name, involved.uid, type, reason, message].join('\u0000');
    const nowMs = this.clock.now();
    const now = new Date(nowMs).toISOString().replace(/\.\d+Z$/, 'Z');
    try {
      const cached = this.cache.get(key);
      if (cached) {
        const ev = this.store.tryGet(this.res, cached.namespace, cached.name);
        if (ev) {
          ev.count = (ev.count || 1) + 1;
          ev.lastTimestamp = now;
          ev.involvedObject = involved;
          delete ev.metadata.resourceVersion;
          this.store.update(this.res, ev);
          return;
        }
      }
      // UnixNano in hex, unique even when two events share a millisecond.
      const nanos = BigInt(nowMs) * 1000000n + BigInt(this.seq++ % 1000000);
      const name = `${involved.name}.${nanos.toString(16)}`;
      this.store.create(this.res, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace },
        involvedObject: involved,
        reason,
        message,
        source: { component },
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
        type,
        eventTime: null,
        reportingComponent: component,
        reportingInstance: '',
      });
      if (this.cache.size >= MAX_CACHE) this.cache.delete(this.cache.keys().next().value);
      this.cache.set(key, { namespace, name });
    } catch (e) {
      // Events are best effort (a terminating namespace refuses them).
      if (e.code !== 403 && e.code !== 404) this.log(`events: cannot record ${reason} for ${involved.kind} ${involved.name}: ${e.message}`);
    }
  }

  // A per-component view: recorder.for('statefulset-controller').normal(obj, reason, msg)
  for(component) {
    return {
      normal: (obj, reason, message) => this.record(component, obj, 'Normal', reason, message),
      warning: (obj, reason, message) => this.record(component, obj, 'Warning', reason, message),
    };
  }
}

module.exports = { EventRecorder };
