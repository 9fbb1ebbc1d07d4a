#!/usr/bin/env bash
# Installs a ZooKeeper distribution (the JVM code of one ZooKeeper version)
# into zkpilot's distribution store, where the local platform finds it by id.
#
#   scripts/fetch-zookeeper.sh VERSION [--store DIR]
#       Fetches a version that Debian packages but this system does not have
#       (3.9.3, from Debian trixie's .debs) as `debian-VERSION`.
#   scripts/fetch-zookeeper.sh --tarball PATH [--store DIR]
#       Registers an Apache binary tarball (apache-zookeeper-X.Y.Z-bin.tar.gz)
#       as `apache-X.Y.Z`.
#
# The default store is $ZKPILOT_DISTRIBUTIONS, else ${ZKPILOT_HOME:-${XDG_STATE_HOME:-$HOME/.local/state}/zkpilot}/distributions.
# Each distribution is a directory <store>/<id>/ with a distribution.json
# (id, version, mainClass, ordered classpath, source) that zkpilot reads.
#
# Idempotent: a distribution that is already complete is left alone. Nothing
# is half-installed: everything is prepared in a temporary directory inside the
# store and renamed into place only once it is complete and checked.
# The system's apt configuration is never touched: apt-get runs on a private
# sources list, package lists and cache in that temporary directory.
# See docs/distributions.md.
set -euo pipefail

readonly MAIN_CLASS="org.apache.zookeeper.server.quorum.QuorumPeerMain"
readonly SYSTEM_JAVA_DIR="/usr/share/java"
readonly DEBIAN_KEYRING="/usr/share/keyrings/debian-archive-keyring.gpg"

# Jars that Debian's zookeeper jar needs but leaves out of its manifest
# Class-Path: without servlet-api the AdminServer silently does not start;
# without netty-codec, -resolver and -transport-native-unix-common the Netty
# connection factory (the one TLS needs) fails on the first connection; and
# without an SLF4J binding the server logs nothing at all (with slf4j-log4j12
# and log4j-1.2 it reads log4j.properties from the classpath's first entry,
# the node's conf dir). All come with the dependencies of Debian's zookeeper
# package (libservlet-api-java, libnetty-java, libslf4j-java,
# liblog4j1.2-java). Keep in sync with kDebianExtraJars in
# src/platform/local/distribution.cc.
readonly DEBIAN_EXTRA_JARS=(servlet-api.jar netty-codec.jar netty-resolver.jar
  netty-transport-native-unix-common.jar slf4j-log4j12.jar log4j-1.2.jar)

# Manifest Class-Path entries of Debian's zookeeper jar that may be absent:
# jline only serves the interactive client, and zookeeper-jute.jar is the
# system's own (older) jute, which every Debian distribution puts first on the
# classpath instead.
readonly OPTIONAL_MANIFEST_JARS=(jline.jar zookeeper-jute.jar)

die() {
  echo "fetch-zookeeper: error: $*" >&2
  exit 1
}
say() { echo "fetch-zookeeper: $*"; }

usage() {
  cat <<'EOF'
usage: scripts/fetch-zookeeper.sh VERSION [--store DIR]
       scripts/fetch-zookeeper.sh --tarball PATH [--store DIR]

Installs the ZooKeeper JVM code of one version into zkpilot's distribution store.
  VERSION          a version Debian packages: 3.9.3 (from Debian trixie) -> debian-3.9.3;
                   3.8.0 is Debian 12's own zookeeper package (built in as debian-3.8.0)
  --tarball PATH   register an Apache binary tarball apache-zookeeper-X.Y.Z-bin.tar.gz
                   as apache-X.Y.Z
  --store DIR      the store (default ${ZKPILOT_HOME:-${XDG_STATE_HOME:-$HOME/.local/state}/zkpilot}/distributions)
EOF
}

# --- arguments --------------------------------------------------------------

version=""
tarball=""
store=""
while (($#)); do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --store) (($# >= 2)) || die "--store needs a directory"; store="$2"; shift 2 ;;
    --store=*) store="${1#--store=}"; shift ;;
    --tarball) (($# >= 2)) || die "--tarball needs a path"; tarball="$2"; shift 2 ;;
    --tarball=*) tarball="${1#--tarball=}"; shift ;;
    -*) usage >&2; die "unknown option $1" ;;
    *)
      [[ -z "$version" ]] || die "one VERSION at a time (got $version and $1)"
      version="$1"; shift ;;
  esac
done
if [[ -n "$tarball" && -n "$version" ]]; then
  die "give either VERSION or --tarball PATH, not both"
fi
if [[ -z "$tarball" && -z "$version" ]]; then
  usage >&2
  exit 2
fi

if [[ -z "$store" ]]; then
  store="${ZKPILOT_DISTRIBUTIONS:-${ZKPILOT_HOME:-${XDG_STATE_HOME:-${HOME:?HOME is not set}/.local/state}/zkpilot}/distributions}"
fi
mkdir -p "$store" || die "cannot create the store $store"
store="$(realpath "$store")"
[[ "$store" != *:* ]] || die "the store path $store contains ':', the classpath separator: choose another with --store"

# One fetch at a time per store: a second run waits, then finds the work done.
exec 9>"$store/.lock"
flock 9

work=""
cleanup() { [[ -z "$work" ]] || rm -rf "$work"; }
trap cleanup EXIT
# Inside the store, so the final rename stays on one file system.
work="$(mktemp -d "$store/.incoming.XXXXXX")"

# --- helpers ----------------------------------------------------------------

# A JSON string literal for $1 (paths and plain text: escapes \ and ").
json_string() {
  local s="$1"
  [[ "$s" != *[[:cntrl:]]* ]] || die "control character in '$s'"
  s="${s//\\/\\\\}"
  s="${s//\"/\\\"}"
  printf '"%s"' "$s"
}

# write_distribution FILE ID VERSION SOURCE JAR...
write_distribution() {
  local file="$1" id="$2" ver="$3" source="$4"
  shift 4
  {
    printf '{\n  "id": %s,\n  "version": %s,\n' "$(json_string "$id")" "$(json_string "$ver")"
    printf '  "mainClass": %s,\n  "classpath": [\n' "$(json_string "$MAIN_CLASS")"
    local i=0
    for jar in "$@"; do
      ((i++)) && printf ',\n'
      printf '    %s' "$(json_string "$jar")"
    done
    printf '\n  ],\n  "source": %s\n}\n' "$(json_string "$source")"
  } >"$file"
}

# Prints the classpath of <store>/<id>/distribution.json, one jar a line (the
# file as write_distribution writes it).
distribution_jars() {
  sed -n 's/^ *"\(\/[^"]*\.jar\)",\{0,1\}$/\1/p' "$store/$1/distribution.json"
}

# True if <store>/<id> is complete: distribution.json present and every jar of
# its classpath exists. (The store's reader, zkpilot, checks the same.)
distribution_complete() {
  [[ -f "$store/$1/distribution.json" ]] || return 1
  local jar found=0
  while IFS= read -r jar; do
    found=1
    [[ -f "$jar" ]] || return 1
  done < <(distribution_jars "$1")
  ((found))
}

# Moves the prepared $work/dist into <store>/<id>, replacing an incomplete
# earlier attempt.
install_distribution() {
  local id="$1"
  if [[ -e "$store/$id" ]]; then
    mv "$store/$id" "$work/previous"
  fi
  mv "$work/dist" "$store/$id"
}

# Prints the manifest Class-Path entries of jar $1, one a line.
manifest_class_path() {
  local manifest
  if command -v unzip >/dev/null; then
    manifest="$(unzip -p "$1" META-INF/MANIFEST.MF)"
  elif command -v python3 >/dev/null; then
    manifest="$(python3 -c 'import sys, zipfile; print(zipfile.ZipFile(sys.argv[1]).read("META-INF/MANIFEST.MF").decode())' "$1")"
  else
    say "warning: neither unzip nor python3 found; not checking $1's dependencies" >&2
    return 0
  fi
  # Manifest lines are wrapped at 72 bytes; a continuation starts with a space.
  tr -d '\r' <<<"$manifest" | sed -e ':a' -e 'N' -e '$!ba' -e 's/\n //g' |
    sed -n 's/^Class-Path: //p' | tr ' ' '\n' | sed '/^$/d'
}

# --- Debian .debs -----------------------------------------------------------

# The mirror this machine already uses for Debian (the URI of its first
# .../debian archive), so that nothing new is contacted.
debian_mirror() {
  if [[ -n "${ZKPILOT_DEBIAN_MIRROR:-}" ]]; then
    echo "${ZKPILOT_DEBIAN_MIRROR%/}"
    return
  fi
  local uri
  uri="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
    sed -n -e 's/^[[:space:]]*URIs:[[:space:]]*//p' \
      -e 's/^[[:space:]]*deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]\{1,\}\)\{0,1\}//p' |
    tr -s ' \t' '\n' | grep -E '^https?://[^ ]*/debian/?$' | head -n 1 || true)"
  uri="${uri:-http://deb.debian.org/debian}"
  echo "${uri%/}"
}

fetch_debian() {
  local ver="$1" suite package
  case "$ver" in
    3.9.3) suite="trixie"; package="libzookeeper-java" ;;
    3.8.0)
      if [[ -f "$SYSTEM_JAVA_DIR/zookeeper-3.8.0.jar" ]]; then
        say "3.8.0 is Debian 12's own zookeeper package, already installed: zkpilot uses it as debian-3.8.0 (nothing to fetch)"
        exit 0
      fi
      die "3.8.0 is Debian 12's own zookeeper package: install it with 'apt-get install zookeeper' (zkpilot then finds it as debian-3.8.0)"
      ;;
    *)
      die "ZooKeeper $ver is not available from Debian here (supported: 3.9.3; 3.8.0 is built in). Download apache-zookeeper-$ver-bin.tar.gz and register it: scripts/fetch-zookeeper.sh --tarball PATH"
      ;;
  esac
  local id="debian-$ver"
  # Classpath: this version's jute first. Debian's zookeeper jar names the
  # system's /usr/share/java/zookeeper-jute.jar (Debian 12's 3.8.0) in its
  # manifest Class-Path; the JVM appends manifest entries after the explicit
  # ones, so listing the right jute first makes it win. Otherwise the server
  # dies on its first client with NoSuchMethodError (ConnectRequest.setReadOnly).
  local final_java_dir="$store/$id/root/usr/share/java" classpath=() entry
  classpath=("$final_java_dir/zookeeper-jute-$ver.jar" "$final_java_dir/zookeeper-$ver.jar")
  for entry in "${DEBIAN_EXTRA_JARS[@]}"; do classpath+=("$SYSTEM_JAVA_DIR/$entry"); done

  if distribution_complete "$id"; then
    if [[ "$(distribution_jars "$id")" == "$(printf '%s\n' "${classpath[@]}")" ]]; then
      say "$id is already fetched: $store/$id"
      exit 0
    fi
    # Fetched by an earlier version of this script: same .debs, new classpath.
    for entry in "${classpath[@]}"; do
      [[ -f "$entry" ]] || die "$id needs $entry, which is missing: install Debian's zookeeper package (apt-get install zookeeper)"
    done
    write_distribution "$work/distribution.json" "$id" "$ver" "debian $suite .deb" "${classpath[@]}"
    mv "$work/distribution.json" "$store/$id/distribution.json"
    say "$id is already fetched; updated its classpath: $store/$id/distribution.json"
    exit 0
  fi
  if [[ -e "$store/$id" ]]; then
    say "$id in $store is incomplete; fetching it again"
  fi

  if ! command -v apt-get >/dev/null || ! command -v dpkg-deb >/dev/null; then
    die "apt-get and dpkg-deb are needed to fetch Debian packages"
  fi
  [[ -f "$DEBIAN_KEYRING" ]] ||
    die "$DEBIAN_KEYRING is missing: install debian-archive-keyring"
  [[ -f "$SYSTEM_JAVA_DIR/zookeeper.jar" ]] ||
    die "Debian's zookeeper package is not installed; the $suite jar needs its dependencies: apt-get install zookeeper"

  local mirror apt="$work/apt"
  mirror="$(debian_mirror)"
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$work/debs"
  echo "deb [signed-by=$DEBIAN_KEYRING] $mirror $suite main" >"$apt/sources.list"
  : >"$apt/status"
  local apt_opts=(
    -o "Dir::Etc::SourceList=$apt/sources.list"
    -o "Dir::Etc::SourceParts=/dev/null"
    -o "Dir::State::Lists=$apt/lists"
    -o "Dir::Cache=$apt/cache"
    -o "Dir::State::Status=$apt/status"
    -o "APT::Sandbox::User=root"
  )
  say "reading the package list of Debian $suite from $mirror"
  apt-get "${apt_opts[@]}" -qq --error-on=any update >"$work/apt.log" 2>&1 ||
    die "apt-get update for Debian $suite failed ($mirror):"$'\n'"$(tail -n 5 "$work/apt.log")"

  local candidate
  candidate="$(apt-cache "${apt_opts[@]}" policy "$package" | sed -n 's/^ *Candidate: //p')"
  [[ -n "$candidate" && "$candidate" != "(none)" ]] ||
    die "Debian $suite has no package $package"
  [[ "${candidate%%-*}" == "$ver" ]] ||
    die "Debian $suite now has $package $candidate, not ZooKeeper $ver; register an Apache tarball instead: scripts/fetch-zookeeper.sh --tarball apache-zookeeper-$ver-bin.tar.gz"

  say "downloading $package $candidate"
  (cd "$work/debs" && apt-get "${apt_opts[@]}" -qq download "$package=$candidate") >>"$work/apt.log" 2>&1 ||
    die "apt-get download $package=$candidate failed:"$'\n'"$(tail -n 5 "$work/apt.log")"

  mkdir -p "$work/dist/root"
  local deb
  for deb in "$work"/debs/*.deb; do
    dpkg-deb -x "$deb" "$work/dist/root" || die "cannot extract $(basename "$deb")"
    echo "$(basename "$deb") sha256:$(sha256sum "$deb" | cut -d' ' -f1)" >>"$work/dist/packages.txt"
  done

  local java_dir="$work/dist/root/usr/share/java"
  [[ -f "$java_dir/zookeeper-jute-$ver.jar" && -f "$java_dir/zookeeper-$ver.jar" ]] ||
    die "$package $candidate does not hold zookeeper-$ver.jar and zookeeper-jute-$ver.jar"

  # Its remaining dependencies come from the system (Debian's zookeeper
  # package), through the jar's manifest Class-Path: check they are there.
  local missing=()
  while IFS= read -r entry; do
    local optional=0 name="${entry##*/}"
    for o in "${OPTIONAL_MANIFEST_JARS[@]}"; do [[ "$name" == "$o" ]] && optional=1; done
    ((optional)) || [[ -f "$entry" ]] || missing+=("$entry")
  done < <(manifest_class_path "$java_dir/zookeeper-$ver.jar")
  for entry in "${DEBIAN_EXTRA_JARS[@]}"; do
    [[ -f "$SYSTEM_JAVA_DIR/$entry" ]] || missing+=("$SYSTEM_JAVA_DIR/$entry")
  done
  ((${#missing[@]} == 0)) ||
    die "ZooKeeper $ver needs jars this system lacks: ${missing[*]}; install Debian's zookeeper package (apt-get install zookeeper)"

  write_distribution "$work/dist/distribution.json" "$id" "$ver" "debian $suite .deb" "${classpath[@]}"
  install_distribution "$id"
  say "installed $id in $store/$id"
}

# --- Apache binary tarball --------------------------------------------------

register_tarball() {
  local path="$1"
  [[ -f "$path" && -r "$path" ]] || die "$path: no such readable file"
  say "unpacking $(basename "$path")"
  mkdir -p "$work/unpack"
  tar -xf "$path" -C "$work/unpack" --no-same-owner 2>"$work/tar.log" ||
    die "$path: not a readable tarball: $(head -n 3 "$work/tar.log")"

  # The binary tarball holds one directory apache-zookeeper-X.Y.Z-bin/ with
  # bin/, conf/, docs/ and lib/ (zookeeper-X.Y.Z.jar, zookeeper-jute-X.Y.Z.jar
  # and every third-party jar).
  local tops=("$work"/unpack/*)
  if ((${#tops[@]} != 1)) || [[ ! -d "${tops[0]}" ]]; then
    die "$path: expected one top-level directory (apache-zookeeper-X.Y.Z-bin/)"
  fi
  local top="${tops[0]}"
  if [[ ! -d "$top/lib" ]]; then
    die "$path: no lib/ directory; this looks like a source tarball: register the binary one, apache-zookeeper-X.Y.Z-bin.tar.gz"
  fi
  local jars=() jar name ver=""
  for jar in "$top"/lib/zookeeper-*.jar; do
    name="${jar##*/}"
    if [[ "$name" =~ ^zookeeper-([0-9]+\.[0-9]+\.[0-9]+)\.jar$ ]]; then
      [[ -z "$ver" ]] || die "$path: more than one zookeeper-X.Y.Z.jar in lib/"
      ver="${BASH_REMATCH[1]}"
    fi
  done
  [[ -n "$ver" ]] || die "$path: lib/ has no zookeeper-X.Y.Z.jar"
  [[ -f "$top/lib/zookeeper-jute-$ver.jar" ]] || die "$path: lib/ has no zookeeper-jute-$ver.jar"

  local id="apache-$ver"
  if distribution_complete "$id"; then
    say "$id is already registered: $store/$id"
    exit 0
  fi
  if [[ -e "$store/$id" ]]; then
    say "$id in $store is incomplete; registering it again"
  fi

  mkdir -p "$work/dist"
  mv "$top" "$work/dist/zookeeper"
  local final_lib="$store/$id/zookeeper/lib"
  # jute and the server jar first, then the other jars in name order
  # (sources, javadoc and test jars are not runtime code).
  jars=("$final_lib/zookeeper-jute-$ver.jar" "$final_lib/zookeeper-$ver.jar")
  while IFS= read -r name; do
    case "$name" in
      "zookeeper-jute-$ver.jar" | "zookeeper-$ver.jar" | *-sources.jar | *-javadoc.jar | *-tests.jar) ;;
      *) jars+=("$final_lib/$name") ;;
    esac
  done < <(cd "$work/dist/zookeeper/lib" && printf '%s\n' *.jar | LC_ALL=C sort)

  write_distribution "$work/dist/distribution.json" "$id" "$ver" \
    "apache binary tarball $(basename "$path")" "${jars[@]}"
  install_distribution "$id"
  say "registered $id in $store/$id"
}

if [[ -n "$tarball" ]]; then
  register_tarball "$tarball"
else
  fetch_debian "$version"
fi
