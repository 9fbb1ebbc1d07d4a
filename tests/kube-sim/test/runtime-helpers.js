'use strict';
// Shared by the runtime-layer tests: a unique namespace prefix, a scratch
// state directory, and TCP listeners inside pod namespaces.

const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn, execFileSync } = require('child_process');

const isRoot = process.getuid && process.getuid() === 0;

function scratch(tag) {
  const prefix = `kst${tag}${process.pid % 100000}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `kube-sim-${tag}-`));
  return { prefix, dir };
}

// A TCP server in netns that answers every connection with `reply`.
function listen(netns, port, reply = 'hello') {
  const script = `require('net').createServer((s) => { s.on('error', () => {}); s.end(${JSON.stringify(reply)}); }).listen(${port}, '0.0.0.0', () => console.log('up'));`;
  const child = spawn('/usr/bin/nsenter', [`--net=/run/netns/${netns}`, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout.once('data', () => resolve(child));
    child.on('exit', (c) => reject(new Error(`listener on ${port} exited ${c}`)));
  });
}

async function until(fn, { timeoutMs = 30000, intervalMs = 100, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

function netnsList() {
  return execFileSync('/usr/sbin/ip', ['netns', 'list'], { encoding: 'utf8' });
}

module.exports = { isRoot, scratch, listen, until, netnsList };
