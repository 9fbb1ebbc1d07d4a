'use strict';
// The review kinds, answered at once and never stored: SelfSubjectAccessReview
// (kubectl auth can-i), SubjectAccessReview, SelfSubjectReview (kubectl auth
// whoami) and TokenReview.

const errors = require('./errors');
const writes = require('./writes');

function attrsFrom(spec) {
  if (spec.resourceAttributes) {
    const a = spec.resourceAttributes;
    return {
      verb: a.verb || '', apiGroup: a.group || '', resource: a.resource || '', subresource: a.subresource || '',
      namespace: a.namespace || '', name: a.name || '', path: undefined,
    };
  }
  if (spec.nonResourceAttributes) {
    return { verb: spec.nonResourceAttributes.verb || '', path: spec.nonResourceAttributes.path || '' };
  }
  throw errors.invalid(null, 'SubjectAccessReview', '', [{ field: 'spec.resourceAttributes', message: 'Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified', reason: 'FieldValueRequired' }]);
}

function decide(auth, user, spec) {
  const decision = auth.authorize(user, attrsFrom(spec)) || {};
  const status = { allowed: !!decision.allowed };
  const reason = decision.rbacReason !== undefined ? decision.rbacReason : decision.reason;
  if (reason) status.reason = reason;
  if (decision.denied) status.denied = true;
  return status;
}

async function handle(ctx) {
  const { auth } = ctx.server;
  const res = ctx.resource;
  const body = await writes.readObject(ctx);
  writes.checkTypeMeta(ctx, body);
  const spec = body.spec || {};
  let status;
  switch (res.kind) {
    case 'SelfSubjectAccessReview':
      status = decide(auth, ctx.user, spec);
      break;
    case 'SubjectAccessReview':
      if (!spec.user && !(spec.groups || []).length) {
        throw errors.invalid(res, res.kind, '', [{ field: 'spec.user', message: 'Invalid value: "": at least one of user or group must be specified' }]);
      }
      status = decide(auth, { username: spec.user || '', groups: spec.groups || [], uid: spec.uid || '', extra: spec.extra }, spec);
      break;
    case 'SelfSubjectReview': {
      const u = ctx.user;
      status = { userInfo: { username: u.username, ...(u.uid ? { uid: u.uid } : {}), groups: u.groups || [], ...(u.extra ? { extra: u.extra } : {}) } };
      break;
    }
    case 'TokenReview': {
      let result;
      if (typeof auth.verifyToken === 'function') {
        result = auth.verifyToken(spec.token || '', spec.audiences && spec.audiences.length ? { audiences: spec.audiences } : {});
      } else {
        const u = await auth.authenticate({ headers: { authorization: `Bearer ${spec.token || ''}` } });
        result = { user: u && u.username === undefined ? u.user : u };
      }
      status = result && result.user
        ? { authenticated: true, user: { username: result.user.username, uid: result.user.uid || '', groups: result.user.groups || [] }, audiences: spec.audiences || [] }
        : { authenticated: false, error: (result && result.error) || 'invalid bearer token' };
      break;
    }
    default:
      throw errors.methodNotAllowed(`${res.kind} is not served`);
  }
  const meta = { ...(body.metadata || {}), creationTimestamp: null };
  delete meta.managedFields;
  ctx.server.send(ctx, 201, { kind: res.kind, apiVersion: res.apiVersion, metadata: meta, spec, status });
}

module.exports = { handle };
