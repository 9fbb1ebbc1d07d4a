'use strict';
// A container's environment as the kubelet builds it: the service links of
// the namespace, envFrom, env (value, fieldRef, resourceFieldRef,
// configMapKeyRef, secretKeyRef) with $(VAR) expansion. The image's own
// variables come first and are the runtime's business, as is the expansion
// of command and args (from this environment).

const os = require('os');
const { parseQuantity } = require('./podstatus');

// A config problem that keeps the container from being created
// (CreateContainerConfigError), with the real kubelet's wording.
class ConfigError extends Error {}

// metadata.labels / annotations in the downward API's file format.
function formatMap(m) {
  return Object.keys(m || {}).sort().map((k) => `${k}=${JSON.stringify(m[k])}`).join('\n');
}

function fieldRefValue(pod, fieldPath) {
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (m) return ((pod.metadata[m[1]] || {})[m[2]]) || '';
  const st = pod.status || {};
  switch (fieldPath) {
    case 'metadata.name': return pod.metadata.name;
    case 'metadata.namespace': return pod.metadata.namespace;
    case 'metadata.uid': return pod.metadata.uid;
    case 'metadata.labels': return formatMap(pod.metadata.labels);
    case 'metadata.annotations': return formatMap(pod.metadata.annotations);
    case 'spec.nodeName': return pod.spec.nodeName || '';
    case 'spec.serviceAccountName': return pod.spec.serviceAccountName || 'default';
    case 'status.podIP': return st.podIP || '';
    case 'status.podIPs': return (st.podIPs || []).map((p) => p.ip).join(',');
    case 'status.hostIP': return st.hostIP || '';
    case 'status.hostIPs': return (st.hostIPs || []).map((p) => p.ip).join(',');
    default: throw new ConfigError(`unsupported fieldPath: ${fieldPath}`);
  }
}

// limits.cpu etc. Without a limit the node's allocatable is the answer, as on
// a real node; results are rounded up to whole divisors.
function resourceFieldValue(pod, ref) {
  const c = (pod.spec.containers || []).concat(pod.spec.initContainers || [])
    .find((x) => x.name === ref.containerName) || {};
  const [kind, res] = ref.resource.split('.');
  const spec = (c.resources && c.resources[kind]) || {};
  let v = spec[res] !== undefined ? parseQuantity(spec[res]) : undefined;
  if (v === undefined && kind === 'requests' && c.resources && c.resources.limits && c.resources.limits[res] !== undefined) v = parseQuantity(c.resources.limits[res]);
  if (v === undefined) {
    if (kind === 'requests') v = 0;
    else if (res === 'cpu') v = os.cpus().length;
    else if (res === 'memory') v = os.totalmem();
    else v = 0;
  }
  const divisor = ref.divisor ? parseQuantity(ref.divisor) : 1;
  return String(Math.ceil(v / divisor));
}

// Docker-link style variables of every service of the namespace (the kubelet
// adds those of the default namespace's "kubernetes" service always).
function serviceEnv(services, withLinks) {
  const env = {};
  for (const svc of services) {
    const isMaster = svc.metadata.namespace === 'default' && svc.metadata.name === 'kubernetes';
    if (!withLinks && !isMaster) continue;
    const ip = svc.spec && svc.spec.clusterIP;
    if (!ip || ip === 'None') continue;
    const name = svc.metadata.name.toUpperCase().replace(/-/g, '_');
    const ports = svc.spec.ports || [];
    env[`${name}_SERVICE_HOST`] = ip;
    if (!ports.length) continue;
    env[`${name}_SERVICE_PORT`] = String(ports[0].port);
    for (const p of ports) if (p.name) env[`${name}_SERVICE_PORT_${p.name.toUpperCase().replace(/-/g, '_')}`] = String(p.port);
    const proto0 = (ports[0].protocol || 'TCP').toLowerCase();
    env[`${name}_PORT`] = `${proto0}://${ip}:${ports[0].port}`;
    for (const p of ports) {
      const proto = p.protocol || 'TCP';
      const pre = `${name}_PORT_${p.port}_${proto}`;
      env[pre] = `${proto.toLowerCase()}://${ip}:${p.port}`;
      env[`${pre}_PROTO`] = proto.toLowerCase();
      env[`${pre}_PORT`] = String(p.port);
      env[`${pre}_ADDR`] = ip;
    }
  }
  return env;
}

// $(VAR) from the map, $$(VAR) escapes, unknown references stay as written.
function expand(str, vars) {
  return String(str).replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (all, name) => {
    if (all === '$$') return '$';
    return Object.prototype.hasOwnProperty.call(vars, name) ? vars[name] : all;
  });
}

// lookup: { configMap(ns, name) -> obj|null, secret(ns, name) -> obj|null, services(ns) -> [svc] }
// Returns { env: {NAME: value}, command: [...]|undefined, args: [...]|undefined }
// (command and args expanded, for callers that want them).
function buildEnv(pod, container, lookup) {
  const ns = pod.metadata.namespace;
  const env = {};
  const services = lookup.services(ns).concat(ns === 'default' ? [] : lookup.services('default').filter((s) => s.metadata.name === 'kubernetes'));
  Object.assign(env, serviceEnv(services, pod.spec.enableServiceLinks !== false));
  const secretData = (s, key) => Buffer.from((s.data || {})[key] || '', 'base64').toString('utf8');
  for (const from of container.envFrom || []) {
    const prefix = from.prefix || '';
    if (from.configMapRef) {
      const cm = lookup.configMap(ns, from.configMapRef.name);
      if (!cm) {
        if (from.configMapRef.optional) continue;
        throw new ConfigError(`configmap "${from.configMapRef.name}" not found`);
      }
      for (const [k, v] of Object.entries(cm.data || {})) env[prefix + k] = v;
    } else if (from.secretRef) {
      const s = lookup.secret(ns, from.secretRef.name);
      if (!s) {
        if (from.secretRef.optional) continue;
        throw new ConfigError(`secret "${from.secretRef.name}" not found`);
      }
      for (const k of Object.keys(s.data || {})) env[prefix + k] = secretData(s, k);
    }
  }
  for (const e of container.env || []) {
    if (e.valueFrom === undefined) { env[e.name] = expand(e.value || '', env); continue; }
    const vf = e.valueFrom;
    if (vf.fieldRef) env[e.name] = fieldRefValue(pod, vf.fieldRef.fieldPath);
    else if (vf.resourceFieldRef) env[e.name] = resourceFieldValue(pod, { containerName: container.name, ...vf.resourceFieldRef });
    else if (vf.configMapKeyRef) {
      const r = vf.configMapKeyRef;
      const cm = lookup.configMap(ns, r.name);
      if (!cm) { if (r.optional) continue; throw new ConfigError(`configmap "${r.name}" not found`); }
      const data = { ...(cm.data || {}) };
      for (const [k, v] of Object.entries(cm.binaryData || {})) data[k] = Buffer.from(v, 'base64').toString('utf8');
      if (!(r.key in data)) { if (r.optional) continue; throw new ConfigError(`couldn't find key ${r.key} in ConfigMap ${ns}/${r.name}`); }
      env[e.name] = data[r.key];
    } else if (vf.secretKeyRef) {
      const r = vf.secretKeyRef;
      const s = lookup.secret(ns, r.name);
      if (!s) { if (r.optional) continue; throw new ConfigError(`secret "${r.name}" not found`); }
      if (!((s.data || {})[r.key] !== undefined)) { if (r.optional) continue; throw new ConfigError(`couldn't find key ${r.key} in Secret ${ns}/${r.name}`); }
      env[e.name] = secretData(s, r.key);
    }
  }
  const command = container.command ? container.command.map((a) => expand(a, env)) : undefined;
  const args = container.args ? container.args.map((a) => expand(a, env)) : undefined;
  return { env, command, args };
}

module.exports = { buildEnv, fieldRefValue, resourceFieldValue, formatMap, ConfigError, expand, serviceEnv };
