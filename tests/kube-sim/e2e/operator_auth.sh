#!/usr/bin/env bash
# SASL DIGEST-MD5 on Kubernetes, through zkpilot's CLI and the operator:
#   deploy --install-operator with auth.enabled and auth.quorum (3 servers):
#     the operator makes the Secrets <c>-auth (a password per user and the
#     JAAS file) and <c>-auth-quorum, owned by the cluster; the servers
#     authenticate each other (their logs say so) and mount only the JAAS
#     file, read-only, mode 0440; no password is in any ConfigMap or in the
#     server pods' specs;
#   kazoo from inside the cluster network: the user's password from the
#     Secret works (a znode with ACL sasl:app), a wrong one is refused,
#     anonymous still reads (no enforcement yet);
#   configure auth.enforce=true with a second user: a roll, which zkpilot's
#     own sessions (the hand-off reconfig, the hooks; super digest) survive;
#     afterwards an anonymous client is refused (the server logs why), the
#     new user works and the first user's password did not change.
source "$(dirname "$0")/operator_lib.bash"
start_cluster
wait_until 10 "the default namespace exists" kubectl get namespace default
kubectl create namespace "${NS}" >/dev/null

out="$(zkp deploy "${CLUSTER}" "${PACKAGE}" --set replicas=3 --set tls.enabled=false --set auth.enabled=true --set auth.quorum=true \
  --install-operator --timeout 600 2>&1)" || fail "deploy: $out"
echo "$out" | sed 's/^/# deploy: /'
wait_until 60 "one leader and two followers" ensemble_ok 1 2 3

# --- the Secrets ---------------------------------------------------------------
expect_match "kubectl get secret shows both Secrets" "${CLUSTER}-auth +Opaque +2 (.|\n)*${CLUSTER}-auth-quorum +Opaque +1" \
  "$(kubectl -n "${NS}" get secret "${CLUSTER}-auth" "${CLUSTER}-auth-quorum")"
expect_eq "the Secret's keys: the user and the JAAS file" "app jaas.conf" \
  "$(kubectl -n "${NS}" get secret "${CLUSTER}-auth" -o json | jq -r '.data | keys | join(" ")')"
expect_eq "owned by the ZooKeeperCluster" "ZooKeeperCluster ZooKeeperCluster" \
  "$(kubectl -n "${NS}" get secret "${CLUSTER}-auth" "${CLUSTER}-auth-quorum" -o jsonpath='{.items[*].metadata.ownerReferences[0].kind}')"
secret_key() { kubectl -n "${NS}" get secret "$1" -o jsonpath="{.data.$2}" | base64 -d; }
app_pw="$(secret_key "${CLUSTER}-auth" app)"
quorum_pw="$(secret_key "${CLUSTER}-auth-quorum" password)"
expect_match "a generated password" '^[0-9a-f]{64}$' "$app_pw"
expect_match "a generated quorum credential" '^[0-9a-f]{64}$' "$quorum_pw"

# The JAAS file alone, read-only with mode 0440, in a running server.
expect_eq "the server mounts only the JAAS file, mode 440, read-only" "jaas.conf 440 ro" \
  "$(kubectl -n "${NS}" exec "${CLUSTER}-2-0" -c zookeeper -- bash -c \
    'echo $(ls /auth) $(stat -L -c %a /auth/jaas.conf) $(touch /auth/x 2>/dev/null && echo rw || echo ro)')"
for id in 1 2 3; do
  expect_match "server ${id} authenticates its quorum peers with SASL" 'Using DIGEST-MD5 for quorum authorization' \
    "$(kubectl -n "${NS}" logs "${CLUSTER}-${id}-0" -c zookeeper | grep -m1 'Using DIGEST-MD5 for quorum' || true)"
done
no_secret_outside() {
  local what="$1" pw="$2"
  expect_eq "${what}: in no ConfigMap" 0 "$(kubectl get configmaps -A -o yaml | grep -cF "$pw" || true)"
  expect_eq "${what}: not in the server pods or their controllers" 0 \
    "$(kubectl -n "${NS}" get pods,statefulsets -o yaml | grep -cF "$pw" || true)"
}
no_secret_outside "the user's password" "$app_pw"
no_secret_outside "the quorum credential" "$quorum_pw"

# --- clients -------------------------------------------------------------------
client() { "${KUBE_SIM}" run --state-dir "${STATE_DIR}" -- "$PY" "${E2E_DIR}/auth_zk.py" "$@"; }
expect_eq "kazoo as app with the Secret's password creates and reads a znode only app may use" \
  "read hello acl sasl:app:31" "$(client create "$(server_host 1):2181" /secret app "$app_pw")"
expect_eq "another server serves it to app too" "read hello acl sasl:app:31" \
  "$(client read "$(server_host 3):2181" /secret app "$app_pw")"
expect_eq "a wrong password is refused" "refused AuthFailedError" \
  "$(client read "$(server_host 2):2181" /secret app "not-${app_pw}")"
expect_eq "without enforcement an anonymous client reads what is open" "read  acl world:anyone:31" \
  "$(client anonymous "$(server_host 2):2181" /zookeeper/quota)"

# --- enforcement and a second user, rolled in -------------------------------------
out="$(zkp configure "${CLUSTER}" --set auth.enforce=true --set 'auth.users=[app, reader]' --timeout 600 2>&1)" ||
  fail "configure auth.enforce: $out"
echo "$out" | sed 's/^/# configure: /'
wait_until 60 "one leader and two followers after the roll" ensemble_ok 1 2 3
expect_eq "every server runs a zoo.cfg enforcing sasl or digest" "sasl,digest sasl,digest sasl,digest" \
  "$(for id in 1 2 3; do kubectl -n "${NS}" exec "${CLUSTER}-${id}-0" -c zookeeper -- \
    bash -c 'sed -n "s/^enforce.auth.schemes=//p" "$ZOOCFGDIR/zoo.cfg"'; done | tr '\n' ' ' | sed 's/ $//')"
expect_eq "the first user's password was kept" "$app_pw" "$(secret_key "${CLUSTER}-auth" app)"
reader_pw="$(secret_key "${CLUSTER}-auth" reader)"
expect_match "the new user got a password" '^[0-9a-f]{64}$' "$reader_pw"
expect_eq "the new user authenticates" "read  acl world:anyone:31" \
  "$(client read "$(server_host 1):2181" /zookeeper/quota reader "$reader_pw")"
expect_eq "app still reads its znode" "read hello acl sasl:app:31" \
  "$(client read "$(server_host 2):2181" /secret app "$app_pw")"
expect_match "an anonymous client is refused" '^refused ' \
  "$(client anonymous "$(server_host 3):2181" /zookeeper/quota)"
expect_match "the server says why" 'does not match with any of the expected authentication scheme \[sasl, digest\]' \
  "$(kubectl -n "${NS}" logs "${CLUSTER}-3-0" -c zookeeper | grep -m1 'expected authentication scheme' || true)"
no_secret_outside "the new user's password" "$reader_pw"
expect_match "zkpilot status reads the servers" 'leader' "$(zkp status "${CLUSTER}")"
finish
