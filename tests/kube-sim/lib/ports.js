'use strict';
// Container ports as the kubelet and the network plugin read them: a probe's,
// a lifecycle hook's or a NetworkPolicy's port is a number or the name of a
// port the pod's containers declare.

// port: a number, a numeric string or a port name looked up in `containers`
// (one container spec or a list). -> the number, or NaN for an unknown name.
// With `protocol`, a name matches only a port of that protocol.
function resolvePort(containers, port, protocol) {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(String(port))) return Number(port);
  const list = Array.isArray(containers) ? containers : [containers];
  for (const c of list) {
    for (const p of (c && c.ports) || []) {
      if (p.name !== port) continue;
      if (protocol && (p.protocol || 'TCP').toUpperCase() !== String(protocol).toUpperCase()) continue;
      return p.containerPort;
    }
  }
  return NaN;
}

module.exports = { resolvePort };
