// What the verbs read of a cluster's releases: its record, the values of its
// revisions, the values an interrupted operation was heading to.
#include "actions/cluster_actions.h"

namespace zkpilot {

Result<ClusterRecord> FindCluster(ReleaseStore& store, const std::string& name) {
  ZK_ASSIGN_OR_RETURN(auto record, store.GetCluster(name));
  if (record) return *record;
  ZK_ASSIGN_OR_RETURN(auto all, store.ListClusters());
  std::string known;
  for (const auto& c : all) known += (known.empty() ? "" : ", ") + c.name;
  return Status::InvalidInput("no cluster named " + name + (known.empty() ? " (there are none; zkpilot deploy creates one)"
                                                                          : " (clusters: " + known + ")"));
}

std::string ValuesJson(const Values& values) {
  nlohmann::json flat = nlohmann::json::object();
  for (const auto& [k, v] : values.Flat()) flat[k] = v;
  return flat.dump();
}

Result<Values> ValuesOfRevision(const Package& pkg, const RevisionRecord& rev) {
  ValuesInput in;
  in.files = {{"revision " + std::to_string(rev.revision) + " of " + rev.cluster, rev.values_json}};
  return ResolveValues(pkg.schema, in);
}

Result<Values> RevisionValues(ReleaseStore& store, const std::string& name, const Package& package, int revision) {
  ZK_ASSIGN_OR_RETURN(ClusterRecord record, FindCluster(store, name));
  ZK_ASSIGN_OR_RETURN(auto revisions, store.ListRevisions(name));
  if (revisions.empty()) return Status::Internal("cluster " + name + " has no revision");
  // The revision it runs; during or after a failed first deploy, the newest.
  const RevisionRecord* rev = &revisions.back();
  const int wanted = revision > 0 ? revision : record.current_revision;
  for (const auto& r : revisions)
    if (r.revision == wanted) rev = &r;
  return ValuesOfRevision(package, *rev);
}

Result<Values> ResumeValues(ReleaseStore& store, const std::string& name, const Package& package) {
  ZK_RETURN_IF_ERROR(FindCluster(store, name).status());
  ZK_ASSIGN_OR_RETURN(auto op, store.UnfinishedOperation(name));
  if (!op) return Status::InvalidInput(name + " has no interrupted operation to resume");
  if (op->type == "delete")
    return Status::InvalidInput("an interrupted delete is finished by running `zkpilot delete " + name + "` again");
  return RevisionValues(store, name, package, op->revision);
}

}  // namespace zkpilot
