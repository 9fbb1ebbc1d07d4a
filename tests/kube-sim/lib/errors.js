'use strict';
// API errors as the real API server reports them: an HTTP code, a reason and a
// metav1 Status body. Every layer throws ApiError; only the HTTP layer turns it
// into a response.

class ApiError extends Error {
  constructor(code, reason, message, details) {
    super(message);
    this.code = code;
    this.reason = reason;
    this.details = details;
    this.headers = {};
  }

  toStatus() {
    const status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
    if (this.details) status.details = this.details;
    return status;
  }
}

// "pods" or "statefulsets.apps", as the real server names a resource in messages.
function qualified(res) {
  return res.group ? `${res.plural}.${res.group}` : res.plural;
}

function details(res, name) {
  const d = { kind: res.plural };
  if (name !== undefined) d.name = name;
  if (res.group) d.group = res.group;
  return d;
}

function notFound(res, name) {
  return new ApiError(404, 'NotFound', `${qualified(res)} "${name}" not found`, details(res, name));
}

function alreadyExists(res, name) {
  return new ApiError(409, 'AlreadyExists', `${qualified(res)} "${name}" already exists`, details(res, name));
}

function conflict(res, name, msg) {
  return new ApiError(409, 'Conflict',
    `Operation cannot be fulfilled on ${qualified(res)} "${name}": ${msg}`, details(res, name));
}

// causes: [{field, message, reason?}] — as in a 422 Status's details.causes.
function invalid(res, kind, name, causes) {
  const text = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message)).join(', ');
  const d = { name, kind, causes: causes.map((c) => ({ reason: c.reason || 'FieldValueInvalid', message: c.message, field: c.field })) };
  if (res && res.group) d.group = res.group;
  return new ApiError(422, 'Invalid', `${kind} "${name}" is invalid: ${text}`, d);
}

function forbidden(msg, d) { return new ApiError(403, 'Forbidden', msg, d); }
function gone(msg) { return new ApiError(410, 'Expired', msg); }
function badRequest(msg) { return new ApiError(400, 'BadRequest', msg); }
function methodNotAllowed(msg) { return new ApiError(405, 'MethodNotAllowed', msg); }
function unsupportedMediaType(msg) { return new ApiError(415, 'UnsupportedMediaType', msg); }
function internal(msg) { return new ApiError(500, 'InternalError', msg); }
function unauthorized() { return new ApiError(401, 'Unauthorized', 'Unauthorized'); }

module.exports = {
  ApiError, qualified, notFound, alreadyExists, conflict, invalid, forbidden, gone, badRequest,
  methodNotAllowed, unsupportedMediaType, internal, unauthorized,
};
