#!/usr/bin/env bash
# Checks the monitoring content of the default ZooKeeper package:
#
#   1. promtool check rules  packages/zookeeper/addons/prometheus/rules/zookeeper-alerts.yaml
#   2. promtool test rules   packages/zookeeper/addons/prometheus/tests/zookeeper-alerts.test.yaml
#   3. every Grafana dashboard in packages/zookeeper/addons/grafana/dashboards/
#      is valid JSON with unique panel ids, and its PromQL expressions parse
#      (checked by promtool as recording rules, Grafana variables substituted)
#   4. every metric name used by the rules and the dashboards is listed in
#      packages/zookeeper/addons/metrics.txt ("up" is always allowed)
#   5. every alert has at least one unit test where it fires and one where it
#      does not
#
# Usage: tests/promtool/check_rules.sh [REPO_ROOT]
# REPO_ROOT defaults to two directories above this script.
# Needs promtool (Debian package "prometheus") and python3. PyYAML is used
# when present; without it a small built-in reader for the files' layout is
# used.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="${1:-$script_dir/../..}"
if [[ ! -d "$root" ]]; then
  echo "check_rules: FAIL: repository root '$root' is not a directory" >&2
  exit 1
fi
root="$(cd "$root" && pwd)"

addons="$root/packages/zookeeper/addons"
rules="$addons/prometheus/rules/zookeeper-alerts.yaml"
tests="$addons/prometheus/tests/zookeeper-alerts.test.yaml"
dashboards="$addons/grafana/dashboards"
metrics="$addons/metrics.txt"

fail() {
  echo "check_rules: FAIL: $*" >&2
  exit 1
}

command -v promtool >/dev/null 2>&1 || fail "promtool not found in PATH (Debian package 'prometheus')"
command -v python3 >/dev/null 2>&1 || fail "python3 not found in PATH"
for f in "$rules" "$tests" "$metrics"; do
  [[ -f "$f" ]] || fail "missing file: $f"
done
[[ -d "$dashboards" ]] || fail "missing directory: $dashboards"

echo "check_rules: $(promtool --version 2>&1 | head -n 1)"

echo "check_rules: promtool check rules ${rules#"$root"/}"
promtool check rules "$rules" || fail "promtool check rules failed for $rules"

echo "check_rules: promtool test rules ${tests#"$root"/}"
promtool test rules "$tests" || fail "promtool test rules failed for $tests"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "check_rules: dashboards, metric names and test coverage"
python3 - "$rules" "$tests" "$metrics" "$dashboards" "$tmp/dashboard-exprs.yaml" <<'PY' || fail "dashboard / metric name / coverage check failed"
import glob
import json
import os
import re
import sys

rules_path, tests_path, metrics_path, dash_dir, expr_rules_path = sys.argv[1:6]
errors = []


def err(msg):
    errors.append(msg)
    print("  error: " + msg, file=sys.stderr)


# ------------------------------------------------------------------ YAML
# Minimal reader for the layout of the rule and test files (used when PyYAML
# is missing, and cross-checked against PyYAML when it is present).
BLOCK = re.compile(r"^[|>][+-]?$")


def _indent(line):
    return len(line) - len(line.lstrip(" "))


def _scalar(lines, i, col, raw):
    """Value of a key at column col on line i whose text after ':' is raw."""
    raw = raw.strip()
    if BLOCK.match(raw):
        out = []
        j = i + 1
        while j < len(lines) and (not lines[j].strip() or _indent(lines[j]) > col):
            out.append(lines[j].strip())
            j += 1
        return "\n".join(x for x in out if x)
    if raw.startswith('"'):
        try:
            return json.loads(raw)
        except ValueError:
            return raw.strip('"')
    if raw.startswith("'"):
        return raw[1:-1].replace("''", "'")
    raw = re.sub(r"\s+#.*$", "", raw)
    out = [raw]
    j = i + 1
    while j < len(lines) and lines[j].strip() and _indent(lines[j]) > col \
            and not lines[j].strip().startswith("#"):
        out.append(lines[j].strip())
        j += 1
    return " ".join(out)


def _keyed(lines, key):
    pat = re.compile(r"^(\s*(?:-\s+)?)" + key + r":(.*)$")
    for i, line in enumerate(lines):
        m = pat.match(line)
        if m:
            yield i, len(m.group(1)), m.group(2)


def rules_fallback(text):
    lines = text.splitlines()
    events = []
    for i, col, raw in _keyed(lines, "alert"):
        events.append((i, "alert", _scalar(lines, i, col, raw)))
    for i, col, raw in _keyed(lines, "record"):
        events.append((i, "record", _scalar(lines, i, col, raw)))
    for i, col, raw in _keyed(lines, "expr"):
        events.append((i, "expr", _scalar(lines, i, col, raw)))
    events.sort()
    out = []
    name = kind = None
    pending_expr = None
    for _, what, val in events:
        if what in ("alert", "record"):
            if pending_expr is not None:
                out.append((what, val, pending_expr))
                pending_expr = None
                name = None
            else:
                kind, name = what, val
        else:
            if name is not None:
                out.append((kind, name, val))
                name = None
            else:
                pending_expr = val
    return out


def tests_fallback(text):
    lines = text.splitlines()
    cases = []
    current = None
    for i, line in enumerate(lines):
        m = re.match(r"^(\s*(?:-\s+)?)alertname:(.*)$", line)
        if m:
            current = _scalar(lines, i, len(m.group(1)), m.group(2))
            cases.append([current, False])
            continue
        m = re.match(r"^\s*(?:-\s+)?exp_alerts:(.*)$", line)
        if m and current is not None:
            rest = re.sub(r"\s+#.*$", "", m.group(1)).strip()
            cases[-1][1] = rest not in ("[]", "")
            if rest == "":
                # block list: fires if a list item follows
                j = i + 1
                while j < len(lines) and (not lines[j].strip() or lines[j].strip().startswith("#")):
                    j += 1
                cases[-1][1] = j < len(lines) and lines[j].strip().startswith("-") \
                    and _indent(lines[j]) >= _indent(line)
    return [(a, f) for a, f in cases]


def rules_pyyaml(doc):
    out = []
    for group in (doc or {}).get("groups") or []:
        for r in group.get("rules") or []:
            kind = "alert" if "alert" in r else "record"
            out.append((kind, r.get(kind), str(r.get("expr", ""))))
    return out


def tests_pyyaml(doc):
    out = []
    for t in (doc or {}).get("tests") or []:
        for a in t.get("alert_rule_test") or []:
            out.append((a.get("alertname"), bool(a.get("exp_alerts"))))
    return out


rules_text = open(rules_path, encoding="utf-8").read()
tests_text = open(tests_path, encoding="utf-8").read()
rules = rules_fallback(rules_text)
cases = tests_fallback(tests_text)
try:
    import yaml  # noqa: F401
except ImportError:
    yaml = None
if yaml is not None:
    y_rules = rules_pyyaml(yaml.safe_load(rules_text))
    y_cases = tests_pyyaml(yaml.safe_load(tests_text))
    norm = lambda rs: [(k, n, " ".join(e.split())) for k, n, e in rs]
    if norm(y_rules) != norm(rules):
        err("built-in YAML reader disagrees with PyYAML on %s; keep the plain layout "
            "(one '- alert:' item per rule, 'expr:' inline or as a block scalar)" % rules_path)
    if y_cases != cases:
        err("built-in YAML reader disagrees with PyYAML on %s" % tests_path)
    rules, cases = y_rules, y_cases
if not rules:
    err("no rules found in %s" % rules_path)

# ------------------------------------------------------------- metric names
KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left",
            "group_right", "bool", "offset", "inf", "nan", "atan2"}


def metric_names(expr):
    s = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)
    s = re.sub(r"\{[^}]*\}", " ", s)                     # label matchers
    s = re.sub(r"\[[^\]]*\]", " ", s)                    # ranges, subqueries
    s = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", s)
    s = re.sub(r"\boffset\s+-?[\w$]+", " ", s)
    s = re.sub(r"@\s*[^\s()]+", " ", s)
    s = re.sub(r"\$\{[^}]*\}|\$\w+|\[\[\w+\]\]", " ", s)  # Grafana variables
    names = set()
    for m in re.finditer(r"(?<![\w.:$])[a-zA-Z_:][\w:]*", s):
        name = m.group(0)
        if re.match(r"\s*\(", s[m.end():]):
            continue                                      # function / aggregation
        if name.lower() in KEYWORDS:
            continue
        names.add(name)
    return names


known = set()
for n, line in enumerate(open(metrics_path, encoding="utf-8"), 1):
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    if not re.fullmatch(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line):
        err("%s:%d: not a metric name: %r" % (metrics_path, n, line))
    elif line in known:
        err("%s:%d: duplicate metric name %s" % (metrics_path, n, line))
    known.add(line)
allowed = known | {"up"}
used = set()


def check_expr(where, expr):
    names = metric_names(expr)
    used.update(names)
    for name in sorted(names - allowed):
        err("%s uses metric '%s' which is not listed in %s" % (where, name, metrics_path))


for kind, name, expr in rules:
    check_expr("rule %s" % name, expr)

# --------------------------------------------------------------- dashboards
GRAFANA_VARS = [
    (r"\$__rate_interval|\$\{__rate_interval\}", "5m"),
    (r"\$__interval_ms|\$\{__interval_ms\}", "60000"),
    (r"\$__interval|\$\{__interval\}", "1m"),
    (r"\$__range_s|\$\{__range_s\}", "3600"),
    (r"\$__range_ms|\$\{__range_ms\}", "3600000"),
    (r"\$__range|\$\{__range\}", "1h"),
    (r"\$\{[^}]*\}|\$\w+|\[\[\w+\]\]", "x"),
]


def promql_for_check(expr):
    for pat, rep in GRAFANA_VARS:
        expr = re.sub(pat, rep, expr)
    return expr


def walk_panels(panels):
    for p in panels or []:
        yield p
        for sub in walk_panels(p.get("panels")):
            yield sub


record_rules = []
dash_files = sorted(glob.glob(os.path.join(dash_dir, "*.json")))
if not dash_files:
    err("no dashboards (*.json) in %s" % dash_dir)
for path in dash_files:
    base = os.path.basename(path)
    try:
        with open(path, encoding="utf-8") as f:
            dash = json.load(f)
    except ValueError as e:
        err("%s is not valid JSON: %s" % (path, e))
        continue
    if not isinstance(dash, dict) or "panels" not in dash:
        err("%s: not a Grafana dashboard (no 'panels')" % path)
        continue
    ids = {}
    for p in walk_panels(dash.get("panels")):
        pid = p.get("id")
        if pid is None:
            err("%s: panel %r has no id" % (base, p.get("title")))
        elif pid in ids:
            err("%s: panel id %s used by %r and %r" % (base, pid, ids[pid], p.get("title")))
        else:
            ids[pid] = p.get("title")
        for t in p.get("targets") or []:
            expr = t.get("expr")
            if not expr:
                continue
            where = "%s panel %s (%s) target %s" % (base, pid, p.get("title"), t.get("refId"))
            check_expr(where, expr)
            record_rules.append(("dashboard_check:%s:panel_%s_%s" % (
                re.sub(r"\W", "_", os.path.splitext(base)[0]), pid, t.get("refId", "A")),
                promql_for_check(expr), where))
    for v in (dash.get("templating") or {}).get("list") or []:
        if v.get("type") != "query":
            continue
        q = v.get("query")
        if isinstance(q, dict):
            q = q.get("query")
        if not isinstance(q, str):
            continue
        q = q.strip()
        m = re.fullmatch(r"label_values\((.*),\s*[a-zA-Z_]\w*\s*\)", q, re.S) \
            or re.fullmatch(r"query_result\((.*)\)", q, re.S)
        if m:
            where = "%s variable %s" % (base, v.get("name"))
            check_expr(where, m.group(1))
            record_rules.append(("dashboard_check:%s:var_%s" % (
                re.sub(r"\W", "_", os.path.splitext(base)[0]), v.get("name")),
                promql_for_check(m.group(1)), where))

with open(expr_rules_path, "w", encoding="utf-8") as f:
    f.write("groups:\n  - name: dashboard-expressions\n    rules:\n")
    for record, expr, where in record_rules:
        f.write("      # %s\n" % where.replace("\n", " "))
        f.write("      - record: %s\n        expr: %s\n" % (record, json.dumps(expr)))

# ------------------------------------------------------------ test coverage
fires = {}
quiet = {}
for alertname, firing in cases:
    (fires if firing else quiet)[alertname] = True
alert_names = [n for k, n, _ in rules if k == "alert"]
for name in alert_names:
    if name not in fires:
        err("alert %s has no unit test in which it fires" % name)
    if name not in quiet:
        err("alert %s has no unit test in which it does not fire" % name)
for alertname in sorted(set(a for a, _ in cases) - set(alert_names)):
    err("unit tests refer to unknown alert %s" % alertname)

for name in sorted(known - used) if not errors else []:
    print("  note: %s lists %s, which no rule or dashboard uses" % (os.path.basename(metrics_path), name))

print("  %d rules, %d dashboard expressions, %d metric names in use, %d unit test cases"
      % (len(rules), len(record_rules), len(used), len(cases)))
sys.exit(1 if errors else 0)
PY

echo "check_rules: promtool check rules (dashboard expressions)"
promtool check rules "$tmp/dashboard-exprs.yaml" >"$tmp/dashboard-check.log" 2>&1 || {
  cat "$tmp/dashboard-check.log" >&2
  fail "a dashboard PromQL expression does not parse (see above)"
}

echo "check_rules: OK"
