'use strict';
// Label and field selectors, as list, watch and the controllers use them.

const { badRequest } = require('./errors');

// Splits on commas that are not inside parentheses: "a in (x,y),b" -> ["a in (x,y)", "b"].
function splitTerms(str) {
  const terms = [];
  let depth = 0;
  let cur = '';
  for (const ch of str) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) { terms.push(cur); cur = ''; continue; }
    cur += ch;
  }
  if (cur.trim() !== '') terms.push(cur);
  return terms.map((t) => t.trim()).filter((t) => t !== '');
}

function has(labels, key) { return Object.prototype.hasOwnProperty.call(labels, key); }

function requirement(key, op, values) {
  switch (op) {
    case '=': case '==': case 'In': return (l) => has(l, key) && values.includes(l[key]);
    case '!=': case 'NotIn': return (l) => !has(l, key) || !values.includes(l[key]);
    case 'Exists': return (l) => has(l, key);
    case 'DoesNotExist': return (l) => !has(l, key);
    default: throw badRequest(`unable to parse requirement: unknown operator "${op}"`);
  }
}

// "app=zk,tier!=web,env in (a,b),!legacy,release" -> matcher(labels) -> bool
function parseLabelSelector(str) {
  if (typeof str === 'function') return str;
  if (!str) return () => true;
  const reqs = splitTerms(str).map((term) => {
    let m;
    if ((m = /^!\s*([\w./-]+)$/.exec(term))) return requirement(m[1], 'DoesNotExist', []);
    if ((m = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term))) {
      const values = m[3].split(',').map((v) => v.trim()).filter((v) => v !== '');
      return requirement(m[1], m[2] === 'in' ? 'In' : 'NotIn', values);
    }
    if ((m = /^([\w./-]+)\s*(==|!=|=)\s*([\w./-]*)$/.exec(term))) return requirement(m[1], m[2], [m[3]]);
    if ((m = /^([\w./-]+)$/.exec(term))) return requirement(m[1], 'Exists', []);
    throw badRequest(`unable to parse requirement: invalid label selector "${term}"`);
  });
  return (labels) => reqs.every((r) => r(labels || {}));
}

// metav1.LabelSelector ({matchLabels, matchExpressions}) -> matcher. An empty
// selector matches everything; a null one nothing (as the API defines them).
function labelSelectorFromObject(sel) {
  if (sel === null || sel === undefined) return () => false;
  const reqs = [];
  for (const [k, v] of Object.entries(sel.matchLabels || {})) reqs.push(requirement(k, '=', [v]));
  for (const e of sel.matchExpressions || []) reqs.push(requirement(e.key, e.operator, e.values || []));
  return (labels) => reqs.every((r) => r(labels || {}));
}

function fieldValue(obj, path) {
  let cur = obj;
  for (const part of path.split('.')) {
    if (cur === null || cur === undefined) return undefined;
    cur = cur[part];
  }
  return cur;
}

// ---- field selectors per kind, as the real API server has them: the labels
// a kind's API version accepts (its field label conversion function,
// k8s.io/kubernetes pkg/apis/<group>/<version>/conversion.go, else
// runtime.DefaultMetaV1FieldSelectorConversion) and the value each label has
// for an object (the kind's ToSelectableFields in pkg/registry/.../strategy.go).
// A label that is accepted but not selectable (a Pod's status.podIPs) has the
// value "", as a missing key of a fields.Set does.

const str = (v) => (v === undefined || v === null ? '' : String(v));
const at = (path) => (o) => str(fieldValue(o, path));
const META = { 'metadata.name': at('metadata.name'), 'metadata.namespace': at('metadata.namespace') };
const NAME_ONLY = { 'metadata.name': at('metadata.name') };
const notSupported = (label) => `field label not supported: ${label}`;
const onlyMetadata = (label) => `"${label}" is not a known field selector: only "metadata.name", "metadata.namespace"`;

// group/plural -> {fields: {label: value(obj)}, aliases: {label: label}, reject(label)}
const FIELD_LABELS = {
  '/pods': {
    fields: {
      ...META,
      'spec.nodeName': at('spec.nodeName'),
      'spec.restartPolicy': at('spec.restartPolicy'),
      'spec.schedulerName': at('spec.schedulerName'),
      'spec.serviceAccountName': at('spec.serviceAccountName'),
      'spec.hostNetwork': (o) => String(!!(o.spec && o.spec.hostNetwork)),
      'status.phase': at('status.phase'),
      'status.podIP': (o) => str(o.status && ((o.status.podIPs && o.status.podIPs[0] && o.status.podIPs[0].ip) || o.status.podIP)),
      'status.podIPs': () => '',
      'status.nominatedNodeName': at('status.nominatedNodeName'),
    },
    aliases: { 'spec.host': 'spec.nodeName' },
    reject: notSupported,
  },
  '/events': {
    fields: {
      ...META,
      ...Object.fromEntries(['kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath']
        .map((f) => [`involvedObject.${f}`, at(`involvedObject.${f}`)])),
      reason: at('reason'),
      reportingComponent: at('reportingComponent'),
      source: (o) => str((o.source && o.source.component) || o.reportingComponent),
      type: at('type'),
    },
    reject: notSupported,
  },
  '/secrets': { fields: { ...META, type: at('type') }, reject: notSupported },
  '/services': { fields: { ...META, 'spec.clusterIP': at('spec.clusterIP'), 'spec.type': at('spec.type') }, reject: notSupported },
  '/namespaces': { fields: { ...NAME_ONLY, 'status.phase': at('status.phase') }, reject: notSupported },
  '/nodes': { fields: { ...NAME_ONLY, 'spec.unschedulable': (o) => String(!!(o.spec && o.spec.unschedulable)) }, reject: notSupported },
  '/replicationcontrollers': { fields: { ...META, 'status.replicas': (o) => String((o.status && o.status.replicas) || 0) }, reject: notSupported },
  'batch/jobs': {
    fields: { ...META, 'status.successful': (o) => String((o.status && o.status.succeeded) || 0) },
    reject: (label) => `field label "${label}" not supported for Job`,
  },
  // apps/v1 registers no conversion function: a ReplicaSet's selectable
  // status.replicas is refused before it is looked at, as on a real 1.32 server.
};

// A custom resource: metadata.name, metadata.namespace when namespaced, and
// the served version's selectableFields (a JSONPath like ".spec.color").
function customResourceLabels(res) {
  const v = ((res.crd.spec && res.crd.spec.versions) || []).find((x) => x.name === res.version) || {};
  const fields = res.namespaced ? { ...META } : { ...NAME_ONLY };
  for (const sf of v.selectableFields || []) {
    const label = String(sf.jsonPath || '').replace(/^\./, '');
    if (label) fields[label] = at(label);
  }
  return { fields, reject: notSupported };
}

function fieldLabelsOf(res) {
  if (res.crd) return customResourceLabels(res);
  return FIELD_LABELS[`${res.group}/${res.plural}`] || { fields: META, reject: onlyMetadata };
}

// "metadata.name=zk-0,status.phase!=Running" -> matcher(obj) -> bool. With
// res, only the fields its kind supports (else a 400 as the real server's);
// without, any dotted path (for the cluster's own components).
function parseFieldSelector(str, res) {
  if (typeof str === 'function') return str;
  if (!str) return () => true;
  const labels = res ? fieldLabelsOf(res) : null;
  const reqs = splitTerms(str).map((term) => {
    const m = /^([\w.]+)\s*(==|!=|=)\s*(.*)$/.exec(term);
    if (!m) throw badRequest(`invalid field selector: "${term}"`);
    const [, label, op, value] = m;
    let get = at(label);
    if (labels) {
      const canonical = (labels.aliases && labels.aliases[label]) || label;
      if (!Object.prototype.hasOwnProperty.call(labels.fields, canonical)) throw badRequest(labels.reject(label));
      get = labels.fields[canonical];
    }
    return op === '!=' ? (o) => get(o) !== value : (o) => get(o) === value;
  });
  return (obj) => reqs.every((r) => r(obj));
}

// A query boolean as the real server parses it (Go's strconv.ParseBool):
// 1, t, T, TRUE, true, True are true. Python's client sends "True".
function parseBool(value) {
  return ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value);
}

module.exports = { parseBool, parseLabelSelector, labelSelectorFromObject, parseFieldSelector, splitTerms };
