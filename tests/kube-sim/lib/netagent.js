'use strict';
// The node's network agent: what kube-proxy, the cluster DNS and a
// policy-enforcing network plugin do on a real cluster, from the store's
// Services, Endpoints, Pods, Namespaces and NetworkPolicies:
// - DNS: `<svc>.<ns>.svc.cluster.local` (the ClusterIP, or for a headless
//   Service the addresses of its Endpoints) and
//   `<hostname>.<svc>.<ns>.svc.cluster.local` for endpoints with a hostname —
//   so a pod's name resolves once it is ready, or at once with
//   publishNotReadyAddresses (the Endpoints controller decides which);
// - ClusterIP:port -> a ready endpoint (DNAT in the cluster namespace);
// - NetworkPolicy rules loaded into each pod's namespace.
// Every change of those kinds schedules one recomputation of all three
// (coalesced), which is simple and fast enough for a test cluster. A new
// pod's network waits for one (syncNow) before its containers start, so its
// policies hold from its first instant.

const { CLUSTER_DOMAIN } = require('./network');

class NetAgent {
  constructor({ store, registry, network, netpol, podKeyOf, log }) {
    this.store = store;
    this.registry = registry;
    this.network = network;
    this.netpol = netpol;
    this.podKeyOf = podKeyOf;
    this.log = log || (() => {});
    this.kinds = new Set(['services', 'endpoints', 'pods', 'namespaces', 'networkpolicies']);
    this.pending = null;
    this.running = false;
    this.again = false;
    this.requested = 0; // syncNow() calls so far
    this.waiting = []; // {want, resolve}: resolved by a sync that began after call `want`
    this.applied = new Map(); // netns -> ruleset text last loaded
    this.lastRecords = '';
    this.lastServices = '';
    this.onEvent = ({ res }) => { if (res.group === '' || res.group === 'networking.k8s.io') if (this.kinds.has(res.plural)) this.schedule(); };
  }

  res(plural, group = '', version = 'v1') { return this.registry.byPlural(group, version, plural); }

  async start() {
    this.store.on('event', this.onEvent);
    await this.sync();
  }

  stop() {
    this.store.off('event', this.onEvent);
    if (this.pending) clearTimeout(this.pending);
    this.pending = null;
    for (const w of this.waiting.splice(0)) w.resolve();
  }

  // The kubelet awaits this once a pod's network exists, before its
  // containers start.
  podNetworkReady() { return this.syncNow(); }

  // Resolves once a recomputation that began after this call has been applied
  // (failures to load one pod's rules are logged; the next sync retries).
  syncNow() {
    const want = ++this.requested;
    if (this.pending) { clearTimeout(this.pending); this.pending = null; }
    const done = new Promise((resolve) => this.waiting.push({ want, resolve }));
    this.sync().catch((e) => this.log(`netagent: ${e.stack || e}`));
    return done;
  }

  schedule() {
    if (this.pending) return;
    this.pending = setTimeout(() => { this.pending = null; this.sync().catch((e) => this.log(`netagent: ${e.stack || e}`)); }, 20);
  }

  async sync() {
    if (this.running) { this.again = true; return; }
    this.running = true;
    try {
      do {
        this.again = false;
        const covers = this.requested;
        try {
          await this.syncOnce();
        } finally {
          const done = this.waiting.filter((w) => w.want <= covers);
          this.waiting = this.waiting.filter((w) => w.want > covers);
          for (const w of done) w.resolve();
        }
      } while (this.again);
    } finally {
      this.running = false;
    }
  }

  async syncOnce() {
    const services = this.store.list(this.res('services'), null).items;
    const endpoints = new Map(this.store.list(this.res('endpoints'), null).items
      .map((e) => [`${e.metadata.namespace}/${e.metadata.name}`, e]));
    const records = [];
    const rules = [];
    for (const svc of services) {
      const ns = svc.metadata.namespace;
      const fqdn = `${svc.metadata.name}.${ns}.svc.${CLUSTER_DOMAIN}`;
      const ep = endpoints.get(`${ns}/${svc.metadata.name}`);
      const addresses = [];
      for (const subset of (ep && ep.subsets) || []) {
        for (const a of subset.addresses || []) addresses.push({ a, ports: subset.ports || [] });
      }
      const headless = svc.spec.clusterIP === 'None';
      if (headless) {
        for (const { a } of addresses) records.push({ name: fqdn, ip: a.ip });
      } else if (svc.spec.clusterIP) {
        records.push({ name: fqdn, ip: svc.spec.clusterIP });
        rules.push({
          clusterIP: svc.spec.clusterIP,
          ports: (svc.spec.ports || []).map((p) => ({ port: p.port, protocol: p.protocol || 'TCP', targetPort: p.name || String(p.port) })),
          endpoints: addresses.map(({ a, ports }) => ({
            ip: a.ip,
            ports: Object.fromEntries((svc.spec.ports || []).map((sp) => {
              const match = ports.find((ep2) => (ep2.name || '') === (sp.name || '')) || (ports.length === 1 ? ports[0] : null);
              return [sp.name || String(sp.port), match ? match.port : undefined];
            })),
          })),
        });
      }
      for (const { a } of addresses) if (a.hostname) records.push({ name: `${a.hostname}.${fqdn}`, ip: a.ip });
    }
    records.sort((x, y) => x.name.localeCompare(y.name) || x.ip.localeCompare(y.ip));
    const recordText = JSON.stringify(records);
    if (recordText !== this.lastRecords) {
      await this.network.setRecords(records);
      this.lastRecords = recordText;
    }
    const serviceText = JSON.stringify(rules);
    if (serviceText !== this.lastServices) {
      await this.network.setServices(rules);
      this.lastServices = serviceText;
    }
    if (this.netpol) await this.syncPolicies(rules);
  }

  async syncPolicies(services) {
    const policies = this.store.list(this.res('networkpolicies', 'networking.k8s.io'), null).items;
    // A pod of this node has its address from the network at once; its
    // status may not say so yet.
    const pods = [];
    for (const p of this.store.list(this.res('pods'), null).items) {
      const net = this.network.podNetwork(this.podKeyOf(p));
      const ip = net ? net.ip : p.status && p.status.podIP;
      if (ip) pods.push(net && !(p.status && p.status.podIP === ip) ? { ...p, status: { ...(p.status || {}), podIP: ip } } : p);
    }
    const namespaces = new Map(this.store.list(this.res('namespaces'), null).items.map((n) => [n.metadata.name, n]));
    const podsByIp = new Map(pods.map((p) => [p.status.podIP, p]));
    for (const pod of pods) {
      const net = this.network.podNetwork(this.podKeyOf(pod));
      if (!net) continue;
      const text = this.netpol.compile(policies, pod, { podsByIp, namespaces, services });
      if (this.applied.get(net.netns) === text) continue;
      try {
        await this.netpol.apply(net.netns, text);
        this.applied.set(net.netns, text);
      } catch (err) {
        // The pod's namespace may be gone already; the next sync retries.
        this.log(`netagent: policy for ${pod.metadata.namespace}/${pod.metadata.name}: ${err.message}`);
      }
    }
    const live = new Set(pods.map((p) => (this.network.podNetwork(this.podKeyOf(p)) || {}).netns));
    for (const netns of this.applied.keys()) if (!live.has(netns)) this.applied.delete(netns);
  }
}

module.exports = { NetAgent };
