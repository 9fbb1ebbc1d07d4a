'use strict';
// The cluster network: one network namespace `${prefix}-cluster` holding a
// bridge (the "node"), one namespace per pod, cluster DNS (dnsmasq) and
// Service ClusterIPs (nftables DNAT, as kube-proxy does). The host's own
// network stack is never touched: every interface, address, route and rule
// lives in namespaces made here.
//
// Pods get a /32 address and a default route via the bridge address, so all
// traffic between pods is routed (not bridged) through the cluster namespace,
// as with a routed CNI plugin. That keeps source addresses intact for
// NetworkPolicy and lets conntrack undo a Service DNAT on the reply without
// masquerading (masquerade is needed only for a pod reaching itself).

const fs = require('fs');
const path = require('path');
const { execFile, spawn } = require('child_process');

const IP = '/usr/sbin/ip';
const NFT = '/usr/sbin/nft';
const DNSMASQ = '/usr/sbin/dnsmasq';
const NSENTER = '/usr/bin/nsenter';
const UNSHARE = '/usr/bin/unshare';

const POD_CIDR_BASE = ipToInt('10.244.0.0');
const BRIDGE_IP = '10.244.0.1';
const SERVICE_CIDR_BASE = ipToInt('10.96.0.0');
const SERVICE_CIDR_SIZE = 1 << 16;
// 10.96.0.1 is the `kubernetes` Service and 10.96.0.10 kube-dns in a real
// cluster: never handed out by allocateClusterIP.
const RESERVED_CLUSTER_IPS = ['10.96.0.1', '10.96.0.10'];
const CLUSTER_DOMAIN = 'cluster.local';

function ipToInt(ip) {
  return ip.split('.').reduce((a, o) => (a * 256) + Number(o), 0);
}
function intToIp(n) {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

// Runs a command; resolves {stdout, stderr}; rejects with an Error naming the
// command and its stderr (unless allowFail, which resolves {code, ...}).
function run(cmd, args, { input, allowFail = false, timeoutMs = 30000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      if (err && !allowFail) {
        reject(new Error(`${cmd} ${args.join(' ')} failed (${err.code ?? err.signal}): ${String(stderr).trim() || err.message}`));
        return;
      }
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
    if (input !== undefined) {
      child.stdin.on('error', () => { /* it exited without reading: its status says why */ });
      child.stdin.end(input);
    }
  });
}

// A file-system-safe, readable form of a pod key ("ns/name" -> "ns_name").
function safeName(podKey) {
  return String(podKey).replace(/[^A-Za-z0-9_.-]/g, '_');
}

function alive(pid) {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

// Every PID inside network namespace `name` (`ip netns pids`).
async function netnsPids(name) {
  const r = await run(IP, ['netns', 'pids', name], { allowFail: true });
  return r.code === 0 ? r.stdout.split(/\s+/).filter(Boolean).map(Number) : [];
}

// SIGKILLs every process in netns `name` and waits until they are gone.
async function killNetnsProcesses(name, { timeoutMs = 10000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pids = (await netnsPids(name)).filter((p) => p !== process.pid);
    if (pids.length === 0) return;
    for (const p of pids) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }
    if (Date.now() > deadline) throw new Error(`processes ${pids.join(',')} in netns ${name} do not die`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

class Network {
  constructor({ stateDir, prefix }) {
    if (!stateDir || !prefix) throw new Error('Network needs {stateDir, prefix}');
    if (!/^[A-Za-z0-9][A-Za-z0-9-]{0,30}$/.test(prefix)) throw new Error(`bad network prefix "${prefix}"`);
    this.stateDir = path.resolve(stateDir);
    this.prefix = prefix;
    this.clusterNetns = `${prefix}-cluster`;
    this.bridge = 'br0';
    this.bridgeIp = BRIDGE_IP;
    this.dnsIp = BRIDGE_IP;
    this.dir = path.join(this.stateDir, 'network');
    this.hostsPath = path.join(this.dir, 'dns-hosts');
    this.pods = new Map(); // podKey -> {netns, ip, veth, index, hostsFile, resolvFile, dir}
    this.dnsmasq = null;
  }

  // --- cluster namespace -------------------------------------------------

  async up() {
    await this.down();
    fs.mkdirSync(this.dir, { recursive: true });
    const ns = this.clusterNetns;
    await run(IP, ['netns', 'add', ns]);
    const nsIp = (...a) => run(IP, ['-n', ns, ...a]);
    await nsIp('link', 'set', 'lo', 'up');
    await nsIp('link', 'add', this.bridge, 'type', 'bridge');
    await nsIp('addr', 'add', `${BRIDGE_IP}/16`, 'dev', this.bridge);
    await nsIp('link', 'set', this.bridge, 'up');
    // The node itself (kube-sim run) reaches ClusterIPs too: a route makes the
    // first lookup succeed, then the nat output chain rewrites the destination
    // to an endpoint, as kube-proxy's rules do on a real node.
    await nsIp('route', 'add', '10.96.0.0/16', 'dev', this.bridge);
    await this.sysctl(ns, {
      'net.ipv4.ip_forward': 1,
      // Pods talk to each other through the bridge address on the same
      // interface: no ICMP redirects (they would point pods at each other).
      'net.ipv4.conf.all.send_redirects': 0,
      'net.ipv4.conf.default.send_redirects': 0,
      [`net.ipv4.conf.${this.bridge}.send_redirects`]: 0,
    });
    // With br_netfilter loaded, routed frames leaving the bridge would pass
    // the IP hooks a second time and a pod's own ClusterIP reply is lost:
    // this bridge only carries routed traffic, so keep netfilter off it.
    await this.sysctl(ns, { 'net.bridge.bridge-nf-call-iptables': 0, 'net.bridge.bridge-nf-call-ip6tables': 0 }, { optional: true });
    fs.writeFileSync(this.hostsPath, '', { mode: 0o644 });
    await this.setServices([]);
    await this.startDns();
  }

  async sysctl(ns, settings, { optional = false } = {}) {
    for (const [k, v] of Object.entries(settings)) {
      await run(IP, ['netns', 'exec', ns, 'sysctl', '-q', '-w', `${k}=${v}`], { allowFail: optional });
    }
  }

  // Removes every namespace (and so every veth) with this prefix, the DNS
  // server and anything still running in those namespaces, including what a
  // crashed earlier run left. Idempotent.
  async down() {
    this.stopDns();
    const pidFile = path.join(this.dir, 'dnsmasq.pid');
    if (fs.existsSync(pidFile)) {
      const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
      if (pid > 0 && isOurDnsmasq(pid, this.hostsPath)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
      fs.rmSync(pidFile, { force: true });
    }
    const list = await run(IP, ['netns', 'list'], { allowFail: true });
    const names = list.stdout.split('\n').map((l) => l.split(' ')[0]).filter((n) => n.startsWith(`${this.prefix}-`));
    for (const name of names) {
      await killNetnsProcesses(name);
      await run(IP, ['netns', 'del', name], { allowFail: true });
    }
    this.pods.clear();
  }

  // --- DNS -----------------------------------------------------------------

  async startDns() {
    const logPath = path.join(this.dir, 'dnsmasq.log');
    const pidFile = path.join(this.dir, 'dnsmasq.pid');
    const args = [
      'netns', 'exec', this.clusterNetns, DNSMASQ,
      '--keep-in-foreground', '--conf-file=/dev/null',
      '--no-resolv', '--no-hosts', '--no-poll', `--addn-hosts=${this.hostsPath}`,
      `--listen-address=${BRIDGE_IP}`, '--bind-interfaces',
      '--user=root', '--group=root', `--pid-file=${pidFile}`,
      // Authoritative for the cluster zone; NXDOMAIN for every other name,
      // never forwarded anywhere.
      `--local=/${CLUSTER_DOMAIN}/`, '--address=/#/',
      '--cache-size=0', `--log-facility=${logPath}`,
    ];
    const child = spawn(IP, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    this.dnsmasq = child;
    const exited = new Promise((resolve) => child.on('exit', resolve));
    // Ready once it answers: poll for its socket through a query.
    const deadline = Date.now() + 10000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`dnsmasq exited (${child.exitCode}): ${stderr.trim()}`);
      if (await this.dnsAnswers()) break;
      if (Date.now() > deadline) throw new Error(`dnsmasq did not start: ${stderr.trim()}`);
      await Promise.race([exited, new Promise((r) => setTimeout(r, 50))]);
    }
    child.unref();
    child.stderr.unref?.();
  }

  async dnsAnswers() {
    const r = await run(NSENTER, [`--net=/run/netns/${this.clusterNetns}`, 'bash', '-c',
      `exec 3<>/dev/tcp/${BRIDGE_IP}/53`], { allowFail: true });
    return r.code === 0;
  }

  stopDns() {
    if (this.dnsmasq && this.dnsmasq.exitCode === null) {
      try { process.kill(this.dnsmasq.pid, 'SIGKILL'); } catch { /* gone */ }
    }
    this.dnsmasq = null;
  }

  // records: [{name, ip}] — fully qualified names; a name may repeat (several
  // A records, as for a headless Service).
  async setRecords(records) {
    const lines = records.map((r) => `${r.ip} ${r.name}`).join('\n');
    const tmp = `${this.hostsPath}.tmp`;
    fs.writeFileSync(tmp, lines ? `${lines}\n` : '', { mode: 0o644 });
    fs.renameSync(tmp, this.hostsPath);
    if (this.dnsmasq && this.dnsmasq.exitCode === null) process.kill(this.dnsmasq.pid, 'SIGHUP');
  }

  // --- pods ------------------------------------------------------------------

  allocatePodIp() {
    const used = new Set([...this.pods.values()].map((p) => p.ipInt));
    for (let n = POD_CIDR_BASE + 2; n < POD_CIDR_BASE + 65535; n++) {
      if (!used.has(n)) return n;
    }
    throw new Error('pod network 10.244.0.0/16 is full');
  }

  // opts: {hostname, subdomain, namespace, hostAliases:[{ip, hostnames}]}
  // (defaults from the key "ns/name"). Resolves {netns, ip, hostsFile,
  // resolvFile}.
  async addPod(podKey, opts = {}) {
    if (this.pods.has(podKey)) throw new Error(`pod ${podKey} already has a network`);
    const [defNs, defName] = String(podKey).includes('/') ? podKey.split('/') : ['default', podKey];
    const namespace = opts.namespace || defNs;
    const hostname = opts.hostname || defName;
    const ipInt = this.allocatePodIp();
    const ip = intToIp(ipInt);
    const index = ipInt - POD_CIDR_BASE;
    const netns = `${this.prefix}-pod-${safeName(podKey)}`.slice(0, 200);
    const veth = `veth${index}`;
    const entry = { podKey, netns, ip, ipInt, veth, index };
    this.pods.set(podKey, entry); // reserve the address while setting up
    try {
      await run(IP, ['netns', 'add', netns]);
      await run(IP, ['-n', netns, 'link', 'set', 'lo', 'up']);
      await run(IP, ['-n', this.clusterNetns, 'link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
      await run(IP, ['-n', this.clusterNetns, 'link', 'set', veth, 'master', this.bridge]);
      await run(IP, ['-n', this.clusterNetns, 'link', 'set', veth, 'up']);
      await run(IP, ['-n', netns, 'addr', 'add', `${ip}/32`, 'dev', 'eth0']);
      await run(IP, ['-n', netns, 'link', 'set', 'eth0', 'up']);
      await run(IP, ['-n', netns, 'route', 'add', BRIDGE_IP, 'dev', 'eth0', 'scope', 'link']);
      await run(IP, ['-n', netns, 'route', 'add', 'default', 'via', BRIDGE_IP, 'dev', 'eth0']);
    } catch (e) {
      await run(IP, ['netns', 'del', netns], { allowFail: true });
      this.pods.delete(podKey);
      throw e;
    }
    entry.dir = path.join(this.dir, 'pods', safeName(podKey));
    fs.mkdirSync(entry.dir, { recursive: true });
    entry.hostsFile = path.join(entry.dir, 'hosts');
    entry.resolvFile = path.join(entry.dir, 'resolv.conf');
    fs.writeFileSync(entry.hostsFile, podHostsFile({ ip, hostname, subdomain: opts.subdomain, namespace, hostAliases: opts.hostAliases }), { mode: 0o644 });
    fs.writeFileSync(entry.resolvFile, podResolvConf({ namespace, nameserver: this.dnsIp }), { mode: 0o644 });
    entry.ready = true;
    return { netns, ip, hostsFile: entry.hostsFile, resolvFile: entry.resolvFile };
  }

  // The pod's network once addPod() has finished, else null.
  podNetwork(podKey) {
    const p = this.pods.get(podKey);
    return p && p.ready ? { netns: p.netns, ip: p.ip, hostsFile: p.hostsFile, resolvFile: p.resolvFile } : null;
  }

  // Kills whatever still runs in the pod's namespace, then deletes it (its
  // veth goes with it) and frees the address.
  async removePod(podKey) {
    const p = this.pods.get(podKey);
    if (!p) return;
    await killNetnsProcesses(p.netns);
    await run(IP, ['netns', 'del', p.netns], { allowFail: true });
    if (p.dir) fs.rmSync(p.dir, { recursive: true, force: true });
    this.pods.delete(podKey);
  }

  // Cuts the pod off the network (loopback keeps working) until heal().
  async partition(podKey) {
    const p = this.mustPod(podKey);
    const text = [
      'table inet kubesim_partition', 'delete table inet kubesim_partition',
      'table inet kubesim_partition {',
      '  chain in { type filter hook input priority -10; policy drop; iif "lo" accept; }',
      '  chain out { type filter hook output priority -10; policy drop; oif "lo" accept; }',
      '}', ''].join('\n');
    await run(IP, ['netns', 'exec', p.netns, NFT, '-f', '-'], { input: text });
  }

  async heal(podKey) {
    const p = this.mustPod(podKey);
    await run(IP, ['netns', 'exec', p.netns, NFT, 'delete', 'table', 'inet', 'kubesim_partition'], { allowFail: true });
  }

  mustPod(podKey) {
    const p = this.pods.get(podKey);
    if (!p) throw new Error(`pod ${podKey} has no network`);
    return p;
  }

  // Runs argv inside the cluster namespace (the "node": it reaches every pod
  // and ClusterIP) with /etc/resolv.conf pointing at the cluster DNS, in a
  // private mount namespace so the host's files are never changed. Works from
  // any process with the same stateDir/prefix once up() ran.
  // opts: {env, stdio ('pipe' | 'inherit' | array), input, timeoutMs, namespace}
  // Resolves {exitCode, signal, stdout, stderr} (outputs only with 'pipe').
  runIn(argv, { env = process.env, stdio = 'pipe', input, timeoutMs, namespace = 'default' } = {}) {
    if (!Array.isArray(argv) || argv.length === 0) throw new Error('runIn needs an argv');
    fs.mkdirSync(this.dir, { recursive: true });
    const resolv = path.join(this.dir, `run-resolv-${safeName(namespace)}.conf`);
    fs.writeFileSync(resolv, podResolvConf({ namespace, nameserver: this.dnsIp }), { mode: 0o644 });
    const script = 'mount --bind "$0" /etc/resolv.conf && shift && exec "$@"';
    const args = [`--net=/run/netns/${this.clusterNetns}`, UNSHARE, '--mount', '--propagation', 'private',
      '/bin/sh', '-c', script, resolv, 'run', ...argv];
    const child = spawn(NSENTER, args, { env, stdio, detached: stdio === 'pipe' });
    let stdout = '';
    let stderr = '';
    if (child.stdout) child.stdout.on('data', (d) => { stdout += d; });
    if (child.stderr) child.stderr.on('data', (d) => { stderr += d; });
    if (child.stdin) child.stdin.end(input ?? '');
    let timer = null;
    if (timeoutMs) {
      timer = setTimeout(() => { try { process.kill(stdio === 'pipe' ? -child.pid : child.pid, 'SIGKILL'); } catch { /* gone */ } }, timeoutMs);
    }
    return new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code, signal) => {
        if (timer) clearTimeout(timer);
        resolve({ exitCode: code, signal, stdout, stderr });
      });
    });
  }

  // --- Services --------------------------------------------------------------

  // services: [{clusterIP, ports: [{port, protocol, targetPort}],
  //   endpoints: [ip | {ip, ports?: {<targetPort or port name>: number}}]}]
  // Replaces every Service rule at once. A port whose targetPort is a name is
  // resolved per endpoint through endpoint.ports[name] (endpoints without it
  // are left out, as kube-proxy does).
  async setServices(services) {
    const text = servicesRuleset(services);
    await run(IP, ['netns', 'exec', this.clusterNetns, NFT, '-f', '-'], { input: text });
  }
}

function isOurDnsmasq(pid, hostsPath) {
  try {
    const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmd.includes('dnsmasq') && cmd.includes(hostsPath);
  } catch { return false; }
}

function podHostsFile({ ip, hostname, subdomain, namespace, hostAliases = [] }) {
  const lines = [
    '# Kubernetes-managed hosts file.',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'fe00::0\tip6-mcastprefix',
    'fe00::1\tip6-allnodes',
    'fe00::2\tip6-allrouters',
  ];
  lines.push(subdomain
    ? `${ip}\t${hostname}.${subdomain}.${namespace}.svc.${CLUSTER_DOMAIN}\t${hostname}`
    : `${ip}\t${hostname}`);
  if (hostAliases.length) {
    lines.push('', '# Entries added by HostAliases.');
    for (const a of hostAliases) lines.push(`${a.ip}\t${(a.hostnames || []).join('\t')}`);
  }
  return `${lines.join('\n')}\n`;
}

function podResolvConf({ namespace, nameserver }) {
  return [
    `search ${namespace}.svc.${CLUSTER_DOMAIN} svc.${CLUSTER_DOMAIN} ${CLUSTER_DOMAIN}`,
    `nameserver ${nameserver}`,
    'options ndots:5',
    '',
  ].join('\n');
}

function servicesRuleset(services) {
  const out = ['table ip kubesim_services', 'delete table ip kubesim_services', 'table ip kubesim_services {'];
  const dispatch = [];
  const hairpin = new Set();
  services.forEach((svc, si) => {
    if (!svc.clusterIP || svc.clusterIP === 'None') return;
    (svc.ports || []).forEach((p, pi) => {
      const proto = String(p.protocol || 'TCP').toLowerCase();
      const targets = [];
      for (const ep of svc.endpoints || []) {
        const epIp = typeof ep === 'string' ? ep : ep.ip;
        let port = p.targetPort ?? p.port;
        if (typeof port === 'string' && !/^\d+$/.test(port)) port = ep && ep.ports ? ep.ports[port] : undefined;
        if (port === undefined || port === null) continue;
        targets.push({ ip: epIp, port: Number(port) });
        hairpin.add(epIp);
      }
      if (targets.length === 0) return;
      const chain = `svc-${si}-${pi}`;
      dispatch.push(`    ip daddr ${svc.clusterIP} ${proto} dport ${Number(p.port)} jump ${chain}`);
      const vmap = targets.map((t, i) => `${i} : jump ${chain}-ep${i}`).join(', ');
      out.push(`  chain ${chain} {`, `    numgen random mod ${targets.length} vmap { ${vmap} }`, '  }');
      targets.forEach((t, i) => {
        out.push(`  chain ${chain}-ep${i} {`, `    meta l4proto ${proto} dnat to ${t.ip}:${t.port}`, '  }');
      });
    });
  });
  out.push('  chain services {', ...dispatch, '  }');
  out.push('  chain prerouting { type nat hook prerouting priority dstnat; policy accept; jump services; }');
  out.push('  chain output { type nat hook output priority -100; policy accept; jump services; }');
  const masq = [...hairpin].map((ip) => `    ip saddr ${ip} ip daddr ${ip} ct status dnat masquerade`);
  out.push('  chain postrouting {', '    type nat hook postrouting priority srcnat; policy accept;', ...masq, '  }');
  out.push('}', '');
  return out.join('\n');
}

// Lowest free address of 10.96.0.0/16 not in `used` (an iterable of IPs),
// skipping the reserved ones (10.96.0.1, 10.96.0.10).
function allocateClusterIP(used = []) {
  const taken = new Set([...used, ...RESERVED_CLUSTER_IPS]);
  for (let n = SERVICE_CIDR_BASE + 1; n < SERVICE_CIDR_BASE + SERVICE_CIDR_SIZE - 1; n++) {
    const ip = intToIp(n);
    if (!taken.has(ip)) return ip;
  }
  throw new Error('service network 10.96.0.0/16 is full');
}

module.exports = {
  Network,
  allocateClusterIP,
  podHostsFile,
  podResolvConf,
  servicesRuleset,
  run,
  safeName,
  alive,
  netnsPids,
  killNetnsProcesses,
  BRIDGE_IP,
  DNS_IP: BRIDGE_IP,
  CLUSTER_DOMAIN,
  RESERVED_CLUSTER_IPS,
};
