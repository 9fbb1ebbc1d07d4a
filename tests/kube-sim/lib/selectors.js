'use strict';
// Label and field selectors, as list, watch and the controllers use them.

const { badRequest } = require('./errors');

// Splits on commas that are not inside parentheses: "a in (x,y),b" -> ["a in (x,y)", "b"].
function splitTerms(str) {
  const terms = [];
  let depth = 0;
  let cur = '';
  for (const ch of str) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) { terms.push(cur); cur = ''; continue; }
    cur += ch;
  }
  if (cur.trim() !== '') terms.push(cur);
  return terms.map((t) => t.trim()).filter((t) => t !== '');
}

function has(labels, key) { return Object.prototype.hasOwnProperty.call(labels, key); }

function requirement(key, op, values) {
  switch (op) {
    case '=': case '==': case 'In': return (l) => has(l, key) && values.includes(l[key]);
    case '!=': case 'NotIn': return (l) => !has(l, key) || !values.includes(l[key]);
    case 'Exists': return (l) => has(l, key);
    case 'DoesNotExist': return (l) => !has(l, key);
    default: throw badRequest(`unable to parse requirement: unknown operator "${op}"`);
  }
}

// "app=zk,tier!=web,env in (a,b),!legacy,release" -> matcher(labels) -> bool
function parseLabelSelector(str) {
  if (typeof str === 'function') return str;
  if (!str) return () => true;
  const reqs = splitTerms(str).map((term) => {
    let m;
    if ((m = /^!\s*([\w./-]+)$/.exec(term))) return requirement(m[1], 'DoesNotExist', []);
    if ((m = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term))) {
      const values = m[3].split(',').map((v) => v.trim()).filter((v) => v !== '');
      return requirement(m[1], m[2] === 'in' ? 'In' : 'NotIn', values);
    }
    if ((m = /^([\w./-]+)\s*(==|!=|=)\s*([\w./-]*)$/.exec(term))) return requirement(m[1], m[2], [m[3]]);
    if ((m = /^([\w./-]+)$/.exec(term))) return requirement(m[1], 'Exists', []);
    throw badRequest(`unable to parse requirement: invalid label selector "${term}"`);
  });
  return (labels) => reqs.every((r) => r(labels || {}));
}

// metav1.LabelSelector ({matchLabels, matchExpressions}) -> matcher. An empty
// selector matches everything; a null one nothing (as the API defines them).
function labelSelectorFromObject(sel) {
  if (sel === null || sel === undefined) return () => false;
  const reqs = [];
  for (const [k, v] of Object.entries(sel.matchLabels || {})) reqs.push(requirement(k, '=', [v]));
  for (const e of sel.matchExpressions || []) reqs.push(requirement(e.key, e.operator, e.values || []));
  return (labels) => reqs.every((r) => r(labels || {}));
}

function fieldValue(obj, path) {
  let cur = obj;
  for (const part of path.split('.')) {
    if (cur === null || cur === undefined) return undefined;
    cur = cur[part];
  }
  return cur;
}

// "metadata.name=zk-0,status.phase!=Running" -> matcher(obj) -> bool
function parseFieldSelector(str) {
  if (typeof str === 'function') return str;
  if (!str) return () => true;
  const reqs = splitTerms(str).map((term) => {
    const m = /^([\w.]+)\s*(==|!=|=)\s*(.*)$/.exec(term);
    if (!m) throw badRequest(`invalid field selector: "${term}"`);
    const [, path, op, value] = m;
    return op === '!='
      ? (o) => String(fieldValue(o, path) ?? '') !== value
      : (o) => String(fieldValue(o, path) ?? '') === value;
  });
  return (obj) => reqs.every((r) => r(obj));
}

// A query boolean as the real server parses it (Go's strconv.ParseBool):
// 1, t, T, TRUE, true, True are true. Python's client sends "True".
function parseBool(value) {
  return ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value);
}

module.exports = { parseBool, parseLabelSelector, labelSelectorFromObject, parseFieldSelector, splitTerms };
