'use strict';
// The defaults the real API server fills in on every write, limited to those
// that the controllers, the kubelet and kubectl's output rely on. Applying
// them twice changes nothing, so the API server calls applyDefaults on every
// create, update and patch (after patching, before validation).
//
// Cluster IP allocation is not done here: serviceNeedsClusterIP(obj) tells the
// API server whether to allocate one.

const crypto = require('crypto');

const setIfAbsent = (o, k, v) => {
  if (o[k] === undefined || o[k] === null) o[k] = v;
};

function defaultProbe(p) {
  if (!p || typeof p !== 'object') return;
  setIfAbsent(p, 'timeoutSeconds', 1);
  setIfAbsent(p, 'periodSeconds', 10);
  setIfAbsent(p, 'successThreshold', 1);
  setIfAbsent(p, 'failureThreshold', 3);
  if (p.httpGet && typeof p.httpGet === 'object') {
    setIfAbsent(p.httpGet, 'scheme', 'HTTP');
    setIfAbsent(p.httpGet, 'path', '/');
  }
}

function imageTag(image) {
  if (typeof image !== 'string') return '';
  if (image.includes('@')) return 'digest';
  const last = image.slice(image.lastIndexOf('/') + 1);
  const colon = last.lastIndexOf(':');
  return colon >= 0 ? last.slice(colon + 1) : 'latest';
}

function defaultContainer(c) {
  if (!c || typeof c !== 'object') return;
  setIfAbsent(c, 'terminationMessagePath', '/dev/termination-log');
  setIfAbsent(c, 'terminationMessagePolicy', 'File');
  setIfAbsent(c, 'imagePullPolicy', imageTag(c.image) === 'latest' ? 'Always' : 'IfNotPresent');
  for (const p of Array.isArray(c.ports) ? c.ports : []) if (p && typeof p === 'object') setIfAbsent(p, 'protocol', 'TCP');
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) defaultProbe(c[probe]);
  setIfAbsent(c, 'resources', {});
  for (const e of Array.isArray(c.env) ? c.env : []) {
    const ref = e && e.valueFrom && e.valueFrom.fieldRef;
    if (ref) setIfAbsent(ref, 'apiVersion', 'v1');
  }
}

function defaultVolume(v) {
  if (!v || typeof v !== 'object') return;
  for (const src of ['configMap', 'secret']) if (v[src] && typeof v[src] === 'object') setIfAbsent(v[src], 'defaultMode', 420);
  if (v.projected && typeof v.projected === 'object') setIfAbsent(v.projected, 'defaultMode', 420);
  if (v.downwardAPI && typeof v.downwardAPI === 'object') {
    setIfAbsent(v.downwardAPI, 'defaultMode', 420);
    for (const item of v.downwardAPI.items || []) if (item && item.fieldRef) setIfAbsent(item.fieldRef, 'apiVersion', 'v1');
  }
  if (v.hostPath && typeof v.hostPath === 'object') setIfAbsent(v.hostPath, 'type', '');
}

function defaultPodSpec(spec) {
  if (!spec || typeof spec !== 'object') return;
  setIfAbsent(spec, 'restartPolicy', 'Always');
  setIfAbsent(spec, 'dnsPolicy', 'ClusterFirst');
  setIfAbsent(spec, 'terminationGracePeriodSeconds', 30);
  setIfAbsent(spec, 'schedulerName', 'default-scheduler');
  setIfAbsent(spec, 'securityContext', {});
  setIfAbsent(spec, 'enableServiceLinks', true);
  if (spec.serviceAccountName) setIfAbsent(spec, 'serviceAccount', spec.serviceAccountName);
  for (const list of ['initContainers', 'containers', 'ephemeralContainers']) {
    for (const c of Array.isArray(spec[list]) ? spec[list] : []) defaultContainer(c);
  }
  for (const v of Array.isArray(spec.volumes) ? spec.volumes : []) defaultVolume(v);
}

function defaultTemplate(tmpl) {
  if (!tmpl || typeof tmpl !== 'object') return;
  defaultPodSpec(tmpl.spec);
}

function defaultClaimSpec(spec) {
  if (!spec || typeof spec !== 'object') return;
  setIfAbsent(spec, 'volumeMode', 'Filesystem');
}

const DEFAULTERS = {
  Pod(obj) {
    defaultPodSpec(obj.spec);
    // A pod created directly gets the default ServiceAccount's name filled in.
    if (obj.spec && typeof obj.spec === 'object') {
      setIfAbsent(obj.spec, 'serviceAccountName', 'default');
      setIfAbsent(obj.spec, 'serviceAccount', obj.spec.serviceAccountName);
      setIfAbsent(obj.spec, 'priority', 0);
      setIfAbsent(obj.spec, 'preemptionPolicy', 'PreemptLowerPriority');
    }
  },
  StatefulSet(obj) {
    const spec = obj.spec;
    if (!spec || typeof spec !== 'object') return;
    setIfAbsent(spec, 'replicas', 1);
    setIfAbsent(spec, 'podManagementPolicy', 'OrderedReady');
    setIfAbsent(spec, 'updateStrategy', { type: 'RollingUpdate' });
    setIfAbsent(spec.updateStrategy, 'type', 'RollingUpdate');
    if (spec.updateStrategy.type === 'RollingUpdate') {
      setIfAbsent(spec.updateStrategy, 'rollingUpdate', {});
      setIfAbsent(spec.updateStrategy.rollingUpdate, 'partition', 0);
    }
    setIfAbsent(spec, 'revisionHistoryLimit', 10);
    setIfAbsent(spec, 'persistentVolumeClaimRetentionPolicy', {});
    setIfAbsent(spec.persistentVolumeClaimRetentionPolicy, 'whenDeleted', 'Retain');
    setIfAbsent(spec.persistentVolumeClaimRetentionPolicy, 'whenScaled', 'Retain');
    defaultTemplate(spec.template);
    for (const vct of Array.isArray(spec.volumeClaimTemplates) ? spec.volumeClaimTemplates : []) {
      if (!vct || typeof vct !== 'object') continue;
      setIfAbsent(vct, 'apiVersion', 'v1');
      setIfAbsent(vct, 'kind', 'PersistentVolumeClaim');
      defaultClaimSpec(vct.spec);
      // As the real defaulter does for any claim, templates included.
      setIfAbsent(vct, 'status', { phase: 'Pending' });
    }
  },
  Deployment(obj) {
    const spec = obj.spec;
    if (!spec || typeof spec !== 'object') return;
    setIfAbsent(spec, 'replicas', 1);
    setIfAbsent(spec, 'strategy', {});
    setIfAbsent(spec.strategy, 'type', 'RollingUpdate');
    if (spec.strategy.type === 'RollingUpdate') {
      setIfAbsent(spec.strategy, 'rollingUpdate', {});
      setIfAbsent(spec.strategy.rollingUpdate, 'maxUnavailable', '25%');
      setIfAbsent(spec.strategy.rollingUpdate, 'maxSurge', '25%');
    }
    setIfAbsent(spec, 'revisionHistoryLimit', 10);
    setIfAbsent(spec, 'progressDeadlineSeconds', 600);
    defaultTemplate(spec.template);
  },
  ReplicaSet(obj) {
    if (!obj.spec || typeof obj.spec !== 'object') return;
    setIfAbsent(obj.spec, 'replicas', 1);
    defaultTemplate(obj.spec.template);
  },
  Job(obj, old) {
    const spec = obj.spec;
    if (!spec || typeof spec !== 'object') return;
    // Without either, a Job runs one pod to completion; with parallelism
    // only, it is a work queue and completions stay unset.
    if (spec.completions == null && spec.parallelism == null) spec.completions = 1;
    setIfAbsent(spec, 'parallelism', 1);
    setIfAbsent(spec, 'backoffLimit', 6);
    setIfAbsent(spec, 'completionMode', 'NonIndexed');
    setIfAbsent(spec, 'suspend', false);
    if (!spec.podFailurePolicy) setIfAbsent(spec, 'podReplacementPolicy', 'TerminatingOrFailed');
    defaultTemplate(spec.template);
    generateJobSelector(obj, old);
  },
  Service(obj, old) {
    const spec = obj.spec;
    if (!spec || typeof spec !== 'object') return;
    setIfAbsent(spec, 'type', 'ClusterIP');
    setIfAbsent(spec, 'sessionAffinity', 'None');
    if (spec.type !== 'ExternalName') {
      setIfAbsent(spec, 'internalTrafficPolicy', 'Cluster');
      setIfAbsent(spec, 'ipFamilyPolicy', 'SingleStack');
      setIfAbsent(spec, 'ipFamilies', ['IPv4']);
    }
    for (const p of Array.isArray(spec.ports) ? spec.ports : []) {
      if (!p || typeof p !== 'object') continue;
      setIfAbsent(p, 'protocol', 'TCP');
      setIfAbsent(p, 'targetPort', p.port);
    }
    // An update that leaves clusterIP out keeps the allocated one, as the
    // real server does (it is immutable anyway).
    const prev = old && old.spec;
    if (prev && prev.clusterIP && (spec.clusterIP === undefined || spec.clusterIP === '') && spec.type !== 'ExternalName') {
      spec.clusterIP = prev.clusterIP;
      if (prev.clusterIPs) spec.clusterIPs = prev.clusterIPs;
    }
    if (spec.clusterIP && !spec.clusterIPs) spec.clusterIPs = [spec.clusterIP];
    if (prev && ['NodePort', 'LoadBalancer'].includes(spec.type)) {
      for (const p of spec.ports || []) {
        const was = (prev.ports || []).find((q) => q.port === p.port && (q.protocol || 'TCP') === p.protocol);
        if (was && was.nodePort && !p.nodePort) p.nodePort = was.nodePort;
      }
    }
  },
  PersistentVolumeClaim(obj) {
    defaultClaimSpec(obj.spec);
  },
  PersistentVolume(obj) {
    if (!obj.spec || typeof obj.spec !== 'object') return;
    setIfAbsent(obj.spec, 'persistentVolumeReclaimPolicy', 'Retain');
    setIfAbsent(obj.spec, 'volumeMode', 'Filesystem');
  },
  NetworkPolicy(obj) {
    const spec = obj.spec;
    if (!spec || typeof spec !== 'object') return;
    if (!Array.isArray(spec.policyTypes) || spec.policyTypes.length === 0) {
      spec.policyTypes = ['Ingress'];
      if (Array.isArray(spec.egress) && spec.egress.length > 0) spec.policyTypes.push('Egress');
    }
    for (const dir of ['ingress', 'egress']) {
      for (const rule of Array.isArray(spec[dir]) ? spec[dir] : []) {
        for (const p of (rule && Array.isArray(rule.ports)) ? rule.ports : []) if (p && typeof p === 'object') setIfAbsent(p, 'protocol', 'TCP');
      }
    }
  },
  Namespace(obj) {
    const meta = obj.metadata;
    if (!meta || !meta.name) return;
    meta.labels = { ...(meta.labels || {}), 'kubernetes.io/metadata.name': meta.name };
    setIfAbsent(obj, 'spec', {});
    setIfAbsent(obj.spec, 'finalizers', ['kubernetes']);
  },
  Secret(obj) {
    setIfAbsent(obj, 'type', 'Opaque');
  },
  CustomResourceDefinition(obj) {
    require('./crd').defaultCRD(obj);
  },
};

// On create, a Job without spec.manualSelector gets a selector on a uid of its
// own and that uid in its template's labels. The uid is made here, before the
// store sees the object: the store must keep a metadata.uid it is given.
function generateJobSelector(obj, old) {
  const spec = obj.spec;
  if (spec.manualSelector === true) return;
  if (old) {
    // A replace that leaves the generated parts out keeps them.
    if (!spec.selector && old.spec) spec.selector = old.spec.selector;
    const oldLabels = old.spec && old.spec.template && old.spec.template.metadata && old.spec.template.metadata.labels;
    if (oldLabels && spec.template && typeof spec.template === 'object') {
      spec.template.metadata = spec.template.metadata || {};
      const labels = (spec.template.metadata.labels = spec.template.metadata.labels || {});
      for (const k of ['controller-uid', 'batch.kubernetes.io/controller-uid', 'job-name', 'batch.kubernetes.io/job-name']) {
        if (oldLabels[k] !== undefined && labels[k] === undefined) labels[k] = oldLabels[k];
      }
    }
    return;
  }
  if (spec.selector) return; // not auto-generated; validation compares it to the template
  const meta = (obj.metadata = obj.metadata || {});
  if (!meta.uid) meta.uid = crypto.randomUUID();
  const uid = meta.uid;
  spec.selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
  if (spec.template && typeof spec.template === 'object') {
    spec.template.metadata = spec.template.metadata || {};
    spec.template.metadata.labels = {
      ...(spec.template.metadata.labels || {}),
      'batch.kubernetes.io/controller-uid': uid,
      'batch.kubernetes.io/job-name': meta.name || '',
      'controller-uid': uid,
      'job-name': meta.name || '',
    };
  }
}

// Fills in defaults in place and returns obj; for custom resources also
// prunes the fields their schema does not know (call unknownFields first for
// fieldValidation=Strict). `old` (the stored object) is
// given for updates: some values carry over from it rather than defaulting.
function applyDefaults(res, obj, old) {
  if (!obj || typeof obj !== 'object') return obj;
  if (obj.metadata && typeof obj.metadata === 'object') {
    // An empty map is the same as none; drop-in tools send both.
    for (const k of ['labels', 'annotations']) {
      if (obj.metadata[k] && typeof obj.metadata[k] === 'object' && Object.keys(obj.metadata[k]).length === 0) delete obj.metadata[k];
    }
  }
  // Custom resources: their schema's defaults, and unknown fields pruned.
  if (res.crd) require('./crd').defaultAndPrune(res, obj);
  const fn = !res.crd && DEFAULTERS[res.kind];
  if (fn) fn(obj, old);
  return stripUndefined(obj);
}

function stripUndefined(o) {
  if (Array.isArray(o)) o.forEach(stripUndefined);
  else if (o && typeof o === 'object') {
    for (const k of Object.keys(o)) {
      if (o[k] === undefined) delete o[k];
      else stripUndefined(o[k]);
    }
  }
  return o;
}

// Whether the API server should allocate a cluster IP for this Service:
// not for ExternalName, not for headless ("None"), not when it has one.
function serviceNeedsClusterIP(obj) {
  const spec = (obj && obj.spec) || {};
  if (spec.type === 'ExternalName') return false;
  return spec.clusterIP === undefined || spec.clusterIP === null || spec.clusterIP === '';
}

module.exports = { applyDefaults, serviceNeedsClusterIP, defaultPodSpec, defaultContainer, imageTag };
