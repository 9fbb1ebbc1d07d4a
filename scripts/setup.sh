#!/usr/bin/env bash
# Installs what zkpilot needs to build and test (Debian packages), then builds
# build/zkpilot. Safe to run again: installs only what is missing, rebuilds
# only what changed. Run as root or with sudo available.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libyaml-cpp-dev nlohmann-json3-dev libkainjow-mustache-dev libcli11-dev
  libspdlog-dev libfmt-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libsqlite3-dev        # local state
  libzip-dev            # reading jar manifests (class-data archives)
  libzookeeper-mt-dev   # ZooKeeper C client: znodes, reconfig
  libcpp-httplib-dev    # AdminServer client
  zookeeper             # ZooKeeper 3.8.0 for the local platform (brings a JRE)
  default-jre-headless
  default-jdk-headless  # javac: bench/roll builds its Java-client writer at run time
  libslf4j-java liblog4j1.2-java libservlet-api-java   # logging and AdminServer for Debian's ZooKeeper
  prometheus            # promtool, and the Prometheus of local monitoring
  prometheus-alertmanager
  python3 ca-certificates
  # The Kubernetes platform's API client: HTTPS (libcurl), exec over WebSocket (Boost.Beast)
  libcurl4-openssl-dev libboost-dev
  # The Kubernetes test cluster (tests/kube-sim/) and its clients
  iproute2 util-linux   # network and mount namespaces for pods
  nftables              # NetworkPolicy enforcement and Service addresses
  dnsmasq-base          # cluster DNS
  openssl               # the cluster's CA and certificates
  python3-kubernetes    # a second real client (watch)
  python3-kazoo         # a real ZooKeeper client inside the cluster network
  python3-pure-sasl     # kazoo's SASL (DIGEST-MD5) for tests/auth_test.cc
  python3-yaml
  jq                    # the scenarios read JSON reports and the faults API
  liblogback-java       # logback for the test cluster's ZooKeeper image layers
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# kubectl, the real client the test cluster (tests/kube-sim/) is held to:
# Debian 12 has no kubectl package of its own, but machines of this project
# come with one (a package named kubectl); elsewhere try apt, and say what is
# lost if it cannot be had.
if ! command -v kubectl >/dev/null; then
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  if ! $SUDO apt-get install -y -qq --no-install-recommends kubectl >/dev/null 2>&1; then
    echo "setup: warning: kubectl is not installed and apt has no kubectl package here;" >&2
    echo "setup: warning: install kubectl 1.32 to run the Kubernetes test cluster's suites (ctest -L kube-sim)" >&2
  fi
fi

# Debian's zookeeper package must not run a system-wide server of its own.
if [[ -x /etc/init.d/zookeeper ]] && pgrep -f "zookeeper.*QuorumPeerMain.*/etc/zookeeper" >/dev/null; then
  echo "setup: note: a system ZooKeeper service runs; zkpilot's clusters use their own ports"
fi

BUILD_DIR=${BUILD_DIR:-build}
if [[ ! -f "$BUILD_DIR/build.ninja" ]]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$BUILD_DIR" -- -j"$(nproc)"
echo "setup: built $BUILD_DIR/zkpilot"

# ZooKeeper 3.9.3 next to Debian's 3.8.0, so that versions can be switched
# out of the box (from Debian trixie's .deb; the system's apt is untouched).
scripts/fetch-zookeeper.sh 3.9.3
