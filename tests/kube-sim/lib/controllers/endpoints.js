'use strict';
// Endpoints and EndpointSlices for Services with a selector
// (pkg/controller/endpoint, pkg/controller/endpointslice): pod IPs with
// targetRef, hostname for pods whose subdomain names the service, ports
// resolved from named targetPorts, readiness as the real controllers judge
// it (publishNotReadyAddresses puts unready pods among the ready ones).

const { Controller, splitKey, sameRes } = require('./base');
const u = require('./util');

const SERVICE_NAME = 'kubernetes.io/service-name';
const MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';
const MANAGER = 'endpointslice-controller.k8s.io';
const HEADLESS = 'service.kubernetes.io/headless';

// podutil.FindPort: the container port a service port reaches on a pod.
function findPort(pod, sp) {
  const target = sp.targetPort === undefined || sp.targetPort === null ? sp.port : sp.targetPort;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(String(target))) return Number(target);
  for (const c of [...(pod.spec.initContainers || []), ...(pod.spec.containers || [])]) {
    for (const p of c.ports || []) {
      if (p.name === target && (p.protocol || 'TCP') === (sp.protocol || 'TCP')) return p.containerPort;
    }
  }
  return null;
}

function podIPv4(pod) {
  const ips = ((pod.status && pod.status.podIPs) || []).map((x) => x.ip);
  if (pod.status && pod.status.podIP) ips.unshift(pod.status.podIP);
  return ips.find((ip) => ip && !ip.includes(':')) || null;
}

// endpointsliceutil.ShouldPodBeInEndpoints
function shouldInclude(pod, includeTerminating) {
  if (!podIPv4(pod) || u.isTerminal(pod)) return false;
  if (!includeTerminating && pod.metadata.deletionTimestamp) return false;
  return true;
}

function selectsPods(svc) {
  return svc && svc.spec && svc.spec.selector && Object.keys(svc.spec.selector).length > 0 && svc.spec.type !== 'ExternalName';
}

function serviceLabels(svc) {
  const labels = { ...(svc.metadata.labels || {}) };
  if (svc.spec.clusterIP === 'None') labels[HEADLESS] = '';
  return labels;
}

// Pods of the service with the ports each resolves to.
function servicePods(store, podsRes, svc) {
  const out = [];
  for (const pod of store.list(podsRes, svc.metadata.namespace).items) {
    if (!u.labelsMatch(svc.spec.selector, pod.metadata.labels)) continue;
    const ports = [];
    for (const sp of svc.spec.ports || []) {
      const port = findPort(pod, sp);
      if (port === null) continue;
      const p = { port, protocol: sp.protocol || 'TCP' };
      if (sp.name) p.name = sp.name;
      if (sp.appProtocol) p.appProtocol = sp.appProtocol;
      ports.push(p);
    }
    if (svc.spec.ports && svc.spec.ports.length && !ports.length) continue;
    const hostname = pod.spec.hostname && pod.spec.subdomain === svc.metadata.name ? pod.spec.hostname : undefined;
    out.push({ pod, ports, hostname });
  }
  return out;
}

function targetRef(pod) {
  return { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid };
}

const sortPorts = (ports) => [...ports].sort((a, b) => (a.name || '').localeCompare(b.name || '') || a.port - b.port);

class ServiceWatcher extends Controller {
  constructor(ctx, name) {
    super(ctx, name);
    this.svc = this.res('services');
    this.pods = this.res('pods');
  }

  allKeys() { return this.store.list(this.svc, null).items.map((o) => `${o.metadata.namespace}/${o.metadata.name}`); }

  onEvent({ res, object, old }) {
    const ns = object.metadata.namespace;
    if (sameRes(res, this.svc)) { this.queue.add(`${ns}/${object.metadata.name}`); return; }
    if (sameRes(res, this.pods)) {
      for (const svc of this.store.list(this.svc, ns).items) {
        if (!selectsPods(svc)) continue;
        if (u.labelsMatch(svc.spec.selector, object.metadata.labels)
          || (old && u.labelsMatch(svc.spec.selector, old.metadata.labels))) this.queue.add(`${ns}/${svc.metadata.name}`);
      }
      return;
    }
    this.onOwnEvent(res, object);
  }
}

class EndpointsController extends ServiceWatcher {
  constructor(ctx) {
    super(ctx, 'endpoints');
    this.ep = this.res('endpoints');
  }

  onOwnEvent(res, object) {
    if (sameRes(res, this.ep)) this.queue.add(`${object.metadata.namespace}/${object.metadata.name}`);
  }

  sync(key) {
    const [ns, name] = splitKey(key);
    const svc = this.store.tryGet(this.svc, ns, name);
    const existing = this.store.tryGet(this.ep, ns, name);
    if (!svc) {
      // Only Endpoints this controller made go with their service.
      if (existing && (existing.metadata.labels || {})[MANAGED_BY] === undefined && existing.metadata.annotations
        && existing.metadata.annotations['endpoints.kubernetes.io/last-change-trigger-time'] !== undefined) {
        try { this.store.delete(this.ep, ns, name); } catch (e) { if (e.code !== 404) throw e; }
      }
      return;
    }
    if (!selectsPods(svc)) return;
    const tolerate = !!svc.spec.publishNotReadyAddresses;
    const groups = new Map(); // port-set key -> subset
    for (const { pod, ports, hostname } of servicePods(this.store, this.pods, svc)) {
      if (!shouldInclude(pod, tolerate)) continue;
      const addr = { ip: podIPv4(pod), nodeName: pod.spec.nodeName, targetRef: targetRef(pod) };
      if (hostname) addr.hostname = hostname;
      if (!addr.nodeName) delete addr.nodeName;
      const sorted = sortPorts(ports);
      const k = JSON.stringify(sorted);
      if (!groups.has(k)) groups.set(k, { addresses: [], notReadyAddresses: [], ports: sorted });
      const g = groups.get(k);
      if (tolerate || u.isPodReady(pod)) g.addresses.push(addr);
      else g.notReadyAddresses.push(addr);
    }
    const subsets = [...groups.values()].map((g) => {
      const sub = {};
      const byIP = (a, b) => a.ip.localeCompare(b.ip) || a.targetRef.name.localeCompare(b.targetRef.name);
      if (g.addresses.length) sub.addresses = g.addresses.sort(byIP);
      if (g.notReadyAddresses.length) sub.notReadyAddresses = g.notReadyAddresses.sort(byIP);
      if (g.ports.length) sub.ports = g.ports;
      return sub;
    }).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    const labels = serviceLabels(svc);
    if (existing && u.deepEqual(existing.subsets || [], subsets) && u.deepEqual(existing.metadata.labels || {}, labels)) return;
    const ep = existing || { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace: ns } };
    ep.metadata.labels = labels;
    ep.metadata.annotations = { ...(ep.metadata.annotations || {}), 'endpoints.kubernetes.io/last-change-trigger-time': this.nowISO() };
    if (subsets.length) ep.subsets = subsets;
    else delete ep.subsets;
    if (existing) this.store.update(this.ep, ep);
    else this.store.create(this.ep, ep);
  }
}

class EndpointSliceController extends ServiceWatcher {
  constructor(ctx) {
    super(ctx, 'endpointslice');
    this.slices = this.res('endpointslices', 'discovery.k8s.io');
  }

  onOwnEvent(res, object) {
    if (!sameRes(res, this.slices)) return;
    const svc = (object.metadata.labels || {})[SERVICE_NAME];
    if (svc) this.queue.add(`${object.metadata.namespace}/${svc}`);
  }

  sync(key) {
    const [ns, name] = splitKey(key);
    const svc = this.store.tryGet(this.svc, ns, name);
    const mine = this.store.list(this.slices, ns).items.filter((s) => (s.metadata.labels || {})[SERVICE_NAME] === name
      && (s.metadata.labels || {})[MANAGED_BY] === MANAGER && !s.metadata.deletionTimestamp);
    if (!svc || !selectsPods(svc)) {
      for (const s of mine) this.remove(s);
      return;
    }
    const groups = new Map();
    for (const { pod, ports, hostname } of servicePods(this.store, this.pods, svc)) {
      if (!shouldInclude(pod, true)) continue;
      const serving = u.isPodReady(pod);
      const terminating = !!pod.metadata.deletionTimestamp;
      const ep = {
        addresses: [podIPv4(pod)],
        conditions: { ready: !!svc.spec.publishNotReadyAddresses || (serving && !terminating), serving, terminating },
        targetRef: targetRef(pod),
      };
      if (hostname) ep.hostname = hostname;
      if (pod.spec.nodeName) ep.nodeName = pod.spec.nodeName;
      const sorted = sortPorts(ports);
      const k = JSON.stringify(sorted);
      if (!groups.has(k)) groups.set(k, { ports: sorted, endpoints: [] });
      groups.get(k).endpoints.push(ep);
    }
    if (!groups.size) groups.set('[]', { ports: [], endpoints: [] }); // the placeholder slice
    const labels = { ...serviceLabels(svc), [SERVICE_NAME]: name, [MANAGED_BY]: MANAGER };
    const unused = [...mine];
    for (const [k, g] of groups) {
      g.endpoints.sort((a, b) => a.targetRef.name.localeCompare(b.targetRef.name));
      let i = unused.findIndex((s) => JSON.stringify(sortPorts(s.ports || [])) === k);
      if (i < 0 && unused.length > groups.size - 1) i = 0;
      const slice = i >= 0 ? unused.splice(i, 1)[0] : null;
      const body = { addressType: 'IPv4', endpoints: g.endpoints, ports: g.ports };
      if (slice) {
        if (u.deepEqual({ addressType: slice.addressType, endpoints: slice.endpoints || [], ports: slice.ports || [] }, body)
          && u.deepEqual(slice.metadata.labels || {}, labels)) continue;
        Object.assign(slice, body);
        slice.metadata.labels = labels;
        this.store.update(this.slices, slice);
      } else {
        this.store.create(this.slices, {
          apiVersion: 'discovery.k8s.io/v1',
          kind: 'EndpointSlice',
          metadata: { generateName: `${name}-`, namespace: ns, labels, ownerReferences: [u.newControllerRef(svc)] },
          ...body,
        });
      }
    }
    for (const s of unused) this.remove(s);
  }

  remove(slice) {
    try { this.store.delete(this.slices, slice.metadata.namespace, slice.metadata.name); } catch (e) { if (e.code !== 404) throw e; }
  }
}

module.exports = { EndpointsController, EndpointSliceController, findPort };
