#!/usr/bin/env bash
# A TLS cluster (tls.enabled=true, certificates made by zkpilot) through the
# operator, in a namespace that enforces the restricted Pod Security level:
#   deploy 3 servers of 3.8.0: the Secrets exist (owned by the resource), the
#     servers mount theirs read-only (`touch /tls/x` fails) and log the
#     TLS-only quorum socket;
#   from inside the cluster network: openssl verifies the pod's and the
#     Service's DNS names and `srvr` answers over TLS; plaintext on the client
#     port gets no answer; a client certificate is refused on the leader's
#     quorum port while a quorum certificate is accepted;
#   the write checker writes over TLS (zkpilot's certificate) through a
#     rolling configure (tickTime) and an upgrade to 3.9.3: no acknowledged
#     write lost; then the same TLS checks on 3.9.3.
source "$(dirname "$0")/operator_lib.bash"
start_cluster
wait_until 10 "the default namespace exists" kubectl get namespace default
kubectl create namespace "${NS}" >/dev/null
kubectl label namespace "${NS}" pod-security.kubernetes.io/enforce=restricted >/dev/null
watch_pods

out="$(zkp deploy "${CLUSTER}" "${PACKAGE}" --set replicas=3 --set version=3.8.0 --set tls.enabled=true \
  --install-operator --timeout 600 2>&1)" || fail "deploy: $out"
echo "$out" | sed 's/^/# deploy: /'
expect_eq "the resource is Running with 3 ready servers" "Running 3/3 3.8.0" \
  "$(cr '{.status.phase} {.status.readyReplicas}/{.status.replicas} {.status.currentVersion}')"
uid="$(cr '{.metadata.uid}')"
for s in ca quorum-ca zkpilot server-1 server-2 server-3; do
  expect_eq "Secret ${CLUSTER}-tls-${s} is owned by the resource" "${uid}" \
    "$(kubectl -n "${NS}" get secret "${CLUSTER}-tls-${s}" -o jsonpath='{.metadata.ownerReferences[0].uid}')"
done

# zkpilot's credentials and the quorum's, as files for openssl and the checker.
PKI="${STATE_DIR}/zk-tls"
mkdir -m 0700 "${PKI}"
secret_key() { kubectl -n "${NS}" get secret "$1" -o "jsonpath={.data.${2//./\\.}}" | base64 -d; }
secret_key "${CLUSTER}-tls-zkpilot" ca.crt > "${PKI}/ca.crt"
secret_key "${CLUSTER}-tls-zkpilot" tls.crt > "${PKI}/zkpilot.crt"
secret_key "${CLUSTER}-tls-zkpilot" tls.key > "${PKI}/zkpilot.key"
secret_key "${CLUSTER}-tls-server-1" quorum-ca.crt > "${PKI}/quorum-ca.crt"
secret_key "${CLUSTER}-tls-server-1" quorum.crt > "${PKI}/quorum.crt"
secret_key "${CLUSTER}-tls-server-1" quorum.key > "${PKI}/quorum.key"
CLIENT_CERT=(-CAfile "${PKI}/ca.crt" -cert "${PKI}/zkpilot.crt" -key "${PKI}/zkpilot.key")

in_cluster() { "${KUBE_SIM}" run --state-dir "${STATE_DIR}" -- "$@"; }
# tls_4lw HOST WORD [VERIFY_NAME]: the word over TLS, the server's certificate
# verified against VERIFY_NAME (default HOST); empty when refused.
tls_4lw() {
  local name="${3:-$1}"
  in_cluster bash -c "printf '$2' | timeout 20 openssl s_client -connect '$1:2181' -servername '$name' \
    -verify_hostname '$name' -verify_return_error $(printf '%q ' "${CLIENT_CERT[@]}") -quiet 2>/dev/null" || true
}
tls_leader() {
  local id
  for id in 1 2 3; do
    if tls_4lw "$(server_host "$id")" srvr | grep -q '^Mode: leader'; then echo "$id"; return 0; fi
  done
  return 1
}
tls_ensemble_ok() {
  local id modes=""
  for id in 1 2 3; do modes+="$(tls_4lw "$(server_host "$id")" srvr | sed -n 's/^Mode: //p') "; done
  [[ "$(grep -o leader <<<"$modes" | wc -l)" == 1 && "$(grep -o follower <<<"$modes" | wc -l)" == 2 ]]
}

# tls_checks VERSION: what a TLS cluster must show, from outside and inside its pods.
tls_checks() {
  local version="$1" id leader
  wait_until 120 "${version}: one leader and two followers over TLS" tls_ensemble_ok
  for id in 1 2 3; do
    expect_match "${version}: server ${id} answers srvr over TLS, verified as its pod's DNS name" \
      "Zookeeper version: ${version}" "$(tls_4lw "$(server_host "$id")" srvr)"
  done
  local service="${CLUSTER}.${NS}.svc.cluster.local"
  expect_match "${version}: the client Service's name is verified too" 'Mode: (leader|follower)' \
    "$(tls_4lw "${service}" srvr)"
  expect_eq "${version}: another name is not" "" "$(tls_4lw "${service}" srvr "other.${NS}.svc.cluster.local")"
  expect_eq "${version}: plaintext srvr on the client port gets no answer" 0 \
    "$(in_cluster bash -c "exec 3<>/dev/tcp/$(server_host 1)/2181 && printf srvr >&3 && timeout 5 cat <&3" 2>/dev/null |
      grep -ac 'Zookeeper version' || true)"
  leader="$(tls_leader)" || fail "${version}: no leader over TLS"
  # Under TLS 1.3 (3.9.3) the server refuses a client certificate after the
  # client has finished its handshake: openssl keeps reading a moment.
  local quorum="$(server_host "$leader"):2888"
  to_quorum() {
    in_cluster bash -c "sleep 3 | timeout 20 openssl s_client -connect '${quorum}' -CAfile '${PKI}/quorum-ca.crt' \
      -cert '${PKI}/$1.crt' -key '${PKI}/$1.key' 2>&1" || true
  }
  expect_match "${version}: the leader's quorum port refuses a client certificate" 'alert' "$(to_quorum zkpilot)"
  local peer
  peer="$(to_quorum quorum)"
  expect_match "${version}: and accepts a quorum certificate" 'Verify return code: 0 \(ok\)' "$peer"
  expect_eq "${version}: without an alert" 0 "$(grep -c alert <<<"$peer" || true)"
  for id in 1 2 3; do
    local pod="${CLUSTER}-${id}-0"
    expect_eq "${version}: server ${id}'s Secret volume is read-only, the joined key stores private" \
      "tls=ro 600 600" \
      "$(kubectl -n "${NS}" exec "${pod}" -c zookeeper -- bash -c \
        'touch /tls/x 2>/dev/null && echo tls=rw || echo tls=ro; stat -c %a /tmp/tls/server.pem /tmp/tls/quorum.pem' |
        tr '\n' ' ' | sed 's/ $//')"
    expect_match "${version}: server ${id} logs its TLS-only quorum socket" 'Creating TLS-only quorum server socket' \
      "$(kubectl -n "${NS}" logs "${pod}" -c zookeeper)"
  done
}

tls_checks 3.8.0

# The write checker over TLS, as zkpilot's certificate, while the operator rolls.
TLS_ARGS=(--tls-ca "${PKI}/ca.crt" --tls-cert "${PKI}/zkpilot.crt" --tls-key "${PKI}/zkpilot.key")
wc_tls_start() {
  local tag="$1" id args=()
  for id in 1 2 3; do args+=(--server "${id}=$(server_host "$id"):2181"); done
  "${KUBE_SIM}" run --state-dir "${STATE_DIR}" -- "${WRITE_CHECK}" "${args[@]}" "${TLS_ARGS[@]}" \
    --ready-file "${STATE_DIR}/wc-${tag}.ready" --stop-file "${STATE_DIR}/wc-${tag}.stop-me" \
    --report "${STATE_DIR}/wc-${tag}.json" > "${STATE_DIR}/wc-${tag}.log" 2>&1 &
  BG_PIDS+=($!)
  echo $! > "${STATE_DIR}/wc-${tag}.pid"
  wait_until 60 "the write checker '${tag}' writes over TLS" test -e "${STATE_DIR}/wc-${tag}.ready"
}

mark="$(pods_mark)"
wc_tls_start tick
out="$(zkp configure "${CLUSTER}" --set tickTime=3000 --timeout 600 2>&1)" || fail "configure tickTime: $out"
wc_stop tick
expect_eq "configure tickTime over TLS: every server replaced once" 3 "$(replaced_count "$mark")"

mark="$(pods_mark)"
wc_tls_start upgrade
out="$(zkp upgrade "${CLUSTER}" --version 3.9.3 --timeout 600 2>&1)" || fail "upgrade: $out"
wc_stop upgrade
expect_eq "upgrade over TLS: every server replaced once" 3 "$(replaced_count "$mark")"
expect_eq "the resource says 3.9.3, Running" "3.9.3 Running" "$(cr '{.status.currentVersion} {.status.phase}')"

tls_checks 3.9.3
finish
