'use strict';
// Pod Security admission: the Pod Security Standards' "baseline" and
// "restricted" levels, enforced on pods created in a namespace labelled
// pod-security.kubernetes.io/enforce=<level>, whether by a client or by a
// controller (which then records FailedCreate with the message). The checks
// and their wording follow k8s.io/pod-security-admission (policy/check_*.go,
// "latest" version); the refusal is the real 403:
//   pods "p" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation
//   != false (container "c" must set securityContext.allowPrivilegeEscalation=false), ...
// Not modelled: the warn and audit modes, workload warnings, exemptions,
// enforce-version pinning (always "latest"), Windows pods, AppArmor
// annotations.

const errors = require('./errors');

const LEVELS = ['privileged', 'baseline', 'restricted'];
const ENFORCE_LABEL = 'pod-security.kubernetes.io/enforce';

// Capabilities baseline allows a container to add.
const BASELINE_CAPS = new Set(['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL',
  'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT']);
const RESTRICTED_VOLUMES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral',
  'persistentVolumeClaim', 'projected', 'secret'];

function quoted(names) { return names.map((n) => `"${n}"`).join(', '); }
function containersWord(names) { return names.length === 1 ? 'container' : 'containers'; }

function allContainers(spec) {
  return [...(spec.initContainers || []), ...(spec.containers || []), ...(spec.ephemeralContainers || [])];
}

// Each check: (podSpec, podSecurityContext) -> {reason, detail} or null, in
// the order of the checks' ids, as the real admission lists them.
const BASELINE = [
  function capabilitiesBaseline(spec) {
    const bad = [];
    const caps = new Set();
    for (const c of allContainers(spec)) {
      const add = (((c.securityContext || {}).capabilities || {}).add) || [];
      const extra = add.filter((a) => !BASELINE_CAPS.has(a));
      if (extra.length) { bad.push(c.name); extra.forEach((a) => caps.add(a)); }
    }
    if (!bad.length) return null;
    return { reason: 'non-default capabilities', detail: `${containersWord(bad)} ${quoted(bad)} must not include ${quoted([...caps])} in securityContext.capabilities.add` };
  },
  function hostNamespaces(spec) {
    const set = ['hostNetwork', 'hostPID', 'hostIPC'].filter((f) => spec[f] === true);
    if (!set.length) return null;
    return { reason: 'host namespaces', detail: set.map((f) => `${f}=true`).join(', ') };
  },
  function hostPathVolumes(spec) {
    const bad = (spec.volumes || []).filter((v) => v.hostPath).map((v) => v.name);
    if (!bad.length) return null;
    return { reason: 'hostPath volumes', detail: `${bad.length === 1 ? 'volume' : 'volumes'} ${quoted(bad)}` };
  },
  function hostPorts(spec) {
    const bad = [];
    const ports = [];
    for (const c of allContainers(spec)) {
      const hp = (c.ports || []).filter((p) => p.hostPort).map((p) => String(p.hostPort));
      if (hp.length) { bad.push(c.name); ports.push(...hp); }
    }
    if (!bad.length) return null;
    return { reason: 'hostPort', detail: `${containersWord(bad)} ${quoted(bad)} ${ports.length === 1 ? 'uses hostPort' : 'use hostPorts'} ${ports.join(', ')}` };
  },
  function privileged(spec) {
    const bad = allContainers(spec).filter((c) => (c.securityContext || {}).privileged === true).map((c) => c.name);
    if (!bad.length) return null;
    return { reason: 'privileged', detail: `${containersWord(bad)} ${quoted(bad)} must not set securityContext.privileged=true` };
  },
  function seccompProfileBaseline(spec) {
    const unconfined = (sc) => sc && sc.seccompProfile && sc.seccompProfile.type === 'Unconfined';
    const bad = [];
    if (unconfined(spec.securityContext)) bad.push('pod');
    for (const c of allContainers(spec)) if (unconfined(c.securityContext)) bad.push(`container "${c.name}"`);
    if (!bad.length) return null;
    return { reason: 'seccompProfile', detail: `${bad.join(', ')} must not set securityContext.seccompProfile.type to "Unconfined"` };
  },
];

const RESTRICTED = [
  function allowPrivilegeEscalation(spec) {
    const bad = allContainers(spec).filter((c) => (c.securityContext || {}).allowPrivilegeEscalation !== false).map((c) => c.name);
    if (!bad.length) return null;
    return { reason: 'allowPrivilegeEscalation != false', detail: `${containersWord(bad)} ${quoted(bad)} must set securityContext.allowPrivilegeEscalation=false` };
  },
  function capabilitiesRestricted(spec) {
    const noDrop = [];
    const adds = [];
    const added = new Set();
    for (const c of allContainers(spec)) {
      const caps = (c.securityContext || {}).capabilities || {};
      if (!(caps.drop || []).includes('ALL')) noDrop.push(c.name);
      const extra = (caps.add || []).filter((a) => a !== 'NET_BIND_SERVICE');
      if (extra.length) { adds.push(c.name); extra.forEach((a) => added.add(a)); }
    }
    if (!noDrop.length && !adds.length) return null;
    const parts = [];
    if (noDrop.length) parts.push(`${containersWord(noDrop)} ${quoted(noDrop)} must set securityContext.capabilities.drop=["ALL"]`);
    if (adds.length) parts.push(`${containersWord(adds)} ${quoted(adds)} must not include ${quoted([...added])} in securityContext.capabilities.add`);
    return { reason: 'unrestricted capabilities', detail: parts.join('; ') };
  },
  function restrictedVolumes(spec) {
    const bad = [];
    const types = new Set();
    for (const v of spec.volumes || []) {
      const type = Object.keys(v).find((k) => k !== 'name');
      if (type && !RESTRICTED_VOLUMES.includes(type)) { bad.push(v.name); types.add(type); }
    }
    if (!bad.length) return null;
    return { reason: 'restricted volume types', detail: `${bad.length === 1 ? 'volume' : 'volumes'} ${quoted(bad)} ${bad.length === 1 ? 'uses' : 'use'} restricted volume ${types.size === 1 ? 'type' : 'types'} ${quoted([...types])}` };
  },
  function runAsNonRoot(spec) {
    const pod = (spec.securityContext || {}).runAsNonRoot;
    const explicitFalse = pod === false ? ['pod'] : [];
    const bad = [];
    for (const c of allContainers(spec)) {
      const own = (c.securityContext || {}).runAsNonRoot;
      if (own === false) explicitFalse.push(`container "${c.name}"`);
      else if (own !== true && pod !== true) bad.push(c.name);
    }
    if (explicitFalse.length) return { reason: 'runAsNonRoot != true', detail: `${explicitFalse.join(', ')} must not set securityContext.runAsNonRoot=false` };
    if (!bad.length) return null;
    return { reason: 'runAsNonRoot != true', detail: `pod or ${containersWord(bad)} ${quoted(bad)} must set securityContext.runAsNonRoot=true` };
  },
  function runAsUser(spec) {
    const bad = [];
    if ((spec.securityContext || {}).runAsUser === 0) bad.push('pod');
    for (const c of allContainers(spec)) if ((c.securityContext || {}).runAsUser === 0) bad.push(`container "${c.name}"`);
    if (!bad.length) return null;
    return { reason: 'runAsUser=0', detail: `${bad.join(', ')} must not set runAsUser=0` };
  },
  // As policy/check_seccompProfile_restricted.go: a profile that is set must
  // be RuntimeDefault or Localhost wherever it is set, so a valid pod-level
  // profile neither excuses a container's Unconfined nor is excused by its
  // containers' own; it only covers containers that set none. Explicit bad
  // values are reported first (pod, then containers, values sorted), and only
  // when there are none the containers left without a profile.
  function seccompProfileRestricted(spec) {
    const valid = (type) => type === 'RuntimeDefault' || type === 'Localhost';
    const profile = (sc) => (sc && sc.seccompProfile) || null;
    const badSetters = [];
    const badValues = new Set();
    const podProfile = profile(spec.securityContext);
    let podSet = false;
    if (podProfile) {
      if (valid(podProfile.type)) podSet = true;
      else { badSetters.push('pod'); badValues.add(podProfile.type || ''); }
    }
    const explicitlyBad = [];
    const implicitlyBad = [];
    for (const c of allContainers(spec)) {
      const own = profile(c.securityContext);
      if (own) {
        if (!valid(own.type)) { explicitlyBad.push(c.name); badValues.add(own.type || ''); }
      } else if (!podSet) {
        implicitlyBad.push(c.name);
      }
    }
    if (explicitlyBad.length) badSetters.push(`${containersWord(explicitlyBad)} ${quoted(explicitlyBad)}`);
    if (badSetters.length) {
      return { reason: 'seccompProfile', detail: `${badSetters.join(' and ')} must not set securityContext.seccompProfile.type to ${quoted([...badValues].sort())}` };
    }
    if (!implicitlyBad.length) return null;
    return { reason: 'seccompProfile', detail: `pod or ${containersWord(implicitlyBad)} ${quoted(implicitlyBad)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"` };
  },
];

// In the order of the real check ids. At the restricted level three checks
// replace baseline ones (their OverrideCheckIDs): capabilities_restricted
// replaces capabilities_baseline, restrictedVolumes hostPathVolumes, and
// seccompProfile_restricted seccompProfile_baseline.
function checksFor(level) {
  if (level === 'baseline') return BASELINE;
  const [, hostNs, , hostPort, priv] = BASELINE;
  const [ape, capR, vols, nonRoot, user, seccompR] = RESTRICTED;
  return [ape, capR, hostNs, hostPort, priv, vols, nonRoot, user, seccompR];
}

// -> ["reason (detail)", ...] for a pod spec at `level`; [] when it complies.
function violations(level, spec) {
  if (!LEVELS.includes(level) || level === 'privileged') return [];
  const out = [];
  for (const check of checksFor(level)) {
    const r = check(spec || {});
    if (r) out.push(`${r.reason} (${r.detail})`);
  }
  return out;
}

// The level a namespace object enforces; null when none (or an unknown one).
function enforcedLevel(namespace) {
  const labels = (namespace && namespace.metadata && namespace.metadata.labels) || {};
  const level = labels[ENFORCE_LABEL];
  return LEVELS.includes(level) ? level : null;
}

// Throws the API's 403 when `pod` violates the level its namespace enforces.
function admitPod(namespaceObj, pod) {
  const level = enforcedLevel(namespaceObj);
  if (!level) return;
  const found = violations(level, pod.spec);
  if (!found.length) return;
  const name = pod.metadata.name;
  throw errors.forbidden(`pods "${name}" is forbidden: violates PodSecurity "${level}:latest": ${found.join(', ')}`,
    { name, kind: 'pods' });
}

module.exports = { violations, enforcedLevel, admitPod, ENFORCE_LABEL };
