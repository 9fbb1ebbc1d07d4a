#include "actions/kube_spec.h"

namespace zkpilot {
namespace {

using nlohmann::json;

// Resolves defaults < spec.values < `more`, and keeps what is not a default.
Result<json> MergeUserValues(const Package& package, const json& current, const ValuesInput& more,
                             const char* what) {
  ValuesInput in;
  in.files.push_back({"spec.values", current.is_null() ? "{}" : current.dump()});
  in.files.insert(in.files.end(), more.files.begin(), more.files.end());
  in.sets = more.sets;
  auto values = ResolveValues(package.schema, in);
  if (!values.ok()) return values.status().WithContext(what);
  return UserValues(*values);
}

}  // namespace

const char* KubeChangeName(KubeChangeKind kind) {
  switch (kind) {
    case KubeChangeKind::kConfigure:
      return "configure";
    case KubeChangeKind::kUpgrade:
      return "upgrade";
    case KubeChangeKind::kRollback:
      return "rollback";
    case KubeChangeKind::kRestart:
      return "restart";
    case KubeChangeKind::kScale:
      return "scale";
  }
  return "change";
}

json UserValues(const Values& values) {
  std::map<std::string, json> user;
  for (const auto& [name, value] : values.Flat())
    if (values.Origin(name) != "default") user[name] = value;
  json nested = NestValues(user);
  return nested.is_null() ? json::object() : nested;
}

Result<Values> RevisionValues(const Schema& schema, const std::string& values_json, int revision) {
  ValuesInput in;
  in.files = {{"revision " + std::to_string(revision), values_json.empty() ? "{}" : values_json}};
  return ResolveValues(schema, in);
}

Result<ClusterSpec> ChangedSpec(const Package& package, const ClusterSpec& current,
                                const SpecChange& change) {
  ClusterSpec spec = current;
  const char* what = KubeChangeName(change.kind);
  switch (change.kind) {
    case KubeChangeKind::kConfigure: {
      if (change.values.files.empty() && change.values.sets.empty())
        return Status::InvalidInput("configure: nothing to change (use --set k=v or -f FILE)");
      ZK_ASSIGN_OR_RETURN(spec.values,
                          MergeUserValues(package, current.values, change.values, what));
      break;
    }
    case KubeChangeKind::kUpgrade: {
      ValuesInput in;
      in.sets = {package.version_parameter + "=" + change.version};
      ZK_ASSIGN_OR_RETURN(spec.values, MergeUserValues(package, current.values, in, what));
      break;
    }
    case KubeChangeKind::kScale: {
      ValuesInput in;
      in.sets = {"replicas=" + std::to_string(change.replicas)};
      ZK_ASSIGN_OR_RETURN(spec.values, MergeUserValues(package, current.values, in, what));
      break;
    }
    case KubeChangeKind::kRollback: {
      // Only what differs from the defaults, and what deploy pins (the
      // parameters with a newClusterDefault, so that a later default does not
      // change the cluster): the spec stays the user's, and the resolved
      // values are the revision's.
      std::map<std::string, json> user;
      for (const auto& [name, value] : change.revision_values) {
        const ParamSpec* p = package.schema.Find(name);
        if (!p) continue;  // a parameter the package no longer has
        if (p->default_value != value || !p->new_cluster_default.is_null()) user[name] = value;
      }
      spec.values = NestValues(user);
      if (spec.values.is_null()) spec.values = json::object();
      auto resolved = ResolveSpecValues(package.schema, spec.values);
      if (!resolved.ok()) return resolved.status().WithContext(what);
      break;
    }
    case KubeChangeKind::kRestart:
      spec.restart_request = change.restart_request;
      break;
  }
  return spec;
}

}  // namespace zkpilot
