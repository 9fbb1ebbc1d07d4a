'use strict';
// DIR/state.json: what the running daemon tells the commands (its PID, the
// API port, the admin token, the prefix of its namespaces).

const fs = require('fs');
const path = require('path');
const crypto = require('crypto');

const file = (dir) => path.join(dir, 'state.json');

// The namespaces of one state directory share a short prefix derived from its
// path, so that two clusters never touch each other's namespaces and a crashed
// run's leftovers can be found again. Short: interface names have 15 bytes.
function prefixFor(stateDir) {
  return 'ks' + crypto.createHash('sha256').update(path.resolve(stateDir)).digest('hex').slice(0, 5);
}

function read(dir) {
  try { return JSON.parse(fs.readFileSync(file(dir), 'utf8')); } catch { return null; }
}

function write(dir, value) {
  const tmp = file(dir) + '.tmp';
  fs.writeFileSync(tmp, JSON.stringify(value, null, 2), { mode: 0o600 });
  fs.renameSync(tmp, file(dir));
}

function remove(dir) {
  fs.rmSync(file(dir), { force: true });
}

module.exports = { prefixFor, read, write, remove };
