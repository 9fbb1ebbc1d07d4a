'use strict';
// Container logs in the CRI format the kubelet reads
// ("<RFC3339Nano> stdout F <line>"): the runtime writes a container's output
// into a FIFO, and each line gets its timestamp here as it arrives — which is
// what `kubectl logs --timestamps` and `--since` need. Reading follows
// `kubectl logs` semantics: tail, since, timestamps, limitBytes, follow.

const fs = require('fs');
const fsp = require('fs/promises');
const net = require('net');
const path = require('path');
const { execFileSync } = require('child_process');

function rfc3339Nano(ms, extraNs = 0) {
  const iso = new Date(ms).toISOString(); // ...sss Z
  return `${iso.slice(0, 23)}${String(extraNs).padStart(6, '0')}Z`;
}

// A FIFO next to logPath for the runtime to write to; lines are appended to
// logPath in CRI format. -> {fifo, done: Promise (writers all closed), close()}
function openLogPipe(logPath) {
  fs.mkdirSync(path.dirname(logPath), { recursive: true });
  const fifo = `${logPath}.fifo`;
  fs.rmSync(fifo, { force: true });
  execFileSync('mkfifo', ['-m', '600', fifo]);
  const fd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  const sock = new net.Socket({ fd, readable: true, writable: false });
  const out = fs.openSync(logPath, 'a');
  let rest = '';
  let seq = 0;
  const emit = (line, tag) => {
    const ms = Date.now();
    seq = (seq + 1) % 1000000;
    fs.writeSync(out, `${rfc3339Nano(ms, seq)} stdout ${tag} ${line}\n`);
  };
  sock.setEncoding('utf8');
  sock.on('data', (d) => {
    const parts = (rest + d).split('\n');
    rest = parts.pop();
    for (const l of parts) emit(l, 'F');
  });
  const done = new Promise((resolve) => {
    sock.on('error', () => {});
    sock.on('close', () => {
      if (rest) emit(rest, 'F');
      rest = '';
      try { fs.closeSync(out); } catch { /* closed */ }
      fs.rmSync(fifo, { force: true });
      resolve();
    });
  });
  return { fifo, done, close: () => sock.destroy() };
}

// One stored line -> {time (ms or null), text, full}. Plain lines (not CRI)
// are taken as they are, without a time.
const CRI = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z) (stdout|stderr) ([PF]) (.*)$/;
function parseLine(raw) {
  const m = CRI.exec(raw);
  if (!m) return { time: null, stamp: null, text: raw, full: true };
  return { time: Date.parse(m[1]), stamp: m[1], text: m[4], full: m[3] === 'F' };
}

function render(entry, timestamps) {
  const prefix = timestamps && entry.stamp ? `${entry.stamp} ` : '';
  return `${prefix}${entry.text}${entry.full ? '\n' : ''}`;
}

// opts: {tailLines, sinceSeconds, sinceTime, timestamps, limitBytes, follow}
// isDone(): true once no more output will come (the instance exited and
// its pipe closed). Resolves when done (or the reader went away).
async function streamLog(file, opts, writable, isDone) {
  const since = opts.sinceSeconds ? Date.now() - opts.sinceSeconds * 1000
    : opts.sinceTime ? Date.parse(opts.sinceTime) : null;
  let budget = opts.limitBytes > 0 ? opts.limitBytes : Infinity;
  let closed = false;
  writable.on('close', () => { closed = true; });
  writable.on('error', () => { closed = true; });
  const write = (s) => {
    if (closed || budget <= 0 || !s) return;
    const buf = Buffer.from(s);
    const part = buf.length > budget ? buf.subarray(0, budget) : buf;
    budget -= part.length;
    writable.write(part);
  };
  let text = '';
  try { text = await fsp.readFile(file, 'utf8'); } catch { text = ''; }
  let offset = Buffer.byteLength(text);
  let lines = text.split('\n');
  let partial = lines.pop();
  let entries = lines.map(parseLine);
  if (since !== null) entries = entries.filter((e) => e.time === null || e.time >= since);
  if (opts.tailLines !== undefined && opts.tailLines !== null && opts.tailLines >= 0) entries = entries.slice(Math.max(0, entries.length - opts.tailLines));
  for (const e of entries) write(render(e, opts.timestamps));
  if (!opts.follow) return;
  while (!closed && budget > 0) {
    const finished = isDone();
    let chunk = '';
    try {
      const fh = await fsp.open(file, 'r');
      try {
        const st = await fh.stat();
        if (st.size > offset) {
          const buf = Buffer.alloc(st.size - offset);
          await fh.read(buf, 0, buf.length, offset);
          offset = st.size;
          chunk = buf.toString('utf8');
        }
      } finally { await fh.close(); }
    } catch { /* not there yet */ }
    if (chunk) {
      lines = (partial + chunk).split('\n');
      partial = lines.pop();
      for (const l of lines) write(render(parseLine(l), opts.timestamps));
    }
    if (finished && !chunk) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

module.exports = { openLogPipe, streamLog, parseLine, rfc3339Nano };
