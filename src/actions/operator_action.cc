// zkpilot operator: flags → OperatorConfig → Operator::Run / RunOnce.
#include "actions/operator_action.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "platform/kubernetes/operator_backend.h"

namespace zkpilot {
namespace {

constexpr int kExitLeaseLost = 1;

// Stops `source` on SIGTERM or SIGINT, until destroyed. The signals are
// blocked in every thread (threads started later inherit the mask) and
// taken here synchronously, so no handler runs in an arbitrary thread.
class SignalStopper {
 public:
  explicit SignalStopper(std::stop_source source) {
    sigemptyset(&set_);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set_, &old_);
    thread_ = std::jthread([this, source](std::stop_token st) mutable {
      const timespec tick{0, 200 * 1000 * 1000};
      while (!st.stop_requested()) {
        const int sig = sigtimedwait(&set_, nullptr, &tick);
        if (sig == SIGTERM || sig == SIGINT) {
          spdlog::info("{}: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
          source.request_stop();
          return;
        }
      }
    });
  }
  ~SignalStopper() {
    thread_.request_stop();
    thread_.join();
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  sigset_t set_{}, old_{};
  std::jthread thread_;
};

}  // namespace

Result<std::chrono::milliseconds> ParseDurationFlag(const std::string& flag,
                                                    const std::string& text) {
  auto bad = [&] {
    return Status::InvalidInput(flag + " " + text +
                                ": expected a positive duration such as 30s, 2m, 500ms or 1h");
  };
  if (text.empty()) return bad();
  double total_ms = 0;
  size_t i = 0;
  bool plain = true;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
      ++i;
    if (i == start) return bad();
    double number = 0;
    try {
      number = std::stod(text.substr(start, i - start));
    } catch (...) {
      return bad();
    }
    size_t unit_start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    const std::string unit = text.substr(unit_start, i - unit_start);
    if (unit.empty()) {
      if (!plain || i != text.size() || start != 0) return bad();
      total_ms = number * 1000;  // a plain number: seconds
      break;
    }
    plain = false;
    if (unit == "ms")
      total_ms += number;
    else if (unit == "s")
      total_ms += number * 1000;
    else if (unit == "m")
      total_ms += number * 60 * 1000;
    else if (unit == "h")
      total_ms += number * 3600 * 1000;
    else
      return bad();
  }
  if (total_ms < 1) return bad();
  return std::chrono::milliseconds(static_cast<int64_t>(total_ms));
}

Result<OperatorConfig> MakeOperatorConfig(const OperatorRequest& request,
                                          const KubeConnection& connection) {
  OperatorConfig config;
  config.watch_namespace = request.namespace_;
  ZK_ASSIGN_OR_RETURN(config.resync, ParseDurationFlag("--resync", request.resync));
  if (!request.health_addr.empty() && request.health_addr != "off") {
    ZK_ASSIGN_OR_RETURN(ListenAddress address, ParseListenAddress(request.health_addr));
    config.health = address;
  }
  config.leader_elect = request.leader_elect;
  config.lease.identity = request.identity.empty() ? DefaultLeaseIdentity() : request.identity;
  config.lease.namespace_ = request.lease_namespace;
  if (config.lease.namespace_.empty())
    if (const char* pod_ns = std::getenv("POD_NAMESPACE"); pod_ns && *pod_ns)
      config.lease.namespace_ = pod_ns;
  if (config.lease.namespace_.empty()) config.lease.namespace_ = connection.default_namespace;
  if (config.lease.namespace_.empty()) config.lease.namespace_ = "default";
  return config;
}

Status RunOperator(const OperatorRequest& request) {
  KubeConfigOptions kube;
  kube.kubeconfig = request.kubeconfig;
  kube.context = request.context;
  ZK_ASSIGN_OR_RETURN(KubeConnection connection, LoadKubeConnection(kube));
  ZK_ASSIGN_OR_RETURN(OperatorConfig config, MakeOperatorConfig(request, connection));
  // A lost lease ends the process at once: the running reconcile cannot be
  // stopped safely mid-step, and the journal lets the next leader continue.
  config.on_lease_lost = [](const Status& why) {
    spdlog::error("{}", why.message());
    spdlog::default_logger()->flush();
    std::fflush(stderr);
    std::_Exit(kExitLeaseLost);
  };
  spdlog::info(
      "zkpilot operator {}: {} ({}), watching {}", ZKPILOT_VERSION, connection.server,
      connection.source,
      config.watch_namespace.empty() ? "all namespaces" : "namespace " + config.watch_namespace);

  Operator op(connection, config, MakeKubeReconcileParts);
  std::stop_source stop;
  SignalStopper signals(stop);
  return request.once ? op.RunOnce(stop.get_token()) : op.Run(stop.get_token());
}

}  // namespace zkpilot
