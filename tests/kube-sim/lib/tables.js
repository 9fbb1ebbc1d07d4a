'use strict';
// Server-side printing: the meta.k8s.io Table that `kubectl get` asks for,
// with the columns the real server prints for each kind (the additional
// printer columns of a CRD for custom resources; NAME/AGE otherwise).

// kubectl's duration.HumanDuration.
function humanDuration(ms) {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) { const s = seconds % 60; return s === 0 ? `${minutes}m` : `${minutes}m${s}s`; }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) { const m = minutes % 60; return m === 0 ? `${hours}h` : `${hours}h${m}m`; }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) { const h = hours % 24; return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`; }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) { const d = Math.floor(hours / 24) % 365; const y = Math.floor(hours / 24 / 365); return d === 0 ? `${y}y` : `${y}y${d}d`; }
  return `${Math.floor(hours / 24 / 365)}y`;
}

function age(ts) { return ts ? humanDuration(Date.now() - Date.parse(ts)) : '<unknown>'; }
const none = (v) => (v === undefined || v === null || v === '' ? '<none>' : v);
const col = (name, type = 'string', priority = 0, format = '') => ({ name, type, format, description: '', priority });
const nameCol = () => col('Name', 'string', 0, 'name');
const ageCol = () => col('Age', 'string');

function podStatus(pod) {
  const st = pod.status || {};
  let reason = st.reason || st.phase || 'Pending';
  const inits = st.initContainerStatuses || [];
  let initializing = false;
  inits.forEach((c, i) => {
    if (initializing) return;
    const s = c.state || {};
    if (s.terminated && s.terminated.exitCode === 0) return;
    initializing = true;
    if (s.terminated) reason = s.terminated.reason ? `Init:${s.terminated.reason}` : `Init:ExitCode:${s.terminated.exitCode}`;
    else if (s.waiting && s.waiting.reason && s.waiting.reason !== 'PodInitializing') reason = `Init:${s.waiting.reason}`;
    else reason = `Init:${i}/${(pod.spec.initContainers || []).length}`;
  });
  if (!initializing) {
    let hasRunning = false;
    for (const c of [...(st.containerStatuses || [])].reverse()) {
      const s = c.state || {};
      if (s.waiting && s.waiting.reason) reason = s.waiting.reason;
      else if (s.terminated && s.terminated.reason) reason = s.terminated.reason;
      else if (s.terminated) reason = s.terminated.signal ? `Signal:${s.terminated.signal}` : `ExitCode:${s.terminated.exitCode}`;
      else if (c.ready && s.running) hasRunning = true;
    }
    if (reason === 'Completed' && hasRunning) {
      const ready = (st.conditions || []).some((c) => c.type === 'Ready' && c.status === 'True');
      reason = ready ? 'Running' : 'NotReady';
    }
  }
  if (pod.metadata.deletionTimestamp) reason = st.reason === 'NodeLost' ? 'Unknown' : 'Terminating';
  return reason;
}

function podRow(pod) {
  const st = pod.status || {};
  const containers = (pod.spec && pod.spec.containers) || [];
  const statuses = st.containerStatuses || [];
  const ready = statuses.filter((c) => c.ready).length;
  let restarts = 0;
  let lastRestart = null;
  for (const c of [...(st.initContainerStatuses || []), ...statuses]) {
    restarts += c.restartCount || 0;
    const t = c.lastState && c.lastState.terminated && c.lastState.terminated.finishedAt;
    if (t && (!lastRestart || t > lastRestart)) lastRestart = t;
  }
  const restartText = restarts && lastRestart ? `${restarts} (${age(lastRestart)} ago)` : String(restarts);
  const gates = (pod.spec && pod.spec.readinessGates) || [];
  return [pod.metadata.name, `${ready}/${containers.length}`, podStatus(pod), restartText, age(pod.metadata.creationTimestamp),
    none(st.podIP), none(pod.spec && pod.spec.nodeName), none(st.nominatedNodeName), gates.length ? `${gates.length}` : '<none>'];
}

const containersOf = (o) => ((o.spec && o.spec.template && o.spec.template.spec && o.spec.template.spec.containers) || []);
const names = (o) => containersOf(o).map((c) => c.name).join(',');
const images = (o) => containersOf(o).map((c) => c.image).join(',');
function selectorText(sel) {
  if (!sel) return '<none>';
  const parts = Object.entries(sel.matchLabels || {}).map(([k, v]) => `${k}=${v}`);
  for (const e of sel.matchExpressions || []) {
    if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
    else parts.push(`${e.key} ${e.operator.toLowerCase()} (${(e.values || []).join(',')})`);
  }
  return parts.length ? parts.join(',') : '<none>';
}
const mapText = (m) => (m && Object.keys(m).length ? Object.entries(m).map(([k, v]) => `${k}=${v}`).join(',') : '<none>');
const intOrString = (v) => (v === undefined || v === null ? 'N/A' : String(v));

function eventObject(e) {
  const io = e.involvedObject || {};
  return `${(io.kind || '').toLowerCase()}/${io.name || ''}`;
}

function durationText(start, end) {
  if (!start) return '';
  const ms = (end ? Date.parse(end) : Date.now()) - Date.parse(start);
  return humanDuration(ms);
}

// kind -> [columns, row(obj)]
const PRINTERS = {
  Pod: [[nameCol(), col('Ready'), col('Status'), col('Restarts', 'string'), ageCol(), col('IP', 'string', 1), col('Node', 'string', 1),
    col('Nominated Node', 'string', 1), col('Readiness Gates', 'string', 1)], podRow],
  StatefulSet: [[nameCol(), col('Ready'), ageCol(), col('Containers', 'string', 1), col('Images', 'string', 1)],
    (o) => [o.metadata.name, `${(o.status && o.status.readyReplicas) || 0}/${o.spec.replicas ?? 1}`, age(o.metadata.creationTimestamp), names(o), images(o)]],
  Deployment: [[nameCol(), col('Ready'), col('Up-to-date', 'integer'), col('Available', 'integer'), ageCol(), col('Containers', 'string', 1),
    col('Images', 'string', 1), col('Selector', 'string', 1)],
  (o) => { const s = o.status || {}; return [o.metadata.name, `${s.readyReplicas || 0}/${o.spec.replicas ?? 1}`, s.updatedReplicas || 0, s.availableReplicas || 0, age(o.metadata.creationTimestamp), names(o), images(o), selectorText(o.spec.selector)]; }],
  ReplicaSet: [[nameCol(), col('Desired', 'integer'), col('Current', 'integer'), col('Ready', 'integer'), ageCol(), col('Containers', 'string', 1), col('Images', 'string', 1), col('Selector', 'string', 1)],
    (o) => { const s = o.status || {}; return [o.metadata.name, o.spec.replicas ?? 1, s.replicas || 0, s.readyReplicas || 0, age(o.metadata.creationTimestamp), names(o), images(o), selectorText(o.spec.selector)]; }],
  Service: [[nameCol(), col('Type'), col('Cluster-IP'), col('External-IP'), col('Port(s)'), ageCol(), col('Selector', 'string', 1)],
    (o) => {
      const sp = o.spec || {};
      const ports = (sp.ports || []).map((p) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol || 'TCP'}` : `${p.port}/${p.protocol || 'TCP'}`)).join(',') || '<none>';
      const ext = (sp.externalIPs || []).join(',') || (sp.type === 'LoadBalancer' ? '<pending>' : '<none>');
      return [o.metadata.name, sp.type || 'ClusterIP', sp.clusterIP || '<none>', ext, ports, age(o.metadata.creationTimestamp), mapText(sp.selector)];
    }],
  ConfigMap: [[nameCol(), col('Data', 'integer'), ageCol()],
    (o) => [o.metadata.name, Object.keys(o.data || {}).length + Object.keys(o.binaryData || {}).length, age(o.metadata.creationTimestamp)]],
  Secret: [[nameCol(), col('Type'), col('Data', 'integer'), ageCol()],
    (o) => [o.metadata.name, o.type || 'Opaque', Object.keys(o.data || {}).length, age(o.metadata.creationTimestamp)]],
  PersistentVolumeClaim: [[nameCol(), col('Status'), col('Volume'), col('Capacity'), col('Access Modes'), col('StorageClass'),
    col('VolumeAttributesClass'), ageCol(), col('VolumeMode', 'string', 1)],
  (o) => {
    const st = o.status || {};
    const cap = st.capacity && st.capacity.storage ? st.capacity.storage : '';
    const modes = (st.accessModes || []).map((m) => ({ ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' }[m] || m)).join(',');
    return [o.metadata.name, o.metadata.deletionTimestamp ? 'Terminating' : st.phase || 'Pending', o.spec.volumeName || '', cap, modes,
      o.spec.storageClassName || '<unset>', o.spec.volumeAttributesClassName || '<unset>', age(o.metadata.creationTimestamp), o.spec.volumeMode || 'Filesystem'];
  }],
  Job: [[nameCol(), col('Status'), col('Completions'), col('Duration'), ageCol(), col('Containers', 'string', 1), col('Images', 'string', 1), col('Selector', 'string', 1)],
    (o) => {
      const st = o.status || {};
      const conds = st.conditions || [];
      const has = (t) => conds.some((c) => c.type === t && c.status === 'True');
      const status = has('Complete') ? 'Complete' : has('Failed') ? 'Failed' : o.metadata.deletionTimestamp ? 'Terminating'
        : has('Suspended') ? 'Suspended' : has('FailureTarget') ? 'FailureTarget' : 'Running';
      const completions = o.spec.completions !== undefined && o.spec.completions !== null ? `${st.succeeded || 0}/${o.spec.completions}` : `${st.succeeded || 0}/1 of ${o.spec.parallelism ?? 1}`;
      return [o.metadata.name, status, completions, durationText(st.startTime, st.completionTime), age(o.metadata.creationTimestamp), names(o), images(o), selectorText(o.spec.selector)];
    }],
  PodDisruptionBudget: [[nameCol(), col('Min Available'), col('Max Unavailable'), col('Allowed Disruptions', 'integer'), ageCol()],
    (o) => [o.metadata.name, intOrString(o.spec.minAvailable), intOrString(o.spec.maxUnavailable), (o.status && o.status.disruptionsAllowed) || 0, age(o.metadata.creationTimestamp)]],
  Event: [[col('Last Seen'), col('Type'), col('Reason'), col('Object'), col('Subobject', 'string', 1), col('Source', 'string', 1), col('Message'),
    col('First Seen', 'string', 1), col('Count', 'string', 1), col('Name', 'string', 1, 'name')],
  (e) => {
    const last = e.series && e.series.lastObservedTime ? e.series.lastObservedTime : e.lastTimestamp || e.eventTime || e.metadata.creationTimestamp;
    const src = e.source ? [e.source.component, e.source.host].filter(Boolean).join(', ') : e.reportingComponent || '';
    return [age(last), e.type || '', e.reason || '', eventObject(e), (e.involvedObject && e.involvedObject.fieldPath) || '', src, e.message || '',
      age(e.firstTimestamp || e.eventTime || e.metadata.creationTimestamp), String(e.count || 1), e.metadata.name];
  }],
  Namespace: [[nameCol(), col('Status'), ageCol()], (o) => [o.metadata.name, (o.status && o.status.phase) || 'Active', age(o.metadata.creationTimestamp)]],
  Endpoints: [[nameCol(), col('Endpoints'), ageCol()], (o) => {
    const eps = [];
    for (const s of o.subsets || []) for (const a of s.addresses || []) for (const p of s.ports || [{}]) eps.push(p.port ? `${a.ip}:${p.port}` : a.ip);
    return [o.metadata.name, eps.length ? eps.slice(0, 3).join(',') + (eps.length > 3 ? ` + ${eps.length - 3} more...` : '') : '<none>', age(o.metadata.creationTimestamp)];
  }],
  ServiceAccount: [[nameCol(), col('Secrets', 'integer'), ageCol()], (o) => [o.metadata.name, (o.secrets || []).length, age(o.metadata.creationTimestamp)]],
  Node: [[nameCol(), col('Status'), col('Roles'), ageCol(), col('Version')], (o) => {
    const ready = ((o.status && o.status.conditions) || []).find((c) => c.type === 'Ready');
    const roles = Object.keys(o.metadata.labels || {}).filter((k) => k.startsWith('node-role.kubernetes.io/')).map((k) => k.split('/')[1]);
    return [o.metadata.name, ready && ready.status === 'True' ? 'Ready' : 'NotReady', roles.join(',') || '<none>', age(o.metadata.creationTimestamp),
      (o.status && o.status.nodeInfo && o.status.nodeInfo.kubeletVersion) || ''];
  }],
  CustomResourceDefinition: [[nameCol(), col('Created At', 'date')], (o) => [o.metadata.name, o.metadata.creationTimestamp]],
};

// A simple JSONPath as printer columns use them: .spec.replicas, .status.conditions[0].type, .a['b.c']
function jsonPath(obj, path) {
  const expr = String(path).replace(/^\{|\}$/g, '').replace(/^\$/, '');
  const parts = [];
  const re = /\.([^.[\]]+)|\[(\d+)\]|\[['"]([^'"]+)['"]\]/g;
  let m;
  while ((m = re.exec(expr))) parts.push(m[1] !== undefined ? m[1] : m[2] !== undefined ? Number(m[2]) : m[3]);
  let cur = obj;
  for (const p of parts) { if (cur === null || cur === undefined) return undefined; cur = cur[p]; }
  return cur;
}

function crdPrinter(res) {
  const version = ((res.crd && res.crd.spec && res.crd.spec.versions) || []).find((v) => v.name === res.version);
  const extra = (version && version.additionalPrinterColumns) || [];
  if (!extra.length) return null;
  const columns = [nameCol(), ...extra.map((c) => col(c.name, c.type === 'date' ? 'date' : c.type || 'string', c.priority || 0, c.format || ''))];
  const hasAge = extra.some((c) => c.jsonPath === '.metadata.creationTimestamp');
  if (!hasAge) columns.push(ageCol());
  return [columns, (o) => {
    const cells = [o.metadata.name];
    for (const c of extra) {
      const v = jsonPath(o, c.jsonPath);
      if (c.type === 'date' && v) cells.push(age(v));
      else cells.push(v === undefined ? null : typeof v === 'object' ? JSON.stringify(v) : v);
    }
    if (!hasAge) cells.push(age(o.metadata.creationTimestamp));
    return cells;
  }];
}

function printerFor(res) {
  if (res.crd) return crdPrinter(res) || [[nameCol(), ageCol()], (o) => [o.metadata.name, age(o.metadata.creationTimestamp)]];
  if (PRINTERS[res.kind]) return PRINTERS[res.kind];
  return [[nameCol(), ageCol()], (o) => [o.metadata.name, age(o.metadata.creationTimestamp)]];
}

// -> a meta.k8s.io Table of `items`. includeObject: None | Metadata | Object.
function toTable(res, items, { version = 'v1', includeObject = 'Metadata', noHeaders = false } = {}) {
  const [columns, row] = printerFor(res);
  const apiVersion = `meta.k8s.io/${version}`;
  const table = { kind: 'Table', apiVersion, metadata: {}, columnDefinitions: noHeaders ? [] : columns, rows: [] };
  for (const item of items) {
    const r = { cells: row(item) };
    if (includeObject === 'Object') r.object = { apiVersion: res.apiVersion, kind: res.kind, ...item };
    else if (includeObject !== 'None') r.object = { kind: 'PartialObjectMetadata', apiVersion, metadata: item.metadata };
    table.rows.push(r);
  }
  return table;
}

module.exports = { toTable, humanDuration, jsonPath };
