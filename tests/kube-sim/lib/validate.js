'use strict';
// Validation of objects written through the API, as the real API server does
// it: the official schema of the kind (kubernetes-models' compiled validators,
// the ones the project's render checks use), then the semantic rules that a
// JSON schema cannot express, then what an update may not change. The result
// is a list of causes {field, message, reason} shaped like those of a real
// 422 Invalid response; an empty list means valid.
//
// A cause with `decode: true` is a type mismatch: the real server rejects such
// a body while decoding it (400 BadRequest) rather than with a 422.

const u = require('./validate-util');
const { cause } = u;
const { checkPodSpec, checkTemplate } = require('./validate-pod');
const { validateUpdate } = require('./validate-update');
const models = require('./openapi-models');
const { labelSelectorFromObject } = require('./selectors');

const modelCache = new Map();

// The kubernetes-models class of a built-in kind, or null.
function modelClass(apiVersion, kind) {
  const key = `${apiVersion}/${kind}`;
  if (modelCache.has(key)) return modelCache.get(key);
  let cls = null;
  if (/^[A-Z][A-Za-z0-9]*$/.test(kind || '') && /^[a-z0-9.\-/]+$/.test(apiVersion || '')) {
    try {
      const mod = require(`kubernetes-models/${apiVersion}/${kind}`);
      if (mod[kind] && mod[kind].kind === kind) cls = mod[kind];
    } catch (e) {
      if (e.code !== 'MODULE_NOT_FOUND' && e.code !== 'ERR_PACKAGE_PATH_NOT_EXPORTED') throw e;
    }
  }
  modelCache.set(key, cls);
  return cls;
}

// ajv errors -> causes. A oneOf failure (int-or-string, quantities) reports
// its branches too; only the oneOf one is kept.
function schemaCauses(obj, errors) {
  const causes = [];
  const oneOfPaths = new Set(errors.filter((e) => e.keyword === 'oneOf').map((e) => e.instancePath));
  const at = (pointer) => pointer.split('/').slice(1).reduce((o, k) => (o == null ? o : o[k.replace(/~1/g, '/').replace(/~0/g, '~')]), obj);
  for (const e of errors) {
    const field = u.pointerToPath(obj, e.instancePath);
    const value = at(e.instancePath);
    if (e.keyword === 'required') {
      causes.push(cause.required(u.child(field, e.params.missingProperty)));
    } else if (oneOfPaths.has(e.instancePath) && e.keyword !== 'oneOf') {
      continue;
    } else if (e.keyword === 'oneOf') {
      causes.push({ ...cause.invalid(field, value, 'must be an integer or a string'), decode: true });
    } else if (e.keyword === 'type') {
      causes.push({ ...cause.invalid(field, value, `must be of type ${e.params.type}`), decode: true });
    } else if (e.keyword === 'enum') {
      causes.push(cause.notSupported(field, value, e.params.allowedValues));
    } else {
      causes.push(cause.invalid(field, value, e.message));
    }
  }
  return causes;
}

// Name rules of each kind, as the real registry strategies apply them.
function nameErrors(kind, name) {
  switch (kind) {
    case 'Namespace': return u.dnsLabelErrors(name);
    case 'Service': return u.dns1035Errors(name);
    case 'Role': case 'RoleBinding': case 'ClusterRole': case 'ClusterRoleBinding':
    case 'SelfSubjectAccessReview': case 'SubjectAccessReview': case 'TokenReview': case 'SelfSubjectReview':
    case 'Event':
      return u.pathSegmentErrors(name);
    default: return u.subdomainErrors(name);
  }
}

function checkMetadata(causes, res, obj) {
  const meta = obj.metadata;
  if (!meta || typeof meta !== 'object') {
    causes.push(cause.required('metadata'));
    return;
  }
  if (!meta.name && !meta.generateName) causes.push(cause.required('metadata.name', 'name or generateName is required'));
  if (typeof meta.name === 'string' && meta.name) {
    for (const m of nameErrors(res.kind, meta.name)) causes.push(cause.invalid('metadata.name', meta.name, m));
  } else if (typeof meta.generateName === 'string' && meta.generateName) {
    // The prefix plus the five random characters must make a valid name.
    for (const m of nameErrors(res.kind, meta.generateName.replace(/-+$/, '') + 'abcde')) {
      causes.push(cause.invalid('metadata.generateName', meta.generateName, m));
    }
  }
  if (res.namespaced && typeof meta.namespace === 'string' && meta.namespace) {
    for (const m of u.dnsLabelErrors(meta.namespace)) causes.push(cause.invalid('metadata.namespace', meta.namespace, m));
  }
  if (!res.namespaced && meta.namespace) causes.push(cause.forbidden('metadata.namespace', 'not allowed on this type'));
  u.checkLabels(causes, 'metadata.labels', meta.labels);
  u.checkAnnotations(causes, 'metadata.annotations', meta.annotations);
  (meta.finalizers || []).forEach((f, i) => {
    if (typeof f !== 'string') return;
    for (const m of u.qualifiedNameErrors(f)) causes.push(cause.invalid(`metadata.finalizers[${i}]`, f, m));
  });
}

function checkSelector(causes, path, sel, { required = true, templateLabels, templatePath, kind } = {}) {
  if (!sel) {
    if (required) causes.push(cause.required(path));
    return;
  }
  u.checkLabels(causes, `${path}.matchLabels`, sel.matchLabels);
  (sel.matchExpressions || []).forEach((r, i) => {
    const p = `${path}.matchExpressions[${i}]`;
    if (!r) return;
    if (['In', 'NotIn'].includes(r.operator) && !(r.values || []).length) causes.push(cause.required(`${p}.values`, 'must be specified when `operator` is \'In\' or \'NotIn\''));
    if (['Exists', 'DoesNotExist'].includes(r.operator) && (r.values || []).length) causes.push(cause.forbidden(`${p}.values`, 'may not be specified when `operator` is \'Exists\' or \'DoesNotExist\''));
    if (typeof r.key === 'string') for (const m of u.qualifiedNameErrors(r.key)) causes.push(cause.invalid(`${p}.key`, r.key, m));
  });
  const empty = !Object.keys(sel.matchLabels || {}).length && !(sel.matchExpressions || []).length;
  if (empty && kind) causes.push(cause.invalid(path, sel, `empty selector is invalid for ${kind}`));
  if (templateLabels !== undefined && !empty) {
    let matches = false;
    try { matches = labelSelectorFromObject(sel)(templateLabels || {}); } catch (e) { matches = false; }
    if (!matches) {
      // Go's %#v of the labels, as in the real message.
      const shown = Object.keys(templateLabels || {}).sort().map((k) => `${JSON.stringify(k)}:${JSON.stringify(templateLabels[k])}`).join(', ');
      causes.push({ field: templatePath, reason: 'FieldValueInvalid', message: `Invalid value: map[string]string{${shown}}: \`selector\` does not match template \`labels\`` });
    }
  }
}

function checkReplicas(causes, spec) {
  u.checkNonNegative(causes, 'spec.replicas', spec.replicas);
  u.checkNonNegative(causes, 'spec.minReadySeconds', spec.minReadySeconds);
  u.checkNonNegative(causes, 'spec.revisionHistoryLimit', spec.revisionHistoryLimit);
}

const labelsOf = (tmpl) => (tmpl && tmpl.metadata && tmpl.metadata.labels) || {};

function checkIntOrPercent(causes, path, v) {
  if (v === undefined) return;
  if (typeof v === 'number') u.checkNonNegative(causes, path, v);
  else if (typeof v === 'string' && !/^\d+%$/.test(v)) causes.push(cause.invalid(path, v, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"));
}

const KIND_CHECKS = {
  Pod(causes, obj) { checkPodSpec(causes, 'spec', obj.spec); },
  StatefulSet(causes, obj) {
    const spec = obj.spec || {};
    checkReplicas(causes, spec);
    checkSelector(causes, 'spec.selector', spec.selector, { templateLabels: labelsOf(spec.template), templatePath: 'spec.template.metadata.labels', kind: 'statefulset' });
    const claims = (spec.volumeClaimTemplates || []).map((c) => c && c.metadata && c.metadata.name).filter(Boolean);
    checkTemplate(causes, 'spec.template', spec.template, { extraVolumes: claims, restartPolicies: ['Always'] });
    const us = spec.updateStrategy;
    if (us && us.type === 'OnDelete' && us.rollingUpdate) causes.push(cause.invalid('spec.updateStrategy.rollingUpdate', us.rollingUpdate, 'only allowed for updateStrategy \'RollingUpdate\''));
    if (us && us.rollingUpdate) u.checkNonNegative(causes, 'spec.updateStrategy.rollingUpdate.partition', us.rollingUpdate.partition);
    (spec.volumeClaimTemplates || []).forEach((c, i) => {
      const name = c && c.metadata && c.metadata.name;
      if (!name) causes.push(cause.required(`spec.volumeClaimTemplates[${i}].metadata.name`));
      if (!c || !c.spec || !(c.spec.accessModes || []).length) causes.push(cause.required(`spec.volumeClaimTemplates[${i}].spec.accessModes`, 'at least 1 access mode is required'));
    });
  },
  Deployment(causes, obj) {
    const spec = obj.spec || {};
    checkReplicas(causes, spec);
    checkSelector(causes, 'spec.selector', spec.selector, { templateLabels: labelsOf(spec.template), templatePath: 'spec.template.metadata.labels', kind: 'deployment' });
    checkTemplate(causes, 'spec.template', spec.template, { restartPolicies: ['Always'] });
    const st = spec.strategy || {};
    if (st.type === 'Recreate' && st.rollingUpdate) causes.push(cause.forbidden('spec.strategy.rollingUpdate', "may not be specified when strategy `type` is 'Recreate'"));
    if (st.rollingUpdate) {
      checkIntOrPercent(causes, 'spec.strategy.rollingUpdate.maxUnavailable', st.rollingUpdate.maxUnavailable);
      checkIntOrPercent(causes, 'spec.strategy.rollingUpdate.maxSurge', st.rollingUpdate.maxSurge);
      const zero = (v) => v === 0 || v === '0%';
      if (zero(st.rollingUpdate.maxUnavailable) && zero(st.rollingUpdate.maxSurge)) {
        causes.push(cause.invalid('spec.strategy.rollingUpdate.maxUnavailable', st.rollingUpdate.maxUnavailable, 'may not be 0 when `maxSurge` is 0'));
      }
    }
    if (spec.progressDeadlineSeconds !== undefined && spec.minReadySeconds !== undefined && spec.progressDeadlineSeconds <= spec.minReadySeconds) {
      causes.push(cause.invalid('spec.progressDeadlineSeconds', spec.progressDeadlineSeconds, 'must be greater than minReadySeconds'));
    }
  },
  ReplicaSet(causes, obj) {
    const spec = obj.spec || {};
    checkReplicas(causes, spec);
    checkSelector(causes, 'spec.selector', spec.selector, { templateLabels: labelsOf(spec.template), templatePath: 'spec.template.metadata.labels', kind: 'replicaset' });
    checkTemplate(causes, 'spec.template', spec.template, { restartPolicies: ['Always'] });
  },
  Job(causes, obj) {
    const spec = obj.spec || {};
    for (const f of ['parallelism', 'completions', 'backoffLimit', 'activeDeadlineSeconds', 'ttlSecondsAfterFinished']) u.checkNonNegative(causes, `spec.${f}`, spec[f]);
    checkSelector(causes, 'spec.selector', spec.selector, { required: false, templateLabels: labelsOf(spec.template), templatePath: 'spec.template.metadata.labels' });
    checkTemplate(causes, 'spec.template', spec.template, { restartPolicies: ['OnFailure', 'Never'] });
    if (spec.template && spec.template.spec && spec.template.spec.restartPolicy === undefined) {
      causes.push(cause.required('spec.template.spec.restartPolicy', 'valid values: "OnFailure", "Never"'));
    }
  },
  Service(causes, obj) {
    const spec = obj.spec || {};
    const headless = spec.clusterIP === 'None';
    const ports = spec.ports || [];
    if (spec.type !== 'ExternalName' && !headless && ports.length === 0) causes.push(cause.required('spec.ports'));
    const names = new Set();
    const keys = new Set();
    ports.forEach((p, i) => {
      const pp = `spec.ports[${i}]`;
      if (!p || typeof p !== 'object') return;
      if (ports.length > 1 && !p.name) causes.push(cause.required(`${pp}.name`));
      if (p.name) {
        for (const m of u.dnsLabelErrors(p.name)) causes.push(cause.invalid(`${pp}.name`, p.name, m));
        if (names.has(p.name)) causes.push(cause.duplicate(`${pp}.name`, p.name));
        names.add(p.name);
      }
      if (p.port === undefined) causes.push(cause.required(`${pp}.port`));
      else u.checkPortNumber(causes, `${pp}.port`, p.port);
      const key = `${p.port}/${p.protocol || 'TCP'}`;
      if (keys.has(key)) causes.push(cause.duplicate(pp, { port: p.port, protocol: p.protocol || 'TCP' }));
      keys.add(key);
      if (p.targetPort !== undefined) u.checkIntOrName(causes, `${pp}.targetPort`, p.targetPort);
      if (p.nodePort !== undefined && p.nodePort !== 0) {
        if (!['NodePort', 'LoadBalancer'].includes(spec.type)) causes.push(cause.forbidden(`${pp}.nodePort`, `may not be used when \`type\` is '${spec.type || 'ClusterIP'}'`));
        else u.checkPortNumber(causes, `${pp}.nodePort`, p.nodePort);
      }
    });
    u.checkLabels(causes, 'spec.selector', spec.selector);
    if (spec.type === 'ExternalName' && !spec.externalName) causes.push(cause.required('spec.externalName'));
  },
  ConfigMap(causes, obj) { configData(causes, obj); },
  Secret(causes, obj) { configData(causes, obj, 'stringData'); },
  PersistentVolumeClaim(causes, obj) {
    const spec = obj.spec || {};
    if (!(spec.accessModes || []).length) causes.push(cause.required('spec.accessModes', 'at least 1 access mode is required'));
    const storage = spec.resources && spec.resources.requests && spec.resources.requests.storage;
    if (storage === undefined && !spec.dataSourceRef) causes.push(cause.required('spec.resources[storage]'));
    else if (storage !== undefined) u.checkQuantity(causes, 'spec.resources[storage]', storage);
  },
  PodDisruptionBudget(causes, obj) {
    const spec = obj.spec || {};
    if (spec.minAvailable !== undefined && spec.maxUnavailable !== undefined) causes.push(cause.invalid('spec', spec, 'minAvailable and maxUnavailable cannot be both set'));
    checkIntOrPercent(causes, 'spec.minAvailable', spec.minAvailable);
    checkIntOrPercent(causes, 'spec.maxUnavailable', spec.maxUnavailable);
    checkSelector(causes, 'spec.selector', spec.selector, { required: false });
  },
  NetworkPolicy(causes, obj) {
    const spec = obj.spec || {};
    checkSelector(causes, 'spec.podSelector', spec.podSelector, { required: true });
    for (const dir of ['ingress', 'egress']) {
      (spec[dir] || []).forEach((rule, i) => (rule && rule.ports || []).forEach((p, j) => {
        if (p && p.port !== undefined) u.checkIntOrName(causes, `spec.${dir}[${i}].ports[${j}].port`, p.port);
        if (p && p.endPort !== undefined && typeof p.port === 'number' && p.endPort < p.port) causes.push(cause.invalid(`spec.${dir}[${i}].ports[${j}].endPort`, p.endPort, 'must be greater than or equal to `port`'));
      }));
    }
  },
};

function configData(causes, obj, extra) {
  let size = 0;
  const seen = new Set();
  for (const field of ['data', 'binaryData', extra].filter(Boolean)) {
    for (const [k, v] of Object.entries(obj[field] || {})) {
      if (k.length > 253 || !u.CONFIG_KEY.test(k)) causes.push(cause.invalid(`${field}[${k}]`, k, u.MSG.configKey));
      if (field === 'binaryData' && seen.has(k)) causes.push(cause.invalid(`${field}[${k}]`, k, 'duplicate of key present in data'));
      seen.add(k);
      size += k.length + String(v).length;
    }
  }
  if (size > 1024 * 1024) causes.push({ field: '', reason: 'FieldValueTooLong', message: `Too long: must have at most 1048576 bytes` });
}

// Causes against the kind's schema and semantics; `old` given for updates.
function validate(res, obj, old) {
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return [cause.invalid('', obj, 'must be an object')];
  const causes = [];
  if (res.crd) {
    causes.push(...require('./crd').validateCustom(res, obj));
  } else {
    const cls = modelClass(res.apiVersion, res.kind);
    if (cls) {
      try {
        new cls({ ...obj, apiVersion: res.apiVersion, kind: res.kind }).validate();
      } catch (e) {
        if (!Array.isArray(e.errors)) throw e;
        causes.push(...schemaCauses(obj, e.errors));
      }
    }
  }
  checkMetadata(causes, res, obj);
  if (!res.crd && KIND_CHECKS[res.kind]) KIND_CHECKS[res.kind](causes, obj);
  if (res.kind === 'CustomResourceDefinition') causes.push(...require('./crd').validateCRD(obj));
  if (old) causes.push(...validateUpdate(res, obj, old));
  const seen = new Set();
  return causes.filter((c) => {
    const key = `${c.field}\0${c.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

// Paths of the fields that the kind's schema does not know (for
// fieldValidation=Strict / Warn), e.g. ['spec.foo', 'spec.template.spec.containers[0].imagePullPolcy'].
function unknownFields(res, obj) {
  if (res.crd) return require('./crd').unknownCustomFields(res, obj);
  const root = models.schemaOfKind(res.apiVersion, res.kind);
  if (!root) return [];
  const out = [];
  walk(root.schema, obj, '', out);
  return out;
}

function walk(schema, value, path, out) {
  const s = models.resolveRef(schema);
  if (!s || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    if (s.items) value.forEach((v, i) => walk(s.items, v, `${path}[${i}]`, out));
    return;
  }
  if (s.additionalProperties) {
    for (const [k, v] of Object.entries(value)) walk(s.additionalProperties, v, u.child(path, k), out);
    return;
  }
  const props = s.properties;
  if (!props || Object.keys(props).length === 0) return; // free-form (RawExtension, FieldsV1, JSON)
  for (const [k, v] of Object.entries(value)) {
    const p = u.child(path, k);
    if (!Object.prototype.hasOwnProperty.call(props, k)) out.push(p);
    else walk(props[k], v, p, out);
  }
}

module.exports = { validate, unknownFields, modelClass, nameErrors };
