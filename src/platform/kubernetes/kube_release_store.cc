#include "platform/kubernetes/kube_release_store.h"

#include <algorithm>
#include <chrono>

namespace zkpilot {
namespace {

using json = nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

constexpr char kLabelOperation[] = "zkpilot.io/operation";
constexpr char kAnnotationHookRun[] = "zkpilot.io/hook-run";
constexpr char kHookRunReason[] = "HookRun";

const ResourceRef kClusters{kClusterGroup, kClusterVersion, kClusterPlural, true, kClusterKind};
const ResourceRef kRevisions{"apps", "v1", "controllerrevisions", true, "ControllerRevision"};
const ResourceRef kEvents{"", "v1", "events", true, "Event"};

int64_t Millis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Name(const json& object) {
  return object.contains("metadata") ? object["metadata"].value("name", "") : "";
}

Result<ClusterStatus> ParseStatus(const json& object) {
  return StatusFromJson(object.contains("status") && object["status"].is_object() ? object["status"]
                                                                                  : json::object());
}

bool Recorded(const ClusterStatus& s) {
  return s.current_revision > 0 || s.operation || !s.operations.empty();
}

const ClusterOperation* FindOperation(const ClusterStatus& s, int64_t id) {
  if (s.operation && s.operation->id == id) return &*s.operation;
  for (const auto& o : s.operations)
    if (o.id == id) return &o;
  return nullptr;
}

}  // namespace

std::string DerivedClusterStatus(const ClusterStatus& s) {
  if (!Recorded(s)) return "";
  // The newest operation says what is going on.
  const ClusterOperation* last = s.operation ? &*s.operation : nullptr;
  for (const auto& o : s.operations)
    if (!last || o.id > last->id) last = &o;
  ClusterState state = ClusterState::kDeployed;
  if (last) {
    const bool deploy = last->type == "deploy", del = last->type == "delete";
    if (last->phase == OperationStatus::kRunning)
      state = deploy ? ClusterState::kDeploying
              : del  ? ClusterState::kDeleting
                     : ClusterState::kUpdating;
    else if (last->phase == OperationStatus::kFailed)
      state = del      ? ClusterState::kDeleteFailed
              : deploy ? (s.current_revision == 0 ? ClusterState::kFailed : ClusterState::kDeployed)
                       : ClusterState::kUpdateFailed;
  }
  return ClusterStateName(state);
}

KubeReleaseStore::KubeReleaseStore(KubeClient& client, KubeReleaseStoreOptions options)
    : client_(client), options_(std::move(options)) {}

SteadyClock::time_point KubeReleaseStore::ApiDeadline() const {
  return SteadyClock::now() + options_.api_retry;
}

void KubeReleaseStore::Remember(const std::string& cluster) { last_cluster_ = cluster; }

Result<json> KubeReleaseStore::ReadCluster(const std::string& name) {
  ZK_ASSIGN_OR_RETURN(auto object, Retrying<std::optional<json>>(ApiDeadline(), [&] {
                        return client_.Get(kClusters, options_.namespace_name, name);
                      }));
  if (!object)
    return Status::NotFound(std::string(kClusterKind) + " " + options_.namespace_name + "/" + name +
                            " does not exist");
  return *object;
}

Status KubeReleaseStore::UpdateStatus(const std::string& name,
                                      const std::function<Status(ClusterStatus&)>& mutate) {
  for (int attempt = 0;; ++attempt) {
    ZK_ASSIGN_OR_RETURN(json object, ReadCluster(name));
    ZK_ASSIGN_OR_RETURN(ClusterStatus status, ParseStatus(object));
    ZK_RETURN_IF_ERROR(mutate(status));
    // Only the store's fields change; the operator's stay as they were read.
    const json mine = StatusToJson(status);
    json& raw = object["status"];
    if (!raw.is_object()) raw = json::object();
    for (const char* key : {"currentRevision", "operation", "operations"}) {
      if (mine.contains(key))
        raw[key] = mine[key];
      else
        raw.erase(key);
    }
    auto written = Retrying<json>(ApiDeadline(), [&] {
      return client_.Replace(kClusters, options_.namespace_name, object, "status");
    });
    if (written.ok()) return Status::Ok();
    if (written.status().code() != ErrorCode::kConflict || attempt >= options_.max_conflict_retries)
      return written.status().WithContext("status of " + std::string(kClusterKind) + " " + name);
  }
}

Status KubeReleaseStore::CreateCluster(const ClusterRecord& c) {
  Remember(c.name);
  ZK_ASSIGN_OR_RETURN(json object, ReadCluster(c.name));
  ZK_ASSIGN_OR_RETURN(ClusterStatus status, ParseStatus(object));
  if (Recorded(status))
    return Status::InvalidInput("cluster " + c.name + " already exists (status " +
                                DerivedClusterStatus(status) + ")");
  // Nothing to write: the resource is the record, and its first revision and
  // operation make it one.
  return Status::Ok();
}

Result<std::optional<ClusterRecord>> KubeReleaseStore::GetCluster(const std::string& name) {
  Remember(name);
  ZK_ASSIGN_OR_RETURN(auto object, Retrying<std::optional<json>>(ApiDeadline(), [&] {
                        return client_.Get(kClusters, options_.namespace_name, name);
                      }));
  if (!object) return std::optional<ClusterRecord>();
  ZK_ASSIGN_OR_RETURN(ZooKeeperCluster cluster, ClusterFromJson(*object));
  if (!Recorded(cluster.status)) return std::optional<ClusterRecord>();
  ClusterRecord r;
  r.name = name;
  r.package_dir = cluster.spec.package.config_map;
  r.package_name = cluster.spec.package.name;
  r.platform = "kubernetes";
  r.status = DerivedClusterStatus(cluster.status);
  r.current_revision = cluster.status.current_revision;
  r.home = options_.namespace_name + "/" + name;
  if (cluster.metadata.contains("creationTimestamp") &&
      cluster.metadata["creationTimestamp"].is_string()) {
    auto created = ParseKubeTime(cluster.metadata["creationTimestamp"].get<std::string>());
    if (created.ok()) r.created_at = *created;
  }
  r.updated_at = r.created_at;
  auto touch = [&](const ClusterOperation& o) {
    r.updated_at = std::max({r.updated_at, o.started_at, o.finished_at});
  };
  if (cluster.status.operation) touch(*cluster.status.operation);
  for (const auto& o : cluster.status.operations) touch(o);
  return std::optional<ClusterRecord>(std::move(r));
}

Result<std::vector<ClusterRecord>> KubeReleaseStore::ListClusters() {
  ZK_ASSIGN_OR_RETURN(json list, Retrying<json>(ApiDeadline(), [&] {
                        return client_.List(kClusters, options_.namespace_name);
                      }));
  std::vector<std::string> names;
  for (const auto& item : list.value("items", json::array())) names.push_back(Name(item));
  std::sort(names.begin(), names.end());
  const std::string remembered = last_cluster_;
  std::vector<ClusterRecord> out;
  for (const auto& name : names) {
    ZK_ASSIGN_OR_RETURN(auto record, GetCluster(name));
    if (record) out.push_back(std::move(*record));
  }
  last_cluster_ = remembered;
  return out;
}

Status KubeReleaseStore::SetClusterStatus(const std::string& name, const std::string& status,
                                          int current_revision) {
  Remember(name);
  (void)status;  // implied by the journal
  ZK_RETURN_IF_ERROR(ReadCluster(name).status());
  if (current_revision < 0) return Status::Ok();
  return Retrying<json>(ApiDeadline(),
                        [&] {
                          return client_.MergePatch(
                              kClusters, options_.namespace_name, name,
                              json{{"status", {{"currentRevision", current_revision}}}}, "status");
                        })
      .status()
      .WithContext("status of " + std::string(kClusterKind) + " " + name);
}

Status KubeReleaseStore::DeleteCluster(const std::string& name) {
  Remember(name);
  // The journal first: once it is gone, the cluster is no longer recorded.
  ZK_RETURN_IF_ERROR(Retrying<json>(ApiDeadline(),
                                    [&] {
                                      return client_.MergePatch(kClusters, options_.namespace_name,
                                                                name,
                                                                json{{"status",
                                                                      {{"currentRevision", nullptr},
                                                                       {"operation", nullptr},
                                                                       {"operations", nullptr}}}},
                                                                "status");
                                    })
                         .status()
                         .WithContext("forget " + std::string(kClusterKind) + " " + name));
  ListOptions revisions;
  revisions.label_selector = RevisionLabelSelector(name);
  ListOptions hook_runs;
  hook_runs.label_selector = std::string(kLabelCluster) + "=" + name + "," + kLabelOperation;
  for (const auto& [ref, selector] :
       {std::pair{kRevisions, revisions}, std::pair{kEvents, hook_runs}}) {
    ZK_ASSIGN_OR_RETURN(json list, Retrying<json>(ApiDeadline(), [&] {
                          return client_.List(ref, options_.namespace_name, selector);
                        }));
    for (const auto& item : list.value("items", json::array())) {
      ZK_RETURN_IF_ERROR(Retrying(ApiDeadline(), [&] {
        return client_.Delete(ref, options_.namespace_name, Name(item), /*ignore_missing=*/true);
      }));
    }
  }
  return Status::Ok();
}

Result<int> KubeReleaseStore::AddRevision(const RevisionRecord& r) {
  Remember(r.cluster);
  ZK_ASSIGN_OR_RETURN(json object, ReadCluster(r.cluster));
  const ClusterOwner owner{r.cluster, options_.namespace_name, object["metadata"].value("uid", "")};
  for (int attempt = 0;; ++attempt) {
    ZK_ASSIGN_OR_RETURN(auto existing, ListRevisions(r.cluster));
    RevisionRecord next = r;
    next.revision = existing.empty() ? 1 : existing.back().revision + 1;
    if (next.started_at == 0) next.started_at = Millis();
    ZK_ASSIGN_OR_RETURN(json revision, RevisionToControllerRevision(next, owner));
    auto created = Retrying<json>(ApiDeadline(), [&] {
      return client_.Create(kRevisions, options_.namespace_name, revision);
    });
    if (created.ok()) return next.revision;
    // AlreadyExists: another writer took that number.
    if (created.status().code() != ErrorCode::kConflict || attempt >= options_.max_conflict_retries)
      return created.status().WithContext("add revision " + std::to_string(next.revision) + " of " +
                                          r.cluster);
  }
}

Status KubeReleaseStore::FinishRevision(const std::string& cluster, int revision,
                                        RevisionStatus status, const std::string& message) {
  Remember(cluster);
  const std::string name = ControllerRevisionName(cluster, revision);
  for (int attempt = 0;; ++attempt) {
    ZK_ASSIGN_OR_RETURN(auto object, Retrying<std::optional<json>>(ApiDeadline(), [&] {
                          return client_.Get(kRevisions, options_.namespace_name, name);
                        }));
    if (!object)
      return Status::NotFound("revision " + std::to_string(revision) + " of cluster " + cluster +
                              " not found");
    ZK_ASSIGN_OR_RETURN(RevisionRecord record, RevisionFromControllerRevision(*object));
    // The finish time is set once: superseding a revision later keeps its duration.
    json patch = RevisionOutcomePatch(status, message,
                                      record.finished_at != 0 ? record.finished_at : Millis());
    patch["metadata"]["resourceVersion"] = (*object)["metadata"].value("resourceVersion", "");
    auto written = Retrying<json>(ApiDeadline(), [&] {
      return client_.MergePatch(kRevisions, options_.namespace_name, name, patch);
    });
    if (written.ok()) return Status::Ok();
    if (written.status().code() != ErrorCode::kConflict || attempt >= options_.max_conflict_retries)
      return written.status().WithContext("finish revision " + std::to_string(revision) + " of " +
                                          cluster);
  }
}

Result<std::optional<RevisionRecord>> KubeReleaseStore::GetRevision(const std::string& cluster,
                                                                    int revision) {
  Remember(cluster);
  ZK_ASSIGN_OR_RETURN(auto object, Retrying<std::optional<json>>(ApiDeadline(), [&] {
                        return client_.Get(kRevisions, options_.namespace_name,
                                           ControllerRevisionName(cluster, revision));
                      }));
  if (!object) return std::optional<RevisionRecord>();
  ZK_ASSIGN_OR_RETURN(RevisionRecord record, RevisionFromControllerRevision(*object));
  return std::optional<RevisionRecord>(std::move(record));
}

Result<std::vector<RevisionRecord>> KubeReleaseStore::ListRevisions(const std::string& cluster) {
  Remember(cluster);
  ListOptions lo;
  lo.label_selector = RevisionLabelSelector(cluster);
  ZK_ASSIGN_OR_RETURN(json list, Retrying<json>(ApiDeadline(), [&] {
                        return client_.List(kRevisions, options_.namespace_name, lo);
                      }));
  std::vector<RevisionRecord> out;
  for (auto item : list.value("items", json::array())) {
    item["apiVersion"] = "apps/v1";  // list items carry neither
    item["kind"] = "ControllerRevision";
    ZK_ASSIGN_OR_RETURN(RevisionRecord record, RevisionFromControllerRevision(item));
    if (record.cluster == cluster) out.push_back(std::move(record));
  }
  std::sort(out.begin(), out.end(), [](const RevisionRecord& a, const RevisionRecord& b) {
    return a.revision < b.revision;
  });
  return out;
}

Result<int64_t> KubeReleaseStore::BeginOperation(const OperationRecord& op) {
  Remember(op.cluster);
  int64_t id = 0;
  ZK_RETURN_IF_ERROR(UpdateStatus(op.cluster, [&](ClusterStatus& status) -> Status {
    if (status.operation && status.operation->phase == OperationStatus::kRunning)
      return Status::Conflict("cluster " + op.cluster + ": operation " +
                              std::to_string(status.operation->id) + " (" + status.operation->type +
                              ") is still running; resume it or let it finish first");
    id = 1;
    if (status.operation) id = std::max(id, status.operation->id + 1);
    for (const auto& o : status.operations) id = std::max(id, o.id + 1);
    // The previous operation stays in the history.
    if (status.operation) RecordOperationHistory(status, *status.operation);
    OperationRecord record = op;
    record.id = id;
    record.status = OperationStatus::kRunning;
    if (record.started_at == 0) record.started_at = Millis();
    record.finished_at = 0;
    status.operation = OperationToStatus(record);
    return Status::Ok();
  }));
  return id;
}

Result<std::string> KubeReleaseStore::ClusterOfOperation(int64_t operation_id) {
  if (!options_.cluster.empty()) return options_.cluster;
  if (!last_cluster_.empty()) return last_cluster_;
  ZK_ASSIGN_OR_RETURN(json list, Retrying<json>(ApiDeadline(), [&] {
                        return client_.List(kClusters, options_.namespace_name);
                      }));
  std::vector<std::string> found;
  for (const auto& item : list.value("items", json::array())) {
    auto status = ParseStatus(item);
    if (status.ok() && FindOperation(*status, operation_id)) found.push_back(Name(item));
  }
  if (found.size() == 1) return found.front();
  if (found.empty())
    return Status::NotFound("operation " + std::to_string(operation_id) +
                            " not found in namespace " + options_.namespace_name);
  return Status::Internal("operation " + std::to_string(operation_id) +
                          " exists in several clusters (" + found[0] + ", " + found[1] +
                          "): bind the store to one cluster");
}

Status KubeReleaseStore::MarkStep(int64_t operation_id, int index, StepStatus step_status,
                                  const std::string& detail) {
  ZK_ASSIGN_OR_RETURN(std::string cluster, ClusterOfOperation(operation_id));
  const std::string what =
      "step " + std::to_string(index) + " of operation " + std::to_string(operation_id);
  return UpdateStatus(cluster, [&](ClusterStatus& status) -> Status {
    if (!status.operation || status.operation->id != operation_id)
      return Status::NotFound(what + " not found: it is not cluster " + cluster +
                              "'s current operation");
    auto& steps = status.operation->steps;
    auto it = std::find_if(steps.begin(), steps.end(),
                           [&](const OperationStep& s) { return s.index == index; });
    if (it == steps.end()) return Status::NotFound(what + " not found");
    // As the local store: running (re)starts the clock; done, failed and
    // skipped stop it (and start it when the step never ran); pending clears both.
    const int64_t now = Millis();
    it->status = step_status;
    it->detail = detail;
    if (step_status == StepStatus::kPending) {
      it->started_at = it->finished_at = 0;
    } else if (step_status == StepStatus::kRunning) {
      it->started_at = now;
      it->finished_at = 0;
    } else {
      if (it->started_at == 0) it->started_at = now;
      it->finished_at = now;
    }
    return Status::Ok();
  });
}

Status KubeReleaseStore::FinishOperation(int64_t operation_id, OperationStatus phase,
                                         const std::string& error) {
  ZK_ASSIGN_OR_RETURN(std::string cluster, ClusterOfOperation(operation_id));
  return UpdateStatus(cluster, [&](ClusterStatus& status) -> Status {
    ClusterOperation* op = nullptr;
    if (status.operation && status.operation->id == operation_id) op = &*status.operation;
    for (auto& o : status.operations)
      if (!op && o.id == operation_id) op = &o;
    if (!op)
      return Status::NotFound("operation " + std::to_string(operation_id) + " of cluster " +
                              cluster + " not found");
    op->phase = phase;
    op->error = error;
    op->finished_at = Millis();
    RecordOperationHistory(status, *op);
    return Status::Ok();
  });
}

Result<std::optional<OperationRecord>> KubeReleaseStore::GetOperation(int64_t operation_id) {
  auto cluster = ClusterOfOperation(operation_id);
  if (!cluster.ok() && cluster.status().code() == ErrorCode::kNotFound)
    return std::optional<OperationRecord>();
  if (!cluster.ok()) return cluster.status();
  auto object = ReadCluster(*cluster);
  if (!object.ok() && object.status().code() == ErrorCode::kNotFound)
    return std::optional<OperationRecord>();
  if (!object.ok()) return object.status();
  ZK_ASSIGN_OR_RETURN(ClusterStatus status, ParseStatus(*object));
  const ClusterOperation* op = FindOperation(status, operation_id);
  if (!op) return std::optional<OperationRecord>();
  return std::optional<OperationRecord>(OperationFromStatus(*op, *cluster));
}

Result<std::optional<OperationRecord>> KubeReleaseStore::UnfinishedOperation(
    const std::string& cluster) {
  Remember(cluster);
  ZK_ASSIGN_OR_RETURN(json object, ReadCluster(cluster));
  ZK_ASSIGN_OR_RETURN(ClusterStatus status, ParseStatus(object));
  if (!status.operation || status.operation->phase != OperationStatus::kRunning)
    return std::optional<OperationRecord>();
  return std::optional<OperationRecord>(OperationFromStatus(*status.operation, cluster));
}

Result<std::vector<OperationRecord>> KubeReleaseStore::ListOperations(const std::string& cluster) {
  Remember(cluster);
  ZK_ASSIGN_OR_RETURN(json object, ReadCluster(cluster));
  ZK_ASSIGN_OR_RETURN(ClusterStatus status, ParseStatus(object));
  std::vector<ClusterOperation> all = status.operations;
  if (status.operation && std::none_of(all.begin(), all.end(), [&](const ClusterOperation& o) {
        return o.id == status.operation->id;
      }))
    all.push_back(*status.operation);
  std::sort(all.begin(), all.end(),
            [](const ClusterOperation& a, const ClusterOperation& b) { return a.id < b.id; });
  std::vector<OperationRecord> out;
  for (auto& o : all) {
    o.steps.clear();
    out.push_back(OperationFromStatus(o, cluster));
  }
  return out;
}

Status KubeReleaseStore::AddHookRun(const HookRunRecord& h) {
  ZK_ASSIGN_OR_RETURN(std::string cluster, ClusterOfOperation(h.operation_id));
  ZK_ASSIGN_OR_RETURN(json object, ReadCluster(cluster));
  const int64_t at = h.at != 0 ? h.at : Millis();
  const auto ns_now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  json record = {{"event", h.event},   {"phase", h.phase},   {"step", h.step},
                 {"action", h.action}, {"status", h.status}, {"message", h.message},
                 {"at", at},           {"seq", ns_now}};
  const std::string time =
      FormatKubeTime(at / 1000 * 1000);  // core/v1 Event times are whole seconds
  json event = {
      {"apiVersion", "v1"},
      {"kind", "Event"},
      {"metadata",
       {{"generateName", cluster + "-hook-"},
        {"namespace", options_.namespace_name},
        {"labels", {{kLabelCluster, cluster}, {kLabelOperation, std::to_string(h.operation_id)}}},
        {"annotations", {{kAnnotationHookRun, record.dump()}}}}},
      {"involvedObject",
       {{"apiVersion", kClusterApiVersion},
        {"kind", kClusterKind},
        {"name", cluster},
        {"namespace", options_.namespace_name},
        {"uid", object["metadata"].value("uid", "")}}},
      {"reason", kHookRunReason},
      {"message", "operation " + std::to_string(h.operation_id) + ": hook " + h.event + "." +
                      h.phase + " step " + h.step + " (" + h.action + "): " + h.status +
                      (h.message.empty() ? "" : ": " + h.message)},
      {"type", h.status == "failed" ? "Warning" : "Normal"},
      {"source", {{"component", "zkpilot"}}},
      {"reportingComponent", "zkpilot"},
      {"firstTimestamp", time},
      {"lastTimestamp", time},
      {"count", 1}};
  return Retrying<json>(ApiDeadline(),
                        [&] { return client_.Create(kEvents, options_.namespace_name, event); })
      .status()
      .WithContext("record hook run of operation " + std::to_string(h.operation_id));
}

Result<std::vector<HookRunRecord>> KubeReleaseStore::ListHookRuns(int64_t operation_id) {
  auto cluster = ClusterOfOperation(operation_id);
  if (!cluster.ok() && cluster.status().code() == ErrorCode::kNotFound)
    return std::vector<HookRunRecord>();
  if (!cluster.ok()) return cluster.status();
  ListOptions lo;
  lo.label_selector = std::string(kLabelCluster) + "=" + *cluster + "," + kLabelOperation + "=" +
                      std::to_string(operation_id);
  ZK_ASSIGN_OR_RETURN(json list, Retrying<json>(ApiDeadline(), [&] {
                        return client_.List(kEvents, options_.namespace_name, lo);
                      }));
  std::vector<std::pair<int64_t, HookRunRecord>> runs;
  for (const auto& item : list.value("items", json::array())) {
    const json annotations = item["metadata"].value("annotations", json::object());
    if (!annotations.contains(kAnnotationHookRun)) continue;
    json r = json::parse(annotations[kAnnotationHookRun].get<std::string>(), nullptr,
                         /*allow_exceptions=*/false);
    if (!r.is_object()) continue;
    HookRunRecord h;
    h.operation_id = operation_id;
    h.event = r.value("event", "");
    h.phase = r.value("phase", "");
    h.step = r.value("step", "");
    h.action = r.value("action", "");
    h.status = r.value("status", "");
    h.message = r.value("message", "");
    h.at = r.value("at", int64_t{0});
    runs.push_back({r.value("seq", int64_t{0}), std::move(h)});
  }
  std::stable_sort(runs.begin(), runs.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<HookRunRecord> out;
  for (auto& [seq, h] : runs) out.push_back(std::move(h));
  return out;
}

}  // namespace zkpilot
