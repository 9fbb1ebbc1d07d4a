# Shared by the operator_*.sh scenarios: zkpilot's CLI with --platform
# kubernetes against the test cluster, the operator in a pod (the image
# ghcr.io/zkpilot/zkpilot runs the zkpilot binary under test), the write
# checker writing from inside the cluster network, a watch of the server pods,
# and ZooKeeper read with four-letter words. Everything started in the
# background is ended by PID on exit, before the cluster stops.
source "$(dirname "${BASH_SOURCE[0]}")/../testlib.bash"

E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PACKAGE="${ROOT}/packages/zookeeper"
WRITE_CHECK="${ZKPILOT_WRITE_CHECK:-$(dirname "${ZKPILOT}")/zkpilot-write-check}"
# The operator's pods run this binary (tests/kube-sim/README.md, Images).
export ZKPILOT_BINARY="${ZKPILOT}"
# A crashed or killed operator container comes back within a second, not
# after the kubelet's default 10 s back-off.
export KUBE_SIM_BACKOFF_BASE_MS="${KUBE_SIM_BACKOFF_BASE_MS:-300}"
[[ -x "${ZKPILOT}" ]] || fail "${ZKPILOT} is missing: build the zkpilot target"
[[ -x "${WRITE_CHECK}" ]] || fail "${WRITE_CHECK} is missing: build the zkpilot-write-check target"

NS=zk
CLUSTER=demo
OPERATOR_NS=zkpilot-system
HEADLESS="${CLUSTER}-headless.${NS}.svc.cluster.local"
PODS_LOG="${STATE_DIR}/pods.jsonl"
BG_PIDS=()

cleanup_background() {
  local rc=$? pid
  # A write checker outlives the `kube-sim run` that started it, and reading
  # back from a cluster about to stop would never end (nor would waiting for
  # its `kube-sim run`): end it first, by its PID (found by this run's state
  # directory in its command line).
  for pid in $(pgrep -f "zkpilot-write-check .*${STATE_DIR}/wc-" || true); do kill -KILL "$pid" 2>/dev/null || true; done
  for pid in "${BG_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${BG_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  # stop_cluster reads the script's status from $?; errexit must not end
  # this handler at the `(exit 1)` that hands it over.
  set +e
  (exit "$rc")
  stop_cluster
}
trap cleanup_background EXIT

# zkp VERB ARGS...: the CLI on the test cluster (KUBECONFIG is honoured).
zkp() { "${ZKPILOT}" --platform kubernetes -n "${NS}" "$@"; }
# zkp_as KUBECONFIG VERB ARGS...: the CLI with other credentials.
zkp_as() { local kc="$1"; shift; KUBECONFIG="$kc" "${ZKPILOT}" --platform kubernetes -n "${NS}" "$@"; }

# cr JSONPATH: a field of the ZooKeeperCluster.
cr() { kubectl -n "${NS}" get zookeepercluster "${CLUSTER}" -o jsonpath="$1"; }
cr_phase_is() { [[ "$(cr '{.status.phase}')" == "$1" ]]; }
operation_phase() { cr '{.status.operation.type} {.status.operation.phase}'; }

# install_operator [REPLICAS]: the manifests applied as the README says, then
# waits until every replica is available.
install_operator() {
  local replicas="${1:-1}"
  "${ZKPILOT}" operator manifests "${PACKAGE}" --replicas "${replicas}" > "${STATE_DIR}/operator.yaml"
  kubectl apply --server-side -f "${STATE_DIR}/operator.yaml" >/dev/null
  expect_match "the operator's ${replicas} replica(s) become available" 'successfully rolled out' \
    "$(kubectl -n "${OPERATOR_NS}" rollout status deployment/zkpilot-operator --timeout=180s)"
}

# operator_pods: names of the operator's running pods (not being deleted).
operator_pods() {
  kubectl -n "${OPERATOR_NS}" get pods -l app.kubernetes.io/name=zkpilot-operator -o \
    jsonpath='{range .items[?(@.status.phase=="Running")]}{.metadata.name} {.metadata.deletionTimestamp}{"\n"}{end}' |
    awk 'NF == 1 {print $1}'
}
# lease_holder: the Lease's holderIdentity (POD_NAME_PID).
lease_holder() { kubectl -n "${OPERATOR_NS}" get lease zkpilot-operator -o jsonpath='{.spec.holderIdentity}'; }
lease_pod() { local h; h="$(lease_holder)"; echo "${h%_*}"; }

# The host PID of the operator process running in POD (its environment
# carries POD_NAME from the downward API).
operator_pid() {
  local pod="$1" p
  for p in /proc/[0-9]*; do
    tr '\0' ' ' < "$p/cmdline" 2>/dev/null | grep -q 'zkpilot operator' || continue
    tr '\0' '\n' < "$p/environ" 2>/dev/null | grep -qx "POD_NAME=${pod}" || continue
    echo "${p#/proc/}"
    return 0
  done
  return 1
}

# --- ZooKeeper, from inside the cluster network ------------------------------

server_host() { echo "${CLUSTER}-$1-0.${HEADLESS}"; }
zk() { "${KUBE_SIM}" run --state-dir "${STATE_DIR}" -- "$PY" "${E2E_DIR}/manifests_zk.py" "$@"; }
zk_srvr() { "${KUBE_SIM}" run --state-dir "${STATE_DIR}" -- "$PY" "${E2E_DIR}/operator_zk.py" srvr "$@"; }
# leader_of IDS...: the id of the server that reports Mode: leader.
leader_of() {
  local id
  for id in "$@"; do
    if [[ "$(zk mode "$(server_host "$id"):2181" 2>/dev/null)" == leader ]]; then echo "$id"; return 0; fi
  done
  return 1
}
# versions IDS...: "ID VERSION" per server, from srvr.
versions() {
  local id
  for id in "$@"; do echo "$id $(zk_srvr "$(server_host "$id"):2181" | sed -n 's/^version //p')"; done
}
conf_value() { zk conf "$(server_host "$1"):2181" | sed -n "s/^$2=//p"; }
members() { zk members "$(server_host "$1"):2181" | head -n 1; }
# ensemble_ok IDS...: exactly one leader, the others followers.
ensemble_ok() {
  local id mode leaders=0
  for id in "$@"; do
    mode="$(zk mode "$(server_host "$id"):2181" 2>/dev/null)" || return 1
    case "$mode" in leader) leaders=$((leaders + 1)) ;; follower) ;; *) return 1 ;; esac
  done
  ((leaders == 1))
}

# pods_state IDS...: "server uid restartCount" per server pod, to prove pods untouched.
pods_state() {
  local id
  for id in "$@"; do
    echo "$id $(kubectl -n "${NS}" get pod "${CLUSTER}-${id}-0" -o \
      jsonpath='{.metadata.uid} {.status.containerStatuses[0].restartCount} {.metadata.deletionTimestamp}')"
  done
}
server_pods_ready() {
  local n="$1"
  [[ "$(kubectl -n "${NS}" get pods -l "app.kubernetes.io/instance=${CLUSTER},app.kubernetes.io/component=server" \
    -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c True)" == "$n" ]]
}

# --- the write checker --------------------------------------------------------

# wc_start TAG [IDS...]: a write checker writing to servers IDS (default 1 2 3)
# from inside the cluster network, in the background; returns once it writes.
wc_start() {
  local tag="$1" id args=()
  shift
  local ids=("$@")
  ((${#ids[@]})) || ids=(1 2 3)
  for id in "${ids[@]}"; do args+=(--server "${id}=$(server_host "$id"):2181"); done
  "${KUBE_SIM}" run --state-dir "${STATE_DIR}" -- "${WRITE_CHECK}" "${args[@]}" \
    --ready-file "${STATE_DIR}/wc-${tag}.ready" --stop-file "${STATE_DIR}/wc-${tag}.stop-me" \
    --report "${STATE_DIR}/wc-${tag}.json" > "${STATE_DIR}/wc-${tag}.log" 2>&1 &
  BG_PIDS+=($!)
  echo $! > "${STATE_DIR}/wc-${tag}.pid"
  wait_until 60 "the write checker '${tag}' writes" test -e "${STATE_DIR}/wc-${tag}.ready"
}
# wc_stop TAG: stops it, waits for its report; sets WC_ACK, WC_FAILED, WC_LOST,
# WC_ELECTIONS, WC_LEADERS and WC_SUMMARY.
wc_stop() {
  local tag="$1" pid
  pid="$(cat "${STATE_DIR}/wc-${tag}.pid")"
  touch "${STATE_DIR}/wc-${tag}.stop-me"
  wait "$pid" || fail "write checker '${tag}' failed: $(tail -n 5 "${STATE_DIR}/wc-${tag}.log")"
  local r="${STATE_DIR}/wc-${tag}.json"
  WC_ACK="$(jq -r .acknowledged "$r")"
  WC_FAILED="$(jq -r .failed "$r")"
  WC_LOST="$(jq -r .lost "$r")"
  WC_ELECTIONS="$(jq -r .elections "$r")"
  WC_LEADERS="$(jq -r '.leaders | map(tostring) | join(",")' "$r")"
  WC_SUMMARY="$(jq -r .summary "$r")"
  echo "# write checker '${tag}': ${WC_SUMMARY}"
  echo "${tag}: acknowledged ${WC_ACK}, failed ${WC_FAILED}, lost ${WC_LOST}, elections ${WC_ELECTIONS}, leaders ${WC_LEADERS}" \
    >> "${STATE_DIR}/results.txt"
  ((WC_ACK > 0)) || fail "write checker '${tag}': no write was acknowledged"
  expect_eq "write checker '${tag}': no acknowledged write lost (of ${WC_ACK})" 0 "${WC_LOST}"
}

# --- the server pods, watched --------------------------------------------------

watch_pods() {
  "$PY" "${E2E_DIR}/operator_pods.py" watch "${KUBECONFIG}" "${NS}" "${CLUSTER}" "${PODS_LOG}" &
  BG_PIDS+=($!)
  wait_until 30 "the watch of the server pods runs" grep -q SYNCED "${PODS_LOG}"
}
# pods_mark: where a window of the pod record begins.
pods_mark() { wc -l < "${PODS_LOG}"; }
# pods_replaced MARK: the analysis of the record since MARK (operator_pods.py).
pods_replaced() { "$PY" "${E2E_DIR}/operator_pods.py" replaced "${PODS_LOG}" "$1"; }
# replaced_count MARK: how many server pods went since MARK.
replaced_count() { pods_replaced "$1" | jq '.order | length'; }

# expect_roll WHAT MARK LEADER IDS...: since MARK every server of IDS was
# replaced exactly once, one at a time, each after the others were Ready,
# and LEADER last.
expect_roll() {
  local what="$1" mark="$2" leader="$3"
  shift 3
  local n=$#
  wait_until 60 "${what}: the watch saw ${n} replacements" \
    bash -c "[[ \$(\"$PY\" \"${E2E_DIR}/operator_pods.py\" replaced \"${PODS_LOG}\" ${mark} | jq '.order | length') -ge ${n} ]]"
  local r
  r="$(pods_replaced "$mark")"
  echo "# ${what}: pods replaced in this order: $(jq -c .order <<<"$r") (leader before: ${leader})"
  local id
  for id in "$@"; do
    expect_eq "${what}: server ${id}'s pod was replaced exactly once" 1 "$(jq -r ".per_server[\"${id}\"] // 0" <<<"$r")"
  done
  expect_eq "${what}: nothing else was replaced" "$n" "$(jq '.order | length' <<<"$r")"
  expect_eq "${what}: one at a time, each after the others were Ready" "[]" "$(jq -c .overlap <<<"$r")"
  expect_eq "${what}: the leader (server ${leader}) last" "${leader}" "$(jq '.order[-1]' <<<"$r")"
}
