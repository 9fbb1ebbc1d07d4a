#include "plan/steps.h"

namespace zkpilot {
namespace {

using nlohmann::json;

std::string Id(int id) { return std::to_string(id); }

Step Make(StepKind kind, json args, std::string description) {
  Step s;
  s.kind = kind;
  s.args = std::move(args);
  s.description = std::move(description);
  return s;
}

}  // namespace

Step PrepareNodeStep(int id, const std::vector<int>& members, const std::string& where) {
  Step s = Make(StepKind::kPrepareNode, {{"node", id}},
         "prepare server " + Id(id) + (where.empty() ? "'s configuration" : " (" + where + ")"));
  if (!members.empty()) s.args["members"] = members;
  return s;
}

Step StartNodeStep(int id, bool learner) {
  return Make(StepKind::kStartNode, {{"node", id}},
          "start server " + Id(id) + (learner ? " (it syncs as a non-voting learner)" : ""));
}

Step WaitHealthyStep(std::chrono::milliseconds timeout, const std::string& why, const std::vector<int>& members,
                     const std::vector<int>& except) {
  Step s = Make(StepKind::kWaitHealthy, {{"timeout_ms", timeout.count()}}, "wait until healthy: " + why);
  if (!members.empty()) s.args["members"] = members;
  if (!except.empty()) s.args["except"] = except;
  return s;
}

Step RunHooksStep(HookEvent event, HookPhase phase, const std::vector<int>& members, const std::vector<int>& nodes,
                  bool purge) {
  Step s = Make(StepKind::kRunHooks,
         {{"event", HookEventName(event)}, {"phase", HookPhaseName(phase)}},
         std::string("run the ") + HookEventName(event) + " " + HookPhaseName(phase) + " hooks");
  if (!members.empty()) s.args["members"] = members;
  if (!nodes.empty()) s.args["nodes"] = nodes;
  if (purge) s.args["purge"] = true;
  return s;
}

Step StopNodesStep(std::chrono::milliseconds timeout) {
  return Make(StepKind::kStopNodes, {{"timeout_ms", timeout.count()}}, "stop every server");
}

Step RestartNodeStep(int id, int64_t generation, const std::string& role, std::chrono::milliseconds timeout) {
  return Make(StepKind::kRestartNode,
          {{"node", id}, {"generation", generation}, {"timeout_ms", timeout.count()}},
          "restart server " + Id(id) + (role.empty() ? "" : " (" + role + ")") + " and wait until it is back in sync");
}

Step HandOffLeaderStep(int id, int64_t generation, std::chrono::milliseconds timeout) {
  return Make(StepKind::kHandOffLeader, {{"node", id}, {"generation", generation}, {"timeout_ms", timeout.count()}},
              "restart server " + Id(id) +
                  " (the leader, last): hand leadership over by reconfig, then restart it and wait until it is "
                  "back in sync");
}

Step RestoreQuorumPortStep(int id, std::chrono::milliseconds timeout) {
  return Make(StepKind::kRestoreQuorumPort, {{"node", id}, {"timeout_ms", timeout.count()}},
              "move server " + Id(id) + "'s quorum port back (dynamic reconfiguration; no restart)");
}

Step ReconfigAddStep(int id) {
  return Make(StepKind::kReconfigAdd, {{"node", id}}, "add server " + Id(id) + " as a voter (dynamic reconfiguration)");
}

Step ReconfigRemoveStep(int id) {
  return Make(StepKind::kReconfigRemove, {{"node", id}},
          "remove server " + Id(id) + " from the voters (dynamic reconfiguration)");
}

Step StopNodeStep(int id, std::chrono::milliseconds timeout, const std::string& why) {
  return Make(StepKind::kStopNode, {{"node", id}, {"timeout_ms", timeout.count()}},
          "stop server " + Id(id) + (why.empty() ? "" : " (" + why + ")"));
}

Step ApplyAddonsStep(const std::vector<std::string>& addons) {
  std::string list;
  for (const auto& a : addons) list += (list.empty() ? "" : ", ") + a;
  return Make(StepKind::kApplyAddons, json::object(), "apply the add-ons" + (list.empty() ? "" : " (" + list + ")"));
}

Step ForgetNodeStep(int id) { return Make(StepKind::kForgetNode, {{"node", id}}, "forget server " + Id(id)); }

Step TearDownStep(bool purge_data, std::chrono::milliseconds timeout) {
  return Make(StepKind::kTearDown,
          {{"purge", purge_data}, {"timeout_ms", timeout.count()}},
          purge_data ? "remove the cluster from the platform, with its data"
                     : "remove the cluster from the platform, keeping its data");
}

std::string TlsStageName(TlsStage stage) {
  switch (stage) {
    case TlsStage::kPlaintext: return "0 (plaintext)";
    case TlsStage::kOpen: return "1 (TLS files; client and quorum ports take TLS and plaintext)";
    case TlsStage::kQuorumTls: return "2 (the quorum speaks TLS; the client port takes TLS and plaintext)";
    case TlsStage::kTls: return "3 (TLS only)";
    case TlsStage::kUnknown: break;
  }
  return "unknown";
}

Step RollToStageStep(const ServerRender& render, std::chrono::milliseconds timeout, std::string clients_note) {
  json args = {{"timeout_ms", timeout.count()}};
  std::vector<std::string> what;
  if (render.tls_stage) {
    args["stage"] = static_cast<int>(*render.tls_stage);
    what.push_back("TLS stage " + TlsStageName(*render.tls_stage));
  }
  if (render.client_addresses) {
    args["client_addresses"] = *render.client_addresses;
    what.push_back(*render.client_addresses ? "server lines with client addresses"
                                            : "server lines without client addresses");
  }
  if (render.quorum_auth_stage) {
    args["quorum_auth_stage"] = *render.quorum_auth_stage;
    what.push_back("quorum SASL stage " + Id(*render.quorum_auth_stage));
  }
  std::string list;
  for (const auto& w : what) list += (list.empty() ? "" : ", ") + w;
  return Make(StepKind::kRollToStage, std::move(args),
              "roll every server to " + list +
                  " (quorum-gated: followers by id, the leader by hand-off; servers already there are skipped)" +
                  (clients_note.empty() ? "" : ". Clients: " + clients_note));
}

Step SetClientAddressesStep(bool present, std::string clients_note) {
  return Make(StepKind::kSetClientAddresses, {{"present", present}},
              std::string(present ? "give every server line its client address again"
                                  : "remove the client addresses from the server lines") +
                  " (one reconfig of the whole membership; no restart), and render every zoo.cfg alike" +
                  (clients_note.empty() ? "" : ". Clients: " + clients_note));
}

ServerRender RollToStageRender(const Step& step) {
  ServerRender render;
  const json& a = step.args;
  if (auto it = a.find("stage"); it != a.end() && it->is_number_integer()) {
    const int stage = it->get<int>();
    if (stage >= 0 && stage <= 3) render.tls_stage = static_cast<TlsStage>(stage);
  }
  if (auto it = a.find("client_addresses"); it != a.end() && it->is_boolean()) render.client_addresses = it->get<bool>();
  if (auto it = a.find("quorum_auth_stage"); it != a.end() && it->is_number_integer())
    render.quorum_auth_stage = it->get<int>();
  return render;
}

}  // namespace zkpilot
