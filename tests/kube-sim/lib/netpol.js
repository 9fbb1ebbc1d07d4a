'use strict';
// NetworkPolicy enforcement: the policies that select a pod compiled to an
// nftables table in the pod's own network namespace (input = ingress, output
// = egress), as a CNI plugin enforces them at the pod's interface.
//
// Semantics (networking.k8s.io/v1): a pod is isolated for a direction when a
// policy of its namespace selects it with that policyType (Ingress always
// unless policyTypes says otherwise; Egress when listed or when the policy has
// egress rules); then only what some rule allows passes. Established and
// related traffic always passes; so does loopback, and ingress from the node
// (the bridge address, where kubelet probes come from), as with common
// plugins. DNS is ordinary egress to UDP/TCP 53: the cluster DNS is modelled
// as a pod {namespace kube-system, labels k8s-app=kube-dns} at its address, so
// the usual "allow DNS to kube-dns" policies match it.

const { labelSelectorFromObject } = require('./selectors');
const { run, BRIDGE_IP, DNS_IP } = require('./network');
const { resolvePort } = require('./ports');

const IP = '/usr/sbin/ip';
const NFT = '/usr/sbin/nft';
const TABLE = 'kubesim_netpol';

function nsLabels(namespaces, name) {
  const ns = namespaces instanceof Map ? namespaces.get(name) : (namespaces || {})[name];
  const labels = (ns && ns.metadata ? ns.metadata.labels : ns) || {};
  return { 'kubernetes.io/metadata.name': name, ...labels };
}

function selects(policy, pod) {
  return policy.metadata.namespace === pod.metadata.namespace
    && labelSelectorFromObject(policy.spec.podSelector || {})(pod.metadata.labels || {});
}

function policyTypes(policy) {
  const t = policy.spec.policyTypes;
  if (t && t.length) return t;
  return policy.spec.egress && policy.spec.egress.length ? ['Ingress', 'Egress'] : ['Ingress'];
}

// Peers of a rule -> {all: true} or {ips: [...], cidrs: [{cidr, except}]}.
function resolvePeers(peers, policyNs, ctx) {
  if (!peers || peers.length === 0) return { all: true };
  const ips = new Map(); // ip -> pod
  const cidrs = [];
  for (const peer of peers) {
    if (peer.ipBlock) { cidrs.push({ cidr: peer.ipBlock.cidr, except: peer.ipBlock.except || [] }); continue; }
    const podSel = peer.podSelector ? labelSelectorFromObject(peer.podSelector) : () => true;
    const nsSel = peer.namespaceSelector ? labelSelectorFromObject(peer.namespaceSelector) : null;
    for (const [ip, p] of ctx.pods) {
      const ns = p.metadata.namespace;
      const nsOk = nsSel ? nsSel(nsLabels(ctx.namespaces, ns)) : ns === policyNs;
      if (nsOk && podSel(p.metadata.labels || {})) ips.set(ip, p);
    }
  }
  return { ips, cidrs };
}

// A rule's ports for one destination pod -> [{proto, port, endPort}] or null
// for "every port". Named ports resolve against `dstPod`'s container ports.
function resolvePorts(ports, dstPod) {
  if (!ports || ports.length === 0) return null;
  const out = [];
  for (const p of ports) {
    const proto = (p.protocol || 'TCP').toLowerCase();
    if (p.port === undefined || p.port === null) { out.push({ proto }); continue; }
    if (typeof p.port === 'string' && !/^\d+$/.test(p.port)) {
      const named = resolvePort((dstPod && dstPod.spec && dstPod.spec.containers) || [], p.port, proto);
      if (!Number.isNaN(named)) out.push({ proto, port: named });
      continue;
    }
    out.push({ proto, port: Number(p.port), endPort: p.endPort });
  }
  return out;
}

function portMatch(pp) {
  if (!pp.port) return `meta l4proto ${pp.proto}`;
  const range = pp.endPort ? `${pp.port}-${pp.endPort}` : `${pp.port}`;
  return `${pp.proto} dport ${range}`;
}

// dir 'ip saddr' (ingress) or 'ip daddr' (egress).
function ruleLines(dir, peers, ports, ctx, selfPod) {
  const lines = [];
  const emit = (addrMatch, pp) => {
    if (pp === null) lines.push(`${addrMatch} accept`.trim());
    else if (pp.length) for (const x of pp) lines.push(`${addrMatch} ${portMatch(x)} accept`.trim());
  };
  const isIngress = dir === 'ip saddr';
  if (peers.all) {
    if (isIngress) emit('', resolvePorts(ports, selfPod));
    else if (!ports || ports.every((p) => typeof p.port !== 'string' || /^\d+$/.test(p.port))) emit('', resolvePorts(ports, null));
    else for (const [ip, p] of ctx.pods) emit(`ip daddr ${ip}`, resolvePorts(ports, p));
    return lines;
  }
  for (const [ip, p] of peers.ips) emit(`${dir} ${ip}`, resolvePorts(ports, isIngress ? selfPod : p));
  for (const c of peers.cidrs) {
    const except = c.except.length ? ` ${dir} != { ${c.except.join(', ')} }` : '';
    emit(`${dir} ${c.cidr}${except}`, resolvePorts(ports, isIngress ? selfPod : null));
  }
  return lines;
}

// Egress to a Service's ClusterIP is judged on the endpoint it leads to: a
// rule allowing endpoint ip:targetPort also allows clusterIP:port.
function serviceLines(allowLines, services) {
  const out = [];
  for (const svc of services || []) {
    for (const p of svc.ports || []) {
      const proto = String(p.protocol || 'TCP').toLowerCase();
      for (const ep of svc.endpoints || []) {
        const epIp = typeof ep === 'string' ? ep : ep.ip;
        const target = Number(p.targetPort ?? p.port);
        if (allowLines.some((l) => allowsEndpoint(l, epIp, proto, target))) {
          out.push(`ip daddr ${svc.clusterIP} ${proto} dport ${Number(p.port)} accept`);
          break;
        }
      }
    }
  }
  return out;
}
function allowsEndpoint(line, ip, proto, port) {
  const m = /^(?:ip daddr (\S+)(?: ip daddr != \{[^}]*\})? ?)?(?:(tcp|udp|sctp) dport (\d+)(?:-(\d+))?|meta l4proto (\S+))? ?accept$/.exec(line);
  if (!m) return false;
  if (m[1] && !(m[1] === ip || inCidr(ip, m[1]))) return false;
  if (m[2]) return m[2] === proto && port >= Number(m[3]) && port <= Number(m[4] || m[3]);
  if (m[5]) return m[5] === proto;
  return true;
}
function inCidr(ip, cidr) {
  if (!cidr.includes('/')) return false;
  const [base, bits] = cidr.split('/');
  const toInt = (a) => a.split('.').reduce((x, o) => (x * 256) + Number(o), 0);
  const mask = Number(bits) === 0 ? 0 : (0xffffffff << (32 - Number(bits))) >>> 0;
  return ((toInt(ip) & mask) >>> 0) === ((toInt(base) & mask) >>> 0);
}

// policies: NetworkPolicy objects (any namespaces); pod: the Pod (with
// status.podIP); opts: {podsByIp: Map|object ip -> Pod, namespaces: Map|object
// name -> Namespace or labels, services: as Network#setServices, dns:
// {ip, namespace, labels} | false, nodeIp}. Returns the nft script text.
function compile(policies, pod, { podsByIp = {}, namespaces = {}, services = [], dns, nodeIp = BRIDGE_IP } = {}) {
  const pods = new Map(podsByIp instanceof Map ? podsByIp : Object.entries(podsByIp));
  const dnsPod = dns === false ? null : {
    metadata: { name: 'kube-dns', namespace: (dns && dns.namespace) || 'kube-system', labels: (dns && dns.labels) || { 'k8s-app': 'kube-dns' } },
    spec: { containers: [{ ports: [{ name: 'dns', containerPort: 53, protocol: 'UDP' }, { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' }] }] },
  };
  if (dnsPod && !pods.has((dns && dns.ip) || DNS_IP)) pods.set((dns && dns.ip) || DNS_IP, dnsPod);
  const ctx = { pods, namespaces };
  const selecting = (policies || []).filter((p) => selects(p, pod));
  const ingressPolicies = selecting.filter((p) => policyTypes(p).includes('Ingress'));
  const egressPolicies = selecting.filter((p) => policyTypes(p).includes('Egress'));

  const ingress = [];
  for (const p of ingressPolicies) {
    for (const rule of p.spec.ingress || []) {
      ingress.push(...ruleLines('ip saddr', resolvePeers(rule.from, p.metadata.namespace, ctx), rule.ports, ctx, pod));
    }
  }
  const egress = [];
  for (const p of egressPolicies) {
    for (const rule of p.spec.egress || []) {
      egress.push(...ruleLines('ip daddr', resolvePeers(rule.to, p.metadata.namespace, ctx), rule.ports, ctx, pod));
    }
  }
  egress.push(...serviceLines(egress, services));

  const out = [`table inet ${TABLE}`, `delete table inet ${TABLE}`, `table inet ${TABLE} {`];
  out.push('  chain ingress {', '    type filter hook input priority 0; policy accept;');
  if (ingressPolicies.length) {
    out.push('    ct state established,related accept', '    iif "lo" accept', `    ip saddr ${nodeIp} accept`);
    for (const l of uniq(ingress)) out.push(`    ${l}`);
    out.push('    drop');
  }
  out.push('  }', '  chain egress {', '    type filter hook output priority 0; policy accept;');
  if (egressPolicies.length) {
    out.push('    ct state established,related accept', '    oif "lo" accept');
    for (const l of uniq(egress)) out.push(`    ${l}`);
    out.push('    drop');
  }
  out.push('  }', '}', '');
  return out.join('\n');
}

function uniq(a) { return [...new Set(a)]; }

// Loads a compiled ruleset into network namespace `netns` in one nft
// transaction (the table is replaced whole).
async function apply(netns, text) {
  await run(IP, ['netns', 'exec', netns, NFT, '-f', '-'], { input: text });
}

// Removes the policy table (the pod is no longer selected by any policy).
async function clear(netns) {
  await run(IP, ['netns', 'exec', netns, NFT, 'delete', 'table', 'inet', TABLE], { allowFail: true });
}

module.exports = { compile, apply, clear, TABLE };
