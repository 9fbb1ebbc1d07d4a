'use strict';
// Small helpers over plain JSON values, shared by patches and apply.

const clone = (v) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));
const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

// The value with every object's keys sorted, so that key order never counts.
function canon(v) {
  if (Array.isArray(v)) return v.map(canon);
  if (isObj(v)) return Object.keys(v).sort().reduce((o, k) => { o[k] = canon(v[k]); return o; }, {});
  return v;
}

const deepEqual = (a, b) => JSON.stringify(canon(a)) === JSON.stringify(canon(b));

// The value without null members: the server ignores nulls for fields the
// live object does not have.
function dropNulls(v) {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (!isObj(v)) return v;
  const out = {};
  for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = dropNulls(x);
  return out;
}

module.exports = { clone, isObj, canon, deepEqual, dropNulls };
