'use strict';
// Run inside the cluster's network namespace (ip netns exec): accepts TCP on
// the node's address and pipes each connection, bytes unchanged (TLS passes
// through), to the API server's unix socket. The `kubernetes` Service
// (10.96.0.1:443) leads here, so pods reach the API as on a cluster.
//
//   node forwarder.js HOST PORT SOCKET

const net = require('net');

const [host, port, socketPath] = process.argv.slice(2);
if (!host || !port || !socketPath) {
  console.error('usage: forwarder.js HOST PORT SOCKET');
  process.exit(2);
}
const server = net.createServer((client) => {
  const upstream = net.connect(socketPath);
  client.pipe(upstream).pipe(client);
  const close = () => { client.destroy(); upstream.destroy(); };
  client.on('error', close);
  upstream.on('error', close);
});
server.listen(Number(port), host, () => process.stdout.write(`listening ${host}:${port}\n`));
process.on('SIGTERM', () => process.exit(0));
