'use strict';
// Lists the classes in a jar (zip central directory only, no inflating), to
// know which pluggable classes an image layer has.

const fs = require('fs');

// -> ['org.apache.zookeeper.server.NIOServerCnxnFactory', ...]
function classesInJar(file) {
  const buf = fs.readFileSync(file);
  // End of central directory: signature 0x06054b50 within the last 64 KiB.
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65557); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) { eocd = i; break; }
  }
  if (eocd < 0) throw new Error(`${file}: not a zip file`);
  const count = buf.readUInt16LE(eocd + 10);
  let off = buf.readUInt32LE(eocd + 16);
  const out = [];
  for (let n = 0; n < count && off + 46 <= buf.length; n++) {
    if (buf.readUInt32LE(off) !== 0x02014b50) break;
    const nameLen = buf.readUInt16LE(off + 28);
    const extraLen = buf.readUInt16LE(off + 30);
    const commentLen = buf.readUInt16LE(off + 32);
    const name = buf.toString('utf8', off + 46, off + 46 + nameLen);
    if (name.endsWith('.class') && !name.startsWith('META-INF/')) {
      out.push(name.slice(0, -'.class'.length).replace(/\//g, '.'));
    }
    off += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

module.exports = { classesInJar };
