'use strict';
// Run inside the cluster's network namespace (ip netns exec), where the node's
// connections come from: the kubelet's probes and hooks and the API server's
// pod proxy. Listens on a unix socket; each connection to it names its
// destination in one line "HOST PORT\n", gets back "OK\n" once the TCP
// connection is made (or "ERR <code>\n"), then carries that connection's
// bytes both ways. Exits when its standard input ends (the daemon is gone).
//
//   node relay.js SOCKET

const fs = require('fs');
const net = require('net');

const socketPath = process.argv[2];
if (!socketPath) {
  console.error('usage: relay.js SOCKET');
  process.exit(2);
}

function serve(client) {
  let head = Buffer.alloc(0);
  let upstream = null;
  const close = () => { client.destroy(); if (upstream) upstream.destroy(); };
  client.on('error', close);
  client.on('close', () => { if (upstream) upstream.destroy(); });
  const onData = (chunk) => {
    head = Buffer.concat([head, chunk]);
    const nl = head.indexOf(10);
    if (nl < 0) { if (head.length > 1024) close(); return; }
    client.removeListener('data', onData);
    client.pause();
    const rest = head.subarray(nl + 1);
    if (rest.length) client.unshift(rest);
    const [host, port] = head.subarray(0, nl).toString().trim().split(/\s+/);
    upstream = net.connect({ host, port: Number(port), allowHalfOpen: true });
    upstream.once('connect', () => {
      upstream.removeAllListeners('error');
      upstream.on('error', close);
      upstream.setNoDelay(true);
      client.write('OK\n');
      client.pipe(upstream);
      upstream.pipe(client);
    });
    upstream.once('error', (e) => { client.end(`ERR ${e.code || e.message}\n`); upstream = null; });
  };
  client.on('data', onData);
}

fs.rmSync(socketPath, { force: true });
const server = net.createServer({ allowHalfOpen: true }, serve);
server.listen(socketPath, () => process.stdout.write('listening\n'));
server.on('error', (e) => { console.error(`relay: ${e.message}`); process.exit(1); });
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
