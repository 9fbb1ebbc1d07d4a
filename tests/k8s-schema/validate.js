#!/usr/bin/env node
// Validates rendered Kubernetes objects against the Kubernetes and
// prometheus-operator schemas (kubernetes-models), plus the checks that the
// schemas cannot express: value ranges (ports, replicas), name and label
// syntax and lengths, references between the rendered objects (selectors
// that match their pod templates, volumes that exist, named ports), and that
// every pod template passes the Pod Security Standards' "restricted" level
// (the test cluster's admission, tests/kube-sim/lib/podsecurity.js) with a
// read-only root filesystem in every container.
//
// Usage: node validate.js [--expect KIND=N ...] [FILE ...]
//   no FILE or "-": read standard input; --expect KIND=N fails unless exactly
//   N objects of that kind were rendered (e.g. StatefulSet=3, Deployment=0).
//
// Each input is one JSON document: a single object, or a List
// {"apiVersion":"v1","kind":"List","items":[...]} as printed by
// `zkpilot render PKG --format json`. Prints one line per object and a
// closing "N passed, M failed" line; exits 1 when any object fails, 2 when an
// input cannot be read.
"use strict";

const fs = require("fs");
const podSecurity = require("../kube-sim/lib/podsecurity");

// ------------------------------------------------------------------ models

// apiVersion -> package path prefix of its kubernetes-models classes. A kind
// is looked up as <prefix>/<Kind>; anything not found is a failure.
const MODEL_PREFIXES = {
  "v1": "kubernetes-models/v1",
  "apps/v1": "kubernetes-models/apps/v1",
  "batch/v1": "kubernetes-models/batch/v1",
  "policy/v1": "kubernetes-models/policy/v1",
  "networking.k8s.io/v1": "kubernetes-models/networking.k8s.io/v1",
  "rbac.authorization.k8s.io/v1": "kubernetes-models/rbac.authorization.k8s.io/v1",
  "autoscaling/v2": "kubernetes-models/autoscaling/v2",
  "monitoring.coreos.com/v1": "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1",
};

function modelFor(apiVersion, kind) {
  const prefix = MODEL_PREFIXES[apiVersion];
  if (!prefix) return { error: `unknown apiVersion ${apiVersion}` };
  if (!/^[A-Z][A-Za-z0-9]*$/.test(kind || "")) return { error: `invalid kind ${JSON.stringify(kind)}` };
  let mod;
  try {
    mod = require(`${prefix}/${kind}`);
  } catch (e) {
    if (e.code === "MODULE_NOT_FOUND" || e.code === "ERR_PACKAGE_PATH_NOT_EXPORTED")
      return { error: `unknown kind ${kind} in ${apiVersion}` };
    throw e;
  }
  const cls = mod[kind];
  if (!cls || cls.apiVersion !== apiVersion || cls.kind !== kind)
    return { error: `unknown kind ${kind} in ${apiVersion}` };
  return { cls };
}

// ------------------------------------------------------------------ syntax

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const IANA_SVC_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const CONFIGMAP_KEY = /^[-._a-zA-Z0-9]+$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const QUANTITY = /^[+-]?(\d+(\.\d*)?|\.\d+)(([KMGTPE]i)|[numkMGTPE]|[eE][+-]?\d+)?$/;

function checkDns1123Label(errs, where, v) {
  if (typeof v !== "string" || v.length > 63 || !DNS1123_LABEL.test(v))
    errs.push(`${where} ${JSON.stringify(v)} is not a DNS-1123 label (a-z, 0-9, '-', at most 63)`);
}

function checkDns1035Label(errs, where, v) {
  if (typeof v !== "string" || v.length > 63 || !DNS1035_LABEL.test(v))
    errs.push(`${where} ${JSON.stringify(v)} is not a DNS-1035 label (starts with a-z, at most 63)`);
}

function checkDns1123Subdomain(errs, where, v) {
  if (typeof v !== "string" || v.length > 253 || !DNS1123_SUBDOMAIN.test(v))
    errs.push(`${where} ${JSON.stringify(v)} is not a DNS-1123 subdomain`);
}

// A label or annotation key: [prefix/]name.
function checkQualifiedKey(errs, where, key) {
  const slash = key.lastIndexOf("/");
  const prefix = slash >= 0 ? key.slice(0, slash) : null;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== null && (prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix)))
    errs.push(`${where}: key ${JSON.stringify(key)} has an invalid prefix`);
  if (name.length > 63 || !QUALIFIED_NAME.test(name))
    errs.push(`${where}: key ${JSON.stringify(key)} has an invalid name (alphanumerics, '-', '_', '.', at most 63)`);
}

function checkLabels(errs, where, labels) {
  if (labels === undefined || labels === null) return;
  if (typeof labels !== "object" || Array.isArray(labels)) {
    errs.push(`${where} must be a map`);
    return;
  }
  for (const [k, v] of Object.entries(labels)) {
    checkQualifiedKey(errs, where, k);
    if (typeof v !== "string") errs.push(`${where}.${k}: value must be a string, got ${JSON.stringify(v)}`);
    else if (v.length > 63 || !LABEL_VALUE.test(v))
      errs.push(`${where}.${k}: value ${JSON.stringify(v)} is not a valid label value (at most 63)`);
  }
}

function checkAnnotations(errs, where, annotations) {
  if (annotations === undefined || annotations === null) return;
  let size = 0;
  for (const [k, v] of Object.entries(annotations)) {
    checkQualifiedKey(errs, where, k);
    if (typeof v !== "string") errs.push(`${where}.${k}: value must be a string, got ${JSON.stringify(v)}`);
    size += k.length + String(v).length;
  }
  if (size > 256 * 1024) errs.push(`${where}: annotations exceed 256 KiB`);
}

function checkQuantity(errs, where, v) {
  if (typeof v === "number") {
    if (!(v >= 0)) errs.push(`${where}: negative quantity ${v}`);
    return;
  }
  if (typeof v !== "string" || !QUANTITY.test(v)) errs.push(`${where}: ${JSON.stringify(v)} is not a quantity`);
}

function checkResources(errs, where, res) {
  if (!res) return;
  for (const part of ["requests", "limits"]) {
    for (const [k, v] of Object.entries(res[part] || {})) checkQuantity(errs, `${where}.${part}.${k}`, v);
  }
}

// ------------------------------------------------------------------ ranges

const PORT_KEYS = new Set(["port", "containerPort", "targetPort", "nodePort", "hostPort", "httpPort"]);

// Every integer port anywhere in the object is within 1..65535 (nodePort
// 0 means "allocate"); a named port follows IANA_SVC_NAME rules.
function checkPortsDeep(errs, path, v) {
  if (Array.isArray(v)) {
    v.forEach((e, i) => checkPortsDeep(errs, `${path}[${i}]`, e));
    return;
  }
  if (!v || typeof v !== "object") return;
  for (const [k, child] of Object.entries(v)) {
    const p = `${path}.${k}`;
    if (PORT_KEYS.has(k) && typeof child === "number") {
      const min = k === "nodePort" ? 0 : 1;
      if (!Number.isInteger(child) || child < min || child > 65535) errs.push(`${p}: port ${child} outside 1..65535`);
    } else if (PORT_KEYS.has(k) && typeof child === "string") {
      if (child.length > 15 || !IANA_SVC_NAME.test(child) || !/[a-z]/.test(child) || child.includes("--"))
        errs.push(`${p}: ${JSON.stringify(child)} is not a valid port name`);
    } else {
      checkPortsDeep(errs, p, child);
    }
  }
}

function checkReplicas(errs, where, v) {
  if (v === undefined) return;
  if (!Number.isInteger(v) || v < 0) errs.push(`${where}: replicas ${JSON.stringify(v)} must be an integer >= 0`);
}

// ------------------------------------------------------------------ pods

function podTemplateOf(obj) {
  if (["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"].includes(obj.kind))
    return obj.spec && obj.spec.template;
  return null;
}

function selectorMatches(matchLabels, labels) {
  if (!matchLabels || Object.keys(matchLabels).length === 0) return false;
  return Object.entries(matchLabels).every(([k, v]) => labels && labels[k] === v);
}

function checkPodSpec(errs, where, spec, extraVolumes) {
  if (!spec) return;
  const volumes = new Set(extraVolumes);
  for (const [i, vol] of (spec.volumes || []).entries()) {
    checkDns1123Label(errs, `${where}.volumes[${i}].name`, vol.name);
    if (volumes.has(vol.name)) errs.push(`${where}.volumes: duplicate volume ${vol.name}`);
    volumes.add(vol.name);
  }
  if (spec.hostname !== undefined) checkDns1123Label(errs, `${where}.hostname`, spec.hostname);
  if (spec.subdomain !== undefined) checkDns1123Label(errs, `${where}.subdomain`, spec.subdomain);
  if (spec.serviceAccountName !== undefined)
    checkDns1123Subdomain(errs, `${where}.serviceAccountName`, spec.serviceAccountName);
  if (spec.nodeSelector) checkLabels(errs, `${where}.nodeSelector`, spec.nodeSelector);
  if (spec.terminationGracePeriodSeconds !== undefined && !(spec.terminationGracePeriodSeconds >= 0))
    errs.push(`${where}.terminationGracePeriodSeconds must be >= 0`);
  for (const v of podSecurity.violations("restricted", spec))
    errs.push(`${where}: violates PodSecurity "restricted:latest": ${v}`);
  const containers = [...(spec.initContainers || []), ...(spec.containers || [])];
  for (const c of containers)
    if (!(c.securityContext && c.securityContext.readOnlyRootFilesystem === true))
      errs.push(`${where}.containers[${c.name}]: securityContext.readOnlyRootFilesystem is not true`);
  const names = new Set();
  for (const c of containers) {
    const cw = `${where}.containers[${c.name}]`;
    checkDns1123Label(errs, `${cw}.name`, c.name);
    if (names.has(c.name)) errs.push(`${where}: duplicate container ${c.name}`);
    names.add(c.name);
    if (!c.image) errs.push(`${cw}: no image`);
    const portNames = new Set();
    for (const p of c.ports || []) {
      if (p.name === undefined) continue;
      if (portNames.has(p.name)) errs.push(`${cw}: duplicate port name ${p.name}`);
      portNames.add(p.name);
    }
    for (const e of c.env || []) {
      if (!ENV_NAME.test(e.name || "")) errs.push(`${cw}.env: invalid name ${JSON.stringify(e.name)}`);
      if (e.value !== undefined && typeof e.value !== "string")
        errs.push(`${cw}.env.${e.name}: value must be a string`);
    }
    const mountPaths = new Set();
    for (const m of c.volumeMounts || []) {
      if (!volumes.has(m.name)) errs.push(`${cw}.volumeMounts: no volume named ${m.name}`);
      if (mountPaths.has(m.mountPath)) errs.push(`${cw}.volumeMounts: ${m.mountPath} mounted twice`);
      mountPaths.add(m.mountPath);
      if (typeof m.mountPath !== "string" || !m.mountPath.startsWith("/"))
        errs.push(`${cw}.volumeMounts: mountPath ${JSON.stringify(m.mountPath)} must be absolute`);
    }
    checkResources(errs, `${cw}.resources`, c.resources);
    for (const probe of ["readinessProbe", "livenessProbe", "startupProbe"]) {
      const pr = c[probe];
      if (!pr) continue;
      for (const f of ["initialDelaySeconds", "periodSeconds", "timeoutSeconds", "failureThreshold", "successThreshold"])
        if (pr[f] !== undefined && !(Number.isInteger(pr[f]) && pr[f] >= (f === "initialDelaySeconds" ? 0 : 1)))
          errs.push(`${cw}.${probe}.${f}: ${pr[f]} out of range`);
      const port = pr.httpGet ? pr.httpGet.port : pr.tcpSocket ? pr.tcpSocket.port : undefined;
      if (typeof port === "string" && !portNames.has(port))
        errs.push(`${cw}.${probe}: no container port named ${port}`);
    }
  }
}

// ------------------------------------------------------------------ objects

function checkObject(obj, all) {
  const errs = [];
  const meta = obj.metadata || {};
  const id = `${obj.kind}/${meta.name}`;
  if (obj.kind === "Service") checkDns1035Label(errs, "metadata.name", meta.name);
  else if (["Namespace", "StatefulSet", "Deployment"].includes(obj.kind)) checkDns1123Label(errs, "metadata.name", meta.name);
  else checkDns1123Subdomain(errs, "metadata.name", meta.name);
  // StatefulSet pods carry controller-revision-hash=<name>-<hash> (<= 63).
  if (obj.kind === "StatefulSet" && typeof meta.name === "string" && meta.name.length > 52)
    errs.push(`metadata.name: a StatefulSet name longer than 52 characters breaks its pods' revision label`);
  if (meta.namespace !== undefined) checkDns1123Label(errs, "metadata.namespace", meta.namespace);
  checkLabels(errs, "metadata.labels", meta.labels);
  checkAnnotations(errs, "metadata.annotations", meta.annotations);
  checkPortsDeep(errs, "spec", obj.spec);
  const spec = obj.spec || {};
  checkReplicas(errs, "spec.replicas", spec.replicas);

  const tmpl = podTemplateOf(obj);
  if (tmpl) {
    const podLabels = (tmpl.metadata && tmpl.metadata.labels) || {};
    checkLabels(errs, "spec.template.metadata.labels", podLabels);
    checkAnnotations(errs, "spec.template.metadata.annotations", tmpl.metadata && tmpl.metadata.annotations);
    const sel = spec.selector && spec.selector.matchLabels;
    checkLabels(errs, "spec.selector.matchLabels", sel);
    if (obj.kind !== "Job" && !selectorMatches(sel, podLabels))
      errs.push("spec.selector.matchLabels does not match spec.template.metadata.labels");
    const claimNames = [];
    for (const [i, vct] of (spec.volumeClaimTemplates || []).entries()) {
      const n = vct.metadata && vct.metadata.name;
      checkDns1123Label(errs, `spec.volumeClaimTemplates[${i}].metadata.name`, n);
      claimNames.push(n);
      if (vct.metadata) checkLabels(errs, `spec.volumeClaimTemplates[${i}].metadata.labels`, vct.metadata.labels);
      const storage = vct.spec && vct.spec.resources && vct.spec.resources.requests && vct.spec.resources.requests.storage;
      if (storage === undefined) errs.push(`spec.volumeClaimTemplates[${i}]: no storage request`);
      else checkQuantity(errs, `spec.volumeClaimTemplates[${i}].storage`, storage);
    }
    checkPodSpec(errs, "spec.template.spec", tmpl.spec, claimNames);
    // References to other rendered objects in the same namespace.
    for (const vol of (tmpl.spec && tmpl.spec.volumes) || []) {
      if (vol.configMap && !all.has(`ConfigMap/${vol.configMap.name}`) && !vol.configMap.optional)
        errs.push(`volume ${vol.name}: ConfigMap ${vol.configMap.name} is not rendered`);
      if (vol.persistentVolumeClaim && !all.has(`PersistentVolumeClaim/${vol.persistentVolumeClaim.claimName}`))
        errs.push(`volume ${vol.name}: PersistentVolumeClaim ${vol.persistentVolumeClaim.claimName} is not rendered`);
    }
    if (obj.kind === "StatefulSet" && !all.has(`Service/${spec.serviceName}`))
      errs.push(`spec.serviceName: Service ${spec.serviceName} is not rendered`);
    // A pod may use a ServiceAccount that exists in the cluster already; but
    // when the render creates ServiceAccounts, a name matching none of them
    // is a template mistake.
    const sa = tmpl.spec && tmpl.spec.serviceAccountName;
    const rendersAccounts = [...all.keys()].some((k) => k.startsWith("ServiceAccount/"));
    if (sa && rendersAccounts && !all.has(`ServiceAccount/${sa}`))
      errs.push(`serviceAccountName: ServiceAccount ${sa} is not among the rendered ones`);
  }

  if (obj.kind === "Service") {
    checkLabels(errs, "spec.selector", spec.selector);
    const ports = spec.ports || [];
    if (ports.length === 0 && spec.clusterIP !== "None") errs.push("spec.ports: a Service needs at least one port");
    const names = new Set();
    for (const p of ports) {
      if (ports.length > 1 && !p.name) errs.push("spec.ports: every port needs a name when there are several");
      if (p.name !== undefined) checkDns1123Label(errs, `spec.ports[${p.name}].name`, p.name);
      if (names.has(p.name)) errs.push(`spec.ports: duplicate name ${p.name}`);
      names.add(p.name);
    }
    // The selector must pick some rendered pod template, and its named
    // target ports must exist there.
    if (spec.selector && Object.keys(spec.selector).length > 0) {
      const pods = [...all.values()].map(podTemplateOf).filter((t) => t && selectorMatches(spec.selector, t.metadata && t.metadata.labels));
      if (pods.length === 0) errs.push("spec.selector matches no rendered pod template");
      for (const p of ports) {
        if (typeof p.targetPort !== "string") continue;
        const has = pods.some((t) => ((t.spec && t.spec.containers) || []).some((c) => (c.ports || []).some((cp) => cp.name === p.targetPort)));
        if (pods.length > 0 && !has) errs.push(`spec.ports[${p.name}]: no selected container has a port named ${p.targetPort}`);
      }
    }
  }

  if (obj.kind === "ConfigMap" || obj.kind === "Secret") {
    let size = 0;
    for (const [k, v] of Object.entries(obj.data || {})) {
      if (k.length > 253 || !CONFIGMAP_KEY.test(k)) errs.push(`data: invalid key ${JSON.stringify(k)}`);
      if (typeof v !== "string") errs.push(`data.${k}: value must be a string`);
      size += k.length + String(v).length;
    }
    if (size > 1024 * 1024) errs.push(`data: ${size} bytes exceed the 1 MiB limit of a ${obj.kind}`);
  }

  if (obj.kind === "PersistentVolumeClaim") {
    const storage = spec.resources && spec.resources.requests && spec.resources.requests.storage;
    if (storage === undefined) errs.push("spec.resources.requests.storage is missing");
    else checkQuantity(errs, "spec.resources.requests.storage", storage);
  }

  if (obj.kind === "PodDisruptionBudget" || obj.kind === "NetworkPolicy") {
    const sel = obj.kind === "PodDisruptionBudget" ? spec.selector : spec.podSelector;
    const ml = sel && sel.matchLabels;
    checkLabels(errs, "selector.matchLabels", ml);
    if (ml && Object.keys(ml).length > 0) {
      const pods = [...all.values()].map(podTemplateOf).filter((t) => t && selectorMatches(ml, t.metadata && t.metadata.labels));
      if (pods.length === 0) errs.push("selector matches no rendered pod template");
    }
    if (obj.kind === "PodDisruptionBudget" && typeof spec.maxUnavailable === "number" && spec.maxUnavailable < 0)
      errs.push("spec.maxUnavailable must be >= 0");
  }

  if (obj.kind === "ServiceMonitor") {
    const ml = spec.selector && spec.selector.matchLabels;
    checkLabels(errs, "spec.selector.matchLabels", ml);
    const services = [...all.values()].filter((o) => o.kind === "Service" && selectorMatches(ml, o.metadata && o.metadata.labels));
    if (services.length === 0) errs.push("spec.selector matches no rendered Service");
    for (const ep of spec.endpoints || []) {
      if (ep.port && !services.some((s) => ((s.spec && s.spec.ports) || []).some((p) => p.name === ep.port)))
        errs.push(`spec.endpoints: no selected Service has a port named ${ep.port}`);
    }
  }

  if (obj.kind === "PrometheusRule") {
    const groups = spec.groups || [];
    if (groups.length === 0) errs.push("spec.groups is empty");
    for (const g of groups)
      for (const r of g.rules || [])
        if (!r.expr) errs.push(`rule ${r.alert || r.record} in group ${g.name} has no expr`);
  }
  return { id, errs };
}

// ------------------------------------------------------------------ main

function readInputs(args) {
  const files = args.length === 0 ? ["-"] : args;
  const objects = [];
  for (const f of files) {
    const text = f === "-" ? fs.readFileSync(0, "utf8") : fs.readFileSync(f, "utf8");
    const doc = JSON.parse(text);
    if (doc && doc.kind === "List" && Array.isArray(doc.items)) objects.push(...doc.items);
    else objects.push(doc);
  }
  return objects;
}

function main() {
  const args = process.argv.slice(2);
  const expected = [];
  const files = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--expect" && i + 1 < args.length) {
      const m = /^([A-Za-z]+)=([0-9]+)$/.exec(args[++i]);
      if (!m) {
        console.error(`validate: --expect wants KIND=N, got ${args[i]}`);
        return 2;
      }
      expected.push([m[1], Number(m[2])]);
    } else {
      files.push(args[i]);
    }
  }
  let objects;
  try {
    objects = readInputs(files);
  } catch (e) {
    console.error(`validate: cannot read input: ${e.message}`);
    return 2;
  }
  const all = new Map();
  const duplicates = new Set();
  for (const o of objects) {
    const key = `${o && o.kind}/${o && o.metadata && o.metadata.name}`;
    if (all.has(key)) duplicates.add(key);
    all.set(key, o);
  }
  let passed = 0;
  let failed = 0;
  for (const obj of objects) {
    let id = "<not an object>";
    const errs = [];
    if (!obj || typeof obj !== "object" || Array.isArray(obj)) {
      errs.push("not an object");
    } else {
      const { cls, error } = modelFor(obj.apiVersion, obj.kind);
      if (error) errs.push(error);
      if (cls) {
        try {
          new cls(obj).validate();
        } catch (e) {
          errs.push(`schema: ${e.message}`);
        }
      }
      const r = checkObject(obj, all);
      id = r.id;
      errs.push(...r.errs);
      if (duplicates.has(id)) errs.push("rendered more than once");
    }
    if (errs.length === 0) {
      passed++;
      console.log(`ok   ${id}`);
    } else {
      failed++;
      console.log(`FAIL ${id}`);
      for (const e of errs) console.log(`     - ${e}`);
    }
  }
  if (objects.length === 0) {
    failed++;
    console.log("FAIL no objects in the input");
  }
  for (const [kind, n] of expected) {
    const got = objects.filter((o) => o && o.kind === kind).length;
    if (got === n) {
      passed++;
      console.log(`ok   expected ${n} ${kind}`);
    } else {
      failed++;
      console.log(`FAIL expected ${n} ${kind}, rendered ${got}`);
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

process.exitCode = main();
