'use strict';
// Semantic checks of pod specs (Pods and the pod templates of workloads) that
// the real API server makes beyond the JSON schema: container and volume
// names, ports, mounts, probes, env names, resources.

const u = require('./validate-util');
const { cause } = u;

const VOLUME_SOURCES = [
  'hostPath', 'emptyDir', 'gcePersistentDisk', 'awsElasticBlockStore', 'gitRepo', 'secret', 'nfs', 'iscsi',
  'glusterfs', 'persistentVolumeClaim', 'rbd', 'flexVolume', 'cinder', 'cephfs', 'flocker', 'downwardAPI', 'fc',
  'azureFile', 'configMap', 'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk', 'projected',
  'portworxVolume', 'scaleIO', 'storageos', 'csi', 'ephemeral', 'image',
];

function checkProbe(causes, path, probe, kind) {
  if (!probe || typeof probe !== 'object') return;
  for (const f of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold']) {
    u.checkNonNegative(causes, `${path}.${f}`, probe[f]);
  }
  if ((kind === 'livenessProbe' || kind === 'startupProbe') && probe.successThreshold !== undefined && probe.successThreshold !== 1) {
    causes.push(cause.invalid(`${path}.successThreshold`, probe.successThreshold, 'must be 1'));
  }
  const handlers = ['exec', 'httpGet', 'tcpSocket', 'grpc'].filter((h) => probe[h]);
  if (handlers.length === 0) causes.push(cause.required(path, 'must specify a handler type'));
  if (handlers.length > 1) causes.push(cause.forbidden(`${path}.${handlers[1]}`, 'may not specify more than 1 handler type'));
  if (probe.httpGet) u.checkIntOrName(causes, `${path}.httpGet.port`, probe.httpGet.port);
  if (probe.tcpSocket) u.checkIntOrName(causes, `${path}.tcpSocket.port`, probe.tcpSocket.port);
  if (probe.grpc) u.checkPortNumber(causes, `${path}.grpc.port`, probe.grpc.port);
  if (probe.exec && !(probe.exec.command || []).length) causes.push(cause.required(`${path}.exec.command`));
}

function checkResources(causes, path, resources) {
  if (!resources) return;
  const parsed = {};
  for (const part of ['limits', 'requests']) {
    parsed[part] = {};
    for (const [name, q] of Object.entries(resources[part] || {})) {
      if (u.checkQuantity(causes, `${path}.${part}[${name}]`, q)) parsed[part][name] = u.parseQuantity(q);
    }
  }
  for (const [name, req] of Object.entries(parsed.requests)) {
    const limit = parsed.limits[name];
    if (limit !== undefined && req > limit) {
      causes.push(cause.invalid(`${path}.requests`, resources.requests[name], `must be less than or equal to ${name} limit of ${resources.limits[name]}`));
    }
  }
}

function checkContainer(causes, path, c, volumes, names, kind) {
  if (!c || typeof c !== 'object') return;
  if (!c.name) causes.push(cause.required(`${path}.name`));
  else if (typeof c.name === 'string') {
    for (const m of u.dnsLabelErrors(c.name)) causes.push(cause.invalid(`${path}.name`, c.name, m));
    if (names.has(c.name)) causes.push(cause.duplicate(`${path}.name`, c.name));
    names.add(c.name);
  }
  if (!c.image || (typeof c.image === 'string' && c.image.trim() === '')) causes.push(cause.required(`${path}.image`));
  if (kind !== 'initContainers' && c.restartPolicy !== undefined) {
    causes.push(cause.forbidden(`${path}.restartPolicy`, 'may not be set for non init containers'));
  }
  const portNames = new Set();
  (c.ports || []).forEach((p, i) => {
    const pp = `${path}.ports[${i}]`;
    if (!p || typeof p !== 'object') return;
    if (p.containerPort === undefined) causes.push(cause.required(`${pp}.containerPort`));
    else u.checkPortNumber(causes, `${pp}.containerPort`, p.containerPort);
    if (p.hostPort !== undefined) u.checkPortNumber(causes, `${pp}.hostPort`, p.hostPort, { allowZero: true });
    if (p.name !== undefined && typeof p.name === 'string') {
      for (const m of u.portNameErrors(p.name)) causes.push(cause.invalid(`${pp}.name`, p.name, m));
      if (portNames.has(p.name)) causes.push(cause.duplicate(`${pp}.name`, p.name));
      portNames.add(p.name);
    }
  });
  (c.env || []).forEach((e, i) => {
    if (!e || typeof e !== 'object') return;
    if (!e.name) causes.push(cause.required(`${path}.env[${i}].name`));
    else if (typeof e.name === 'string' && !u.ENV_NAME.test(e.name)) causes.push(cause.invalid(`${path}.env[${i}].name`, e.name, u.MSG.envName));
    if (e.value !== undefined && e.valueFrom !== undefined) {
      causes.push(cause.invalid(`${path}.env[${i}].valueFrom`, '', 'may not be specified when `value` is not empty'));
    }
  });
  const mountPaths = new Set();
  (c.volumeMounts || []).forEach((m, i) => {
    const mp = `${path}.volumeMounts[${i}]`;
    if (!m || typeof m !== 'object') return;
    if (!m.name) causes.push(cause.required(`${mp}.name`));
    else if (!volumes.has(m.name)) causes.push(cause.notFound(`${mp}.name`, m.name));
    if (!m.mountPath) causes.push(cause.required(`${mp}.mountPath`));
    else if (mountPaths.has(m.mountPath)) causes.push(cause.invalid(`${mp}.mountPath`, m.mountPath, 'must be unique'));
    mountPaths.add(m.mountPath);
  });
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
    if (kind === 'initContainers' && c[probe] && c.restartPolicy !== 'Always') {
      causes.push(cause.forbidden(`${path}.${probe}`, 'may not be set for init containers without restartPolicy=Always'));
    } else checkProbe(causes, `${path}.${probe}`, c[probe], probe);
  }
  checkResources(causes, `${path}.resources`, c.resources);
}

// path: 'spec' for a Pod, 'spec.template.spec' for templates. extraVolumes:
// names usable in volumeMounts besides spec.volumes (StatefulSet claim templates).
function checkPodSpec(causes, path, spec, { extraVolumes = [], restartPolicies = null } = {}) {
  if (!spec || typeof spec !== 'object') {
    causes.push(cause.required(path));
    return;
  }
  const volumes = new Set(extraVolumes);
  (spec.volumes || []).forEach((v, i) => {
    const vp = `${path}.volumes[${i}]`;
    if (!v || typeof v !== 'object') return;
    if (!v.name) causes.push(cause.required(`${vp}.name`));
    else if (typeof v.name === 'string') {
      for (const m of u.dnsLabelErrors(v.name)) causes.push(cause.invalid(`${vp}.name`, v.name, m));
      if (volumes.has(v.name) && !extraVolumes.includes(v.name)) causes.push(cause.duplicate(`${vp}.name`, v.name));
      volumes.add(v.name);
    }
    const sources = VOLUME_SOURCES.filter((s) => v[s] !== undefined && v[s] !== null);
    if (sources.length === 0) causes.push(cause.required(vp, 'must specify a volume type'));
    if (sources.length > 1) causes.push(cause.forbidden(`${vp}.${sources[1]}`, 'may not specify more than 1 volume type'));
    if (v.configMap && !v.configMap.name) causes.push(cause.required(`${vp}.configMap.name`));
    if (v.secret && !v.secret.secretName) causes.push(cause.required(`${vp}.secret.secretName`));
    if (v.persistentVolumeClaim && !v.persistentVolumeClaim.claimName) causes.push(cause.required(`${vp}.persistentVolumeClaim.claimName`));
  });
  if (!Array.isArray(spec.containers) || spec.containers.length === 0) causes.push(cause.required(`${path}.containers`));
  const names = new Set();
  for (const kind of ['initContainers', 'containers', 'ephemeralContainers']) {
    (spec[kind] || []).forEach((c, i) => checkContainer(causes, `${path}.${kind}[${i}]`, c, volumes, names, kind));
  }
  if (restartPolicies && spec.restartPolicy !== undefined && !restartPolicies.includes(spec.restartPolicy)) {
    causes.push(cause.notSupported(`${path}.restartPolicy`, spec.restartPolicy, restartPolicies));
  }
  u.checkNonNegative(causes, `${path}.terminationGracePeriodSeconds`, spec.terminationGracePeriodSeconds);
  if (spec.activeDeadlineSeconds !== undefined && Number.isInteger(spec.activeDeadlineSeconds) && spec.activeDeadlineSeconds < 1) {
    causes.push(cause.invalid(`${path}.activeDeadlineSeconds`, spec.activeDeadlineSeconds, 'must be between 1 and 2147483647, inclusive'));
  }
  for (const f of ['hostname', 'subdomain']) {
    if (typeof spec[f] === 'string' && spec[f] !== '') {
      for (const m of u.dnsLabelErrors(spec[f])) causes.push(cause.invalid(`${path}.${f}`, spec[f], m));
    }
  }
  for (const f of ['serviceAccountName', 'nodeName', 'priorityClassName']) {
    if (typeof spec[f] === 'string' && spec[f] !== '') {
      for (const m of u.subdomainErrors(spec[f])) causes.push(cause.invalid(`${path}.${f}`, spec[f], m));
    }
  }
  u.checkLabels(causes, `${path}.nodeSelector`, spec.nodeSelector);
  const dnsPolicies = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];
  if (spec.dnsPolicy !== undefined && !dnsPolicies.includes(spec.dnsPolicy)) causes.push(cause.notSupported(`${path}.dnsPolicy`, spec.dnsPolicy, dnsPolicies));
  if (spec.dnsPolicy === 'None' && !(spec.dnsConfig && (spec.dnsConfig.nameservers || []).length)) {
    causes.push(cause.required(`${path}.dnsConfig.nameservers`, 'must provide at least one DNS nameserver when `dnsPolicy` is None'));
  }
}

// A workload's pod template: labels syntax, the pod spec and restart policy.
function checkTemplate(causes, path, template, opts) {
  if (!template || typeof template !== 'object') {
    causes.push(cause.required(path));
    return;
  }
  const meta = template.metadata || {};
  u.checkLabels(causes, `${path}.metadata.labels`, meta.labels);
  u.checkAnnotations(causes, `${path}.metadata.annotations`, meta.annotations);
  checkPodSpec(causes, `${path}.spec`, template.spec, opts);
}

module.exports = { checkPodSpec, checkTemplate, checkContainer, checkProbe, VOLUME_SOURCES };
