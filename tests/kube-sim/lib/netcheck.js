'use strict';
// tcpSocket and httpGet checks from inside a network namespace (by default
// the cluster namespace, i.e. from the node as a kubelet probes), run as a
// short-lived node process under nsenter: no extra tools needed.

const { execFile } = require('child_process');

const NSENTER = '/usr/bin/nsenter';

const TCP = `
const net = require('net');
const [host, port, ms] = process.argv.slice(1);
const s = net.connect({ host, port: Number(port) });
const t = setTimeout(() => { console.log(JSON.stringify({ ok: false, error: 'timeout' })); process.exit(0); }, Number(ms));
s.on('connect', () => { clearTimeout(t); console.log(JSON.stringify({ ok: true })); s.destroy(); process.exit(0); });
s.on('error', (e) => { clearTimeout(t); console.log(JSON.stringify({ ok: false, error: e.code || e.message })); process.exit(0); });
`;

const HTTP = `
const [scheme, host, port, path, headers, ms] = process.argv.slice(1);
const mod = require(scheme === 'HTTPS' ? 'https' : 'http');
const req = mod.request({ host, port: Number(port), path, method: 'GET', headers: JSON.parse(headers),
  rejectUnauthorized: false, timeout: Number(ms) }, (res) => {
  let body = '';
  res.on('data', (d) => { if (body.length < 10240) body += d; });
  res.on('end', () => { console.log(JSON.stringify({ ok: res.statusCode >= 200 && res.statusCode < 400, statusCode: res.statusCode, body })); process.exit(0); });
});
req.on('timeout', () => { console.log(JSON.stringify({ ok: false, error: 'timeout' })); process.exit(0); });
req.on('error', (e) => { console.log(JSON.stringify({ ok: false, error: e.code || e.message })); process.exit(0); });
req.end();
`;

function runNode(netns, script, args, timeoutMs) {
  return new Promise((resolve) => {
    execFile(NSENTER, [`--net=/run/netns/${netns}`, process.execPath, '-e', script, ...args.map(String)],
      { timeout: timeoutMs + 5000 }, (err, stdout, stderr) => {
        try { resolve(JSON.parse(String(stdout).trim().split('\n').pop())); } catch {
          resolve({ ok: false, error: (err && err.message) || String(stderr).trim() || 'no result' });
        }
      });
  });
}

// -> {ok, error?}
function tcpCheck(netns, host, port, { timeoutMs = 1000 } = {}) {
  return runNode(netns, TCP, [host, port, timeoutMs], timeoutMs);
}

// -> {ok (2xx/3xx), statusCode?, body?, error?}
function httpGet(netns, { host, port, path = '/', scheme = 'HTTP', headers = [] }, { timeoutMs = 1000 } = {}) {
  const h = { 'User-Agent': 'kube-probe/1.32', Accept: '*/*' };
  for (const { name, value } of headers) h[name] = value;
  return runNode(netns, HTTP, [String(scheme).toUpperCase(), host, port, path, JSON.stringify(h), timeoutMs], timeoutMs);
}

module.exports = { tcpCheck, httpGet };
