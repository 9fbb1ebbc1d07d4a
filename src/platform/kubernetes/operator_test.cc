// The operator loop against a kube-sim cluster of its own (one for the
// binary): leader election between two operator processes, and what a
// reconcile of a resource it must refuse does (a condition, nothing applied).
// The operator runs as a real process (`zkpilot operator`); processes
// are stopped by pid; every wait polls with a deadline.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "package/package_loader.h"
#include "platform/kubernetes/cluster_api.h"
#include "platform/kubernetes/cluster_resource.h"
#include "platform/kubernetes/crd.h"
#include "platform/kubernetes/kube_client.h"
#include "platform/kubernetes/operator_manifests.h"
#include "platform/kubernetes/package_configmaps.h"

namespace zkpilot {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::seconds;
using SteadyClock = std::chrono::steady_clock;

std::string g_state_dir;
std::string g_kubeconfig;

std::string RunCapture(const std::string& command, int* exit_code) {
  std::string out;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return out;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof(buffer), pipe)) out.append(buffer, n);
  const int status = pclose(pipe);
  if (exit_code) *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

class KubeSimEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    char dir[] = "/tmp/zkpilot-operator-test.XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    g_state_dir = dir;
    int code = 0;
    // The image ghcr.io/zkpilot/zkpilot runs the operator under test.
    ::setenv("ZKPILOT_BINARY", ZKPILOT_BINARY, 1);
    const std::string out = RunCapture(Script() + " start --state-dir " + g_state_dir, &code);
    ASSERT_EQ(code, 0) << out;
    g_kubeconfig = g_state_dir + "/kubeconfig";
    ASSERT_TRUE(fs::exists(g_kubeconfig)) << out;
  }
  void TearDown() override {
    if (g_state_dir.empty()) return;
    int code = 0;
    RunCapture(Script() + " stop --state-dir " + g_state_dir, &code);
    std::error_code ignored;
    fs::remove_all(g_state_dir, ignored);
  }

 private:
  static std::string Script() {
    return std::string(ZKPILOT_SOURCE_DIR) + "/tests/kube-sim/kube-sim";
  }
};

// A process of ours, with its output in a log file; killed by pid when the
// test ends.
class Process {
 public:
  Process(const std::vector<std::string>& argv, const std::string& log) : log_(log) {
    pid_ = fork();
    if (pid_ == 0) {
      setsid();  // its own process group: signals reach what it starts (kube-sim run's command)
      const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
  }
  ~Process() {
    if (pid_ > 0 && !exited_) {
      kill(-pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  // To the process and everything it started.
  void Signal(int sig) { kill(-pid_, sig); }
  // The exit code once it has exited within `timeout`; nullopt if it still runs.
  std::optional<int> WaitExit(std::chrono::milliseconds timeout) {
    const auto deadline = SteadyClock::now() + timeout;
    while (!exited_) {
      int status = 0;
      const pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        exited_ = true;
        code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        break;
      }
      if (SteadyClock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return code_;
  }
  bool Running() { return !WaitExit(std::chrono::milliseconds(0)).has_value(); }
  std::string Log() const {
    std::ifstream in(log_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  pid_t pid_ = -1;
  std::string log_;
  bool exited_ = false;
  int code_ = -1;
};

bool PollUntil(seconds timeout, const std::function<bool()>& done) {
  const auto deadline = SteadyClock::now() + timeout;
  while (SteadyClock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return done();
}

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

std::unique_ptr<KubeClient> Client() {
  KubeConfigOptions options;
  options.kubeconfig = g_kubeconfig;
  auto connection = LoadKubeConnection(options);
  EXPECT_TRUE(connection.ok()) << connection.status().message();
  auto client = KubeClient::Create(*connection);
  EXPECT_TRUE(client.ok()) << client.status().message();
  return std::move(client).value();
}

const ResourceRef kLeases{"coordination.k8s.io", "v1", "leases", true, "Lease"};
const ResourceRef kNamespaces{"", "v1", "namespaces", false, "Namespace"};

std::string LeaseHolder(KubeClient& client, const std::string& ns) {
  auto lease = client.Get(kLeases, ns, "zkpilot-operator");
  if (!lease.ok() || !*lease) return "<none>";
  return (**lease)["spec"].value("holderIdentity", "");
}

std::string TestDir(const std::string& name) {
  const std::string dir = g_state_dir + "/" + name;
  fs::create_directories(dir);
  return dir;
}

std::unique_ptr<Process> StartOperator(const std::string& name, std::vector<std::string> flags) {
  std::vector<std::string> argv = {ZKPILOT_BINARY, "operator"};
  argv.push_back("--kubeconfig");
  argv.push_back(g_kubeconfig);
  argv.insert(argv.end(), flags.begin(), flags.end());
  return std::make_unique<Process>(argv, TestDir("logs") + "/" + name + ".log");
}

void CreateNamespace(KubeClient& client, const std::string& ns) {
  auto created = client.Create(
      kNamespaces, "", {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}});
  ASSERT_TRUE(created.ok() || created.status().code() == ErrorCode::kConflict)
      << created.status().message();
}

// ---------------------------------------------------------------- resources and operators

struct Installed {
  PackageRef ref;
};

void InstallCrd(KubeClient& client, const Package& package) {
  const ResourceRef crds{"apiextensions.k8s.io", "v1", "customresourcedefinitions", false,
                         "CustomResourceDefinition"};
  auto crd = client.Create(crds, "", json::parse(GenerateCrd(package).dump()));
  EXPECT_TRUE(crd.ok() || crd.status().code() == ErrorCode::kConflict) << crd.status().message();
  EXPECT_TRUE(PollUntil(seconds(30),
                        [&] { return client.Resolve(kClusterApiVersion, kClusterKind).ok(); }));
}

void InstallCrd(KubeClient& client) {
  auto package = LoadPackage(std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper");
  ASSERT_TRUE(package.ok()) << package.status().message();
  InstallCrd(client, *package);
}

// The CRD, and the default package as ConfigMaps in `ns`.
Installed InstallPackage(KubeClient& client, const std::string& ns) {
  Installed out;
  auto files = ReadPackageFiles(std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper");
  EXPECT_TRUE(files.ok()) << files.status().message();
  auto package = ParsePackage(*files);
  EXPECT_TRUE(package.ok()) << package.status().message();
  InstallCrd(client, *package);
  auto config_maps = PackageToConfigMaps(*package, *files, ns);
  EXPECT_TRUE(config_maps.ok()) << config_maps.status().message();
  const ResourceRef cms{"", "v1", "configmaps", true, "ConfigMap"};
  for (const auto& cm : *config_maps) {
    auto created = client.Create(cms, ns, json::parse(cm.dump()));
    EXPECT_TRUE(created.ok() || created.status().code() == ErrorCode::kConflict)
        << created.status().message();
  }
  out.ref = MakePackageRef(*package, *files);
  return out;
}

void CreateCluster(KubeClient& client, const std::string& ns, const std::string& name,
                   const PackageRef& ref, const json& values) {
  ClusterSpec spec;
  spec.package = ref;
  spec.values = values;
  auto created = client.Create(ClusterResourceRef(), ns, ClusterApplyObject(name, ns, spec));
  ASSERT_TRUE(created.ok()) << created.status().message();
}

ZooKeeperCluster GetCluster(KubeClient& client, const std::string& ns, const std::string& name) {
  auto object = client.Get(ClusterResourceRef(), ns, name);
  EXPECT_TRUE(object.ok() && *object) << object.status().message();
  auto cluster = ClusterFromJson(**object);
  EXPECT_TRUE(cluster.ok()) << cluster.status().message();
  return *cluster;
}

size_t CountOf(KubeClient& client, const ResourceRef& r, const std::string& ns,
               const std::string& selector = "") {
  auto list = client.List(r, ns, ListOptions{selector, ""});
  EXPECT_TRUE(list.ok()) << list.status().message();
  return list.ok() ? list->value("items", json::array()).size() : 0;
}

void ExpectNothingApplied(KubeClient& client, const std::string& ns) {
  const std::vector<ResourceRef> kinds = {
      {"apps", "v1", "statefulsets", true, "StatefulSet"},
      {"apps", "v1", "deployments", true, "Deployment"},
      {"apps", "v1", "controllerrevisions", true, "ControllerRevision"},
      {"", "v1", "services", true, "Service"},
      {"", "v1", "pods", true, "Pod"},
      {"", "v1", "persistentvolumeclaims", true, "PersistentVolumeClaim"},
      {"policy", "v1", "poddisruptionbudgets", true, "PodDisruptionBudget"},
      {"", "v1", "secrets", true, "Secret"},
  };
  for (const auto& kind : kinds)
    EXPECT_EQ(CountOf(client, kind, ns), 0u) << kind.resource << " in " << ns;
  // ConfigMaps: the package's, and the one every namespace gets.
  const ResourceRef cms{"", "v1", "configmaps", true, "ConfigMap"};
  auto list = client.List(cms, ns);
  ASSERT_TRUE(list.ok()) << list.status().message();
  for (const auto& cm : list->value("items", json::array())) {
    const json& meta = cm["metadata"];
    const bool package = meta.contains("labels") && meta["labels"].contains("zkpilot.io/package");
    EXPECT_TRUE(package || meta.value("name", "") == "kube-root-ca.crt") << meta.value("name", "");
  }
}

std::vector<json> EventsOf(KubeClient& client, const std::string& ns, const std::string& name) {
  auto list = client.List({"", "v1", "events", true, "Event"}, ns,
                          ListOptions{"", "involvedObject.name=" + name});
  EXPECT_TRUE(list.ok()) << list.status().message();
  std::vector<json> out;
  if (list.ok())
    for (const auto& e : list->value("items", json::array())) out.push_back(e);
  return out;
}

// The operator inside the cluster network (the servers answer only there),
// with the API reached through its Service as from a pod.
std::unique_ptr<Process> StartOperatorInside(const std::string& name,
                                             std::vector<std::string> flags) {
  std::ifstream in(g_kubeconfig);
  std::stringstream text;
  text << in.rdbuf();
  const std::string inside = g_state_dir + "/kubeconfig-inside";
  std::ofstream(inside) << std::regex_replace(text.str(),
                                              std::regex(R"(server: https://127\.0\.0\.1:\d+)"),
                                              "server: https://10.96.0.1:443");
  std::vector<std::string> argv = {std::string(ZKPILOT_SOURCE_DIR) + "/tests/kube-sim/kube-sim",
                                   "run",
                                   "--state-dir",
                                   g_state_dir,
                                   "--",
                                   ZKPILOT_BINARY,
                                   "operator"};
  argv.push_back("--kubeconfig");
  argv.push_back(inside);
  argv.insert(argv.end(), flags.begin(), flags.end());
  return std::make_unique<Process>(argv, TestDir("logs") + "/" + name + ".log");
}

std::string Describe(const ZooKeeperCluster& c) {
  std::string out = "phase " + std::string(ClusterPhaseName(c.status.phase)) + ", ready " +
                    std::to_string(c.status.ready_replicas) + "/" +
                    std::to_string(c.status.replicas);
  for (const auto& cond : c.status.conditions)
    out += "; " + cond.type + "=" + cond.status + " " + cond.reason + " " + cond.message;
  if (c.status.operation)
    out += "; operation " + std::to_string(c.status.operation->id) + " " +
           c.status.operation->type + " " + OperationStatusName(c.status.operation->phase) + " " +
           c.status.operation->error;
  return out;
}

bool OperationDone(const ZooKeeperCluster& c, const std::string& type) {
  return c.status.operation && c.status.operation->type == type &&
         c.status.operation->phase != OperationStatus::kRunning;
}

class PodWatch {
 public:
  PodWatch(const std::string& ns, const std::string& cluster) {
    thread_ = std::thread([this, ns, cluster] {
      auto client = Client();
      const ResourceRef pods{"", "v1", "pods", true, "Pod"};
      const ListOptions selector{"app.kubernetes.io/instance=" + cluster, ""};
      auto list = client->List(pods, ns, selector);
      if (!list.ok()) return;
      for (const auto& p : list->value("items", json::array())) Record(p);
      std::string rv = (*list)["metadata"].value("resourceVersion", "");
      while (!stop_) {
        (void)client->Watch(pods, ns, rv, selector, seconds(2), [&](const WatchEvent& e) {
          if (e.object.contains("metadata")) rv = e.object["metadata"].value("resourceVersion", rv);
          if (e.type == "ADDED" || e.type == "MODIFIED") Record(e.object);
          return !stop_;
        });
      }
    });
  }
  ~PodWatch() {
    stop_ = true;
    thread_.join();
  }
  // Distinct pod uids seen per pod name.
  std::map<std::string, std::set<std::string>> Uids() {
    std::lock_guard<std::mutex> lock(mu_);
    return uids_;
  }

 private:
  void Record(const json& pod) {
    std::lock_guard<std::mutex> lock(mu_);
    uids_[pod["metadata"].value("name", "")].insert(pod["metadata"].value("uid", ""));
  }
  std::mutex mu_;
  std::map<std::string, std::set<std::string>> uids_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// ---------------------------------------------------------------- in a pod

// The operator's pods: status and log, for a failure's message.
std::string OperatorPodsReport(KubeClient& client) {
  std::string out;
  auto list = client.List({"", "v1", "pods", true, "Pod"}, kOperatorNamespace);
  if (!list.ok()) return list.status().message();
  for (const auto& pod : list->value("items", json::array())) {
    const std::string name = pod["metadata"].value("name", "");
    out += "pod " + name + ": " + pod.value("status", json::object()).dump() + "\nlog:\n";
    (void)client.PodLogs(kOperatorNamespace, name, "", false, 50, [&](const std::string& line) {
      out += line + "\n";
      return true;
    });
  }
  return out;
}

// The operator as `zkpilot operator manifests` installs it: in a pod, with
// its service account's credentials and exactly the permissions of its
// ClusterRole. Runs first, and removes the operator again, so that it does
// not reconcile the other tests' clusters.
TEST(OperatorInAPod, RunsWithItsServiceAccountAndItsClusterRole) {
  auto client = Client();
  auto package = LoadPackage(std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper");
  ASSERT_TRUE(package.ok()) << package.status().message();
  OperatorManifestOptions options;
  auto manifests = OperatorManifests(*package, options);
  ASSERT_TRUE(manifests.ok()) << manifests.status().message();
  for (const auto& object : *manifests) {
    auto ref = client->Resolve(object.api_version, object.kind);
    if (!ref.ok() && object.kind != "CustomResourceDefinition") {
      ASSERT_TRUE(PollUntil(seconds(30), [&] {
        return (ref = client->Resolve(object.api_version, object.kind)).ok();
      })) << ref.status().message();
    }
    ASSERT_TRUE(ref.ok()) << ref.status().message();
    json body = json::parse(object.body.dump());
    auto applied =
        client->Apply(*ref, body["metadata"].value("namespace", ""), body, "zkpilot-test", true);
    ASSERT_TRUE(applied.ok()) << object.kind << " " << object.name << ": "
                              << applied.status().message();
  }
  const ResourceRef deployments{"apps", "v1", "deployments", true, "Deployment"};
  // Available = its pod passed the readiness probe: /readyz, the API answered.
  std::string state;
  ASSERT_TRUE(PollUntil(seconds(180),
                        [&] {
                          auto d = client->Get(deployments, kOperatorNamespace, kOperatorName);
                          if (!d.ok() || !*d) return false;
                          state = (**d)["status"].dump();
                          return (**d)["status"].value("availableReplicas", 0) == 1;
                        }))
      << state << "\n"
      << OperatorPodsReport(*client);
  std::string holder;
  ASSERT_TRUE(PollUntil(seconds(60),
                        [&] {
                          holder = LeaseHolder(*client, kOperatorNamespace);
                          return holder.rfind(std::string(kOperatorName) + "-", 0) == 0;
                        }))
      << "holder: " << holder;

  const std::string ns = "in-pod";
  CreateNamespace(*client, ns);
  const Installed installed = InstallPackage(*client, ns);
  CreateCluster(*client, ns, "refused", installed.ref, {{"syncLimit", 20}, {"initLimit", 10}});
  ASSERT_TRUE(PollUntil(seconds(60), [&] {
    const ClusterCondition* c =
        FindCondition(GetCluster(*client, ns, "refused").status.conditions, kConditionValid);
    return c && c->reason == "InvalidValues";
  })) << Describe(GetCluster(*client, ns, "refused"));
  {
    // Everything a deploy and a delete do, with the ClusterRole's permissions.
    CreateCluster(*client, ns, "one", installed.ref, {{"replicas", 1}});
    ZooKeeperCluster c;
    ASSERT_TRUE(PollUntil(seconds(600), [&] {
      c = GetCluster(*client, ns, "one");
      return OperationDone(c, "deploy");
    })) << Describe(c);
    EXPECT_EQ(c.status.operation->phase, OperationStatus::kSucceeded) << Describe(c);
    EXPECT_TRUE(IsConditionTrue(c.status.conditions, kConditionReady)) << Describe(c);
    ASSERT_TRUE(client->Delete(ClusterResourceRef(), ns, "one").ok());
    ASSERT_TRUE(PollUntil(seconds(300), [&] {
      auto got = client->Get(ClusterResourceRef(), ns, "one");
      return got.ok() && !*got;
    })) << Describe(GetCluster(*client, ns, "one"));
  }
  ASSERT_TRUE(client->Delete(ClusterResourceRef(), ns, "refused").ok());
  ASSERT_TRUE(PollUntil(seconds(120), [&] {
    auto got = client->Get(ClusterResourceRef(), ns, "refused");
    return got.ok() && !*got;
  })) << "a refused cluster's finalizer goes too";

  // Gone again (SIGTERM: the Lease is released).
  ASSERT_TRUE(client->Delete(deployments, kOperatorNamespace, kOperatorName).ok());
  const ResourceRef pods{"", "v1", "pods", true, "Pod"};
  ASSERT_TRUE(PollUntil(seconds(120), [&] {
    auto list = client->List(pods, kOperatorNamespace);
    return list.ok() && list->value("items", json::array()).empty();
  }));
  EXPECT_EQ(LeaseHolder(*client, kOperatorNamespace), "");
}

// ---------------------------------------------------------------- leader election

TEST(OperatorLease, TwoReplicasOneLeadsAndTheOtherTakesOverWhenItDies) {
  auto client = Client();
  const std::string ns = "lease-a";
  CreateNamespace(*client, ns);
  InstallCrd(*client);  // an operator without its CRD is not ready
  const int port_a = FreePort(), port_b = FreePort();
  auto a = StartOperator(
      "lease-a", {"--leader-elect", "--lease-namespace", ns, "--identity", "op-a", "--health-addr",
                  "127.0.0.1:" + std::to_string(port_a), "--namespace", ns});
  auto b = StartOperator(
      "lease-b", {"--leader-elect", "--lease-namespace", ns, "--identity", "op-b", "--health-addr",
                  "127.0.0.1:" + std::to_string(port_b), "--namespace", ns});
  std::string holder;
  ASSERT_TRUE(PollUntil(seconds(60),
                        [&] {
                          holder = LeaseHolder(*client, ns);
                          return holder == "op-a" || holder == "op-b";
                        }))
      << "holder: " << holder << "\nA:\n"
      << a->Log() << "\nB:\n"
      << b->Log();
  Process& leader = holder == "op-a" ? *a : *b;
  Process& standby = holder == "op-a" ? *b : *a;
  const std::string standby_id = holder == "op-a" ? "op-b" : "op-a";
  ASSERT_TRUE(PollUntil(seconds(30), [&] {
    return leader.Log().find("leader election: leading") != std::string::npos;
  })) << leader.Log();
  // Only one leads: the Lease names one holder, and the other says it waits.
  EXPECT_TRUE(standby.Running()) << standby.Log();
  EXPECT_EQ(standby.Log().find("leader election: leading"), std::string::npos) << standby.Log();
  EXPECT_NE(standby.Log().find("waiting for lease"), std::string::npos) << standby.Log();

  // Both are alive and ready (the standby too: it stands by).
  for (int port : {port_a, port_b}) {
    httplib::Client http("127.0.0.1", port);
    ASSERT_TRUE(PollUntil(seconds(30),
                          [&] {
                            auto r = http.Get("/readyz");
                            return r && r->status == 200;
                          }))
        << "readyz on " << port;
    auto healthz = http.Get("/healthz");
    ASSERT_TRUE(healthz);
    EXPECT_EQ(healthz->status, 200);
  }

  // The leader dies without releasing the Lease: the standby takes over once
  // it has expired (15 s).
  leader.Signal(SIGKILL);
  ASSERT_TRUE(leader.WaitExit(seconds(10)).has_value());
  ASSERT_TRUE(PollUntil(seconds(60), [&] { return LeaseHolder(*client, ns) == standby_id; }))
      << "holder: " << LeaseHolder(*client, ns) << "\n"
      << standby.Log();
  ASSERT_TRUE(PollUntil(seconds(30), [&] {
    return standby.Log().find("leader election: leading") != std::string::npos;
  })) << standby.Log();

  // A leader stopped by SIGTERM releases the Lease and exits 0.
  standby.Signal(SIGTERM);
  const auto code = standby.WaitExit(seconds(60));
  ASSERT_TRUE(code.has_value()) << standby.Log();
  EXPECT_EQ(*code, 0) << standby.Log();
  EXPECT_EQ(LeaseHolder(*client, ns), "");
}

TEST(OperatorLease, ALeaderThatLosesTheLeaseExitsAtOnce) {
  auto client = Client();
  const std::string ns = "lease-b";
  CreateNamespace(*client, ns);
  auto a = StartOperator("lost", {"--leader-elect", "--lease-namespace", ns, "--identity",
                                  "op-lost", "--health-addr", "off", "--namespace", ns});
  ASSERT_TRUE(PollUntil(seconds(60), [&] { return LeaseHolder(*client, ns) == "op-lost"; }))
      << a->Log();
  // Another holder writes the Lease (as a replica would that thought it expired).
  ASSERT_TRUE(PollUntil(seconds(30), [&] {
    auto lease = client->Get(kLeases, ns, "zkpilot-operator");
    if (!lease.ok() || !*lease) return false;
    json stolen = **lease;
    stolen["spec"]["holderIdentity"] = "intruder";
    stolen["spec"]["renewTime"] = "2030-01-01T00:00:00.000000Z";
    return client->Replace(kLeases, ns, stolen).ok();
  }));
  const auto code = a->WaitExit(seconds(30));
  ASSERT_TRUE(code.has_value()) << "still running after losing its lease:\n" << a->Log();
  EXPECT_EQ(*code, 1) << a->Log();
  EXPECT_NE(a->Log().find("lost: now held by intruder"), std::string::npos) << a->Log();
}

// ---------------------------------------------------------------- reconcile of refused resources

TEST(OperatorReconcile, InvalidValuesGiveAConditionAndNothingIsApplied) {
  auto client = Client();
  const std::string ns = "invalid";
  CreateNamespace(*client, ns);
  const Installed installed = InstallPackage(*client, ns);
  // Each value is within its parameter's bounds (the API accepts it); together
  // they break a constraint only the package knows.
  CreateCluster(*client, ns, "bad", installed.ref, {{"syncLimit", 20}, {"initLimit", 10}});
  PackageRef missing = installed.ref;
  missing.config_map = "zkpilot-pkg-zookeeper-000000000000";
  missing.hash = std::string(64, '0');
  CreateCluster(*client, ns, "lost", missing, json::object());

  auto op = StartOperator("once-invalid", {"--once", "--namespace", ns, "--health-addr", "off"});
  const auto code = op->WaitExit(seconds(120));
  ASSERT_TRUE(code.has_value()) << op->Log();
  EXPECT_EQ(*code, 0) << op->Log();

  const ZooKeeperCluster bad = GetCluster(*client, ns, "bad");
  const ClusterCondition* valid = FindCondition(bad.status.conditions, kConditionValid);
  ASSERT_NE(valid, nullptr) << op->Log();
  EXPECT_EQ(valid->status, "False");
  EXPECT_EQ(valid->reason, "InvalidValues");
  EXPECT_NE(valid->message.find("syncLimit"), std::string::npos) << valid->message;
  EXPECT_NE(valid->message.find("initLimit"), std::string::npos) << valid->message;
  EXPECT_EQ(bad.status.phase, ClusterPhase::kFailed);
  EXPECT_EQ(bad.status.observed_generation, bad.Generation());
  EXPECT_TRUE(bad.HasFinalizer(kClusterFinalizer));
  const ClusterCondition* ready = FindCondition(bad.status.conditions, kConditionReady);
  ASSERT_NE(ready, nullptr);
  EXPECT_EQ(ready->reason, "NotDeployed");

  const ZooKeeperCluster lost = GetCluster(*client, ns, "lost");
  valid = FindCondition(lost.status.conditions, kConditionValid);
  ASSERT_NE(valid, nullptr) << op->Log();
  EXPECT_EQ(valid->reason, "PackageNotFound");
  EXPECT_NE(valid->message.find("zkpilot-pkg-zookeeper-000000000000"), std::string::npos)
      << valid->message;

  ExpectNothingApplied(*client, ns);
  bool warned = false;
  for (const auto& e : EventsOf(*client, ns, "bad"))
    warned =
        warned || (e.value("type", "") == "Warning" && e.value("reason", "") == "InvalidValues");
  EXPECT_TRUE(warned) << "a Warning event InvalidValues about bad";
}

TEST(OperatorReconcile, TheLoopSeesNewResourcesAndSpecChangesThroughItsWatch) {
  auto client = Client();
  const std::string ns = "watched";
  CreateNamespace(*client, ns);
  const Installed installed = InstallPackage(*client, ns);
  // A resync far away: whatever happens below comes from the watch.
  auto op = StartOperator("loop", {"--namespace", ns, "--health-addr", "off", "--resync", "1h"});
  ASSERT_TRUE(PollUntil(seconds(30), [&] {
    return op->Log().find("watching namespace " + ns) != std::string::npos;
  })) << op->Log();

  CreateCluster(*client, ns, "later", installed.ref, {{"syncLimit", 30}, {"initLimit", 10}});
  std::string message;
  ASSERT_TRUE(PollUntil(seconds(60), [&] {
    const ClusterCondition* c =
        FindCondition(GetCluster(*client, ns, "later").status.conditions, kConditionValid);
    message = c ? c->message : "";
    return c && c->reason == "InvalidValues";
  })) << op->Log();
  EXPECT_NE(message.find("30"), std::string::npos) << message;

  // A spec change (a new generation) is reconciled again.
  json patch = {{"spec", {{"values", {{"syncLimit", 40}, {"initLimit", 10}}}}}};
  ASSERT_TRUE(client->MergePatch(ClusterResourceRef(), ns, "later", patch).ok());
  ASSERT_TRUE(PollUntil(seconds(60), [&] {
    const ZooKeeperCluster c = GetCluster(*client, ns, "later");
    const ClusterCondition* v = FindCondition(c.status.conditions, kConditionValid);
    return v && v->message.find("40") != std::string::npos &&
           c.status.observed_generation == c.Generation();
  })) << op->Log();
  ExpectNothingApplied(*client, ns);
  EXPECT_TRUE(op->Running()) << op->Log();
  op->Signal(SIGTERM);
  const auto code = op->WaitExit(seconds(60));
  ASSERT_TRUE(code.has_value()) << op->Log();
  EXPECT_EQ(*code, 0) << op->Log();
}

// ---------------------------------------------------------------- end to end

TEST(OperatorEndToEnd, DeploysChangesAndDeletesACluster) {
  auto client = Client();
  const std::string ns = "e2e";
  CreateNamespace(*client, ns);
  const Installed installed = InstallPackage(*client, ns);
  CreateCluster(*client, ns, "demo", installed.ref, {{"replicas", 3}, {"version", "3.8.0"}});
  auto op =
      StartOperatorInside("e2e", {"--namespace", ns, "--health-addr", "off", "--resync", "10s"});

  // Deployed: the status describes the running ensemble once the journal
  // says the operation ended.
  ZooKeeperCluster c;
  ASSERT_TRUE(PollUntil(seconds(600),
                        [&] {
                          c = GetCluster(*client, ns, "demo");
                          return OperationDone(c, "deploy");
                        }))
      << Describe(c) << "\n"
      << op->Log();
  ASSERT_EQ(c.status.operation->phase, OperationStatus::kSucceeded) << Describe(c) << "\n"
                                                                    << op->Log();
  EXPECT_EQ(c.status.phase, ClusterPhase::kRunning) << Describe(c);
  EXPECT_EQ(c.status.ready_replicas, 3) << Describe(c);
  EXPECT_EQ(c.status.replicas, 3);
  EXPECT_EQ(c.status.current_version, "3.8.0");
  EXPECT_EQ(c.status.current_revision, 1);
  EXPECT_GT(c.status.leader, 0);
  EXPECT_TRUE(IsConditionTrue(c.status.conditions, kConditionReady)) << Describe(c);
  EXPECT_FALSE(IsConditionTrue(c.status.conditions, kConditionDegraded)) << Describe(c);
  EXPECT_EQ(c.status.observed_generation, c.Generation());
  ASSERT_EQ(c.status.members.size(), 3u);
  for (const auto& m : c.status.members) {
    EXPECT_EQ(m.pod, "demo-" + std::to_string(m.id) + "-0");
    EXPECT_FALSE(m.pod_uid.empty());
    EXPECT_TRUE(m.ready) << m.id;
    EXPECT_EQ(m.version, "3.8.0");
  }
  auto secret = client->Get({"", "v1", "secrets", true, "Secret"}, ns, "demo-zkpilot-super");
  ASSERT_TRUE(secret.ok() && *secret) << "the super user's Secret";
  EXPECT_TRUE((**secret)["data"].contains("password"));
  bool started = false, succeeded = false;
  for (const auto& e : EventsOf(*client, ns, "demo")) {
    started = started || e.value("reason", "") == "Deploying";
    succeeded = succeeded || e.value("reason", "") == "OperationSucceeded";
  }
  EXPECT_TRUE(started && succeeded) << "Events for the deploy's start and end";

  // A dynamic parameter: a configure that restarts nothing.
  std::map<int, std::string> uids;
  for (const auto& m : c.status.members) uids[m.id] = m.pod_uid;
  json patch = {
      {"spec", {{"values", {{"replicas", 3}, {"podDisruptionBudget", {{"maxUnavailable", 0}}}}}}}};
  ASSERT_TRUE(client->MergePatch(ClusterResourceRef(), ns, "demo", patch).ok());
  ASSERT_TRUE(PollUntil(seconds(300),
                        [&] {
                          c = GetCluster(*client, ns, "demo");
                          return OperationDone(c, "configure") &&
                                 c.status.observed_generation == c.Generation();
                        }))
      << Describe(c) << "\n"
      << op->Log();
  ASSERT_EQ(c.status.operation->phase, OperationStatus::kSucceeded) << Describe(c);
  EXPECT_EQ(c.status.current_revision, 2);
  for (const auto& m : c.status.members)
    EXPECT_EQ(m.pod_uid, uids[m.id]) << "server " << m.id << " restarted";

  // A restart request: every server rolls once, and the request is recorded.
  json restart = {{"spec", {{"restartRequest", "r1"}}}};
  ASSERT_TRUE(client->MergePatch(ClusterResourceRef(), ns, "demo", restart).ok());
  ASSERT_TRUE(PollUntil(seconds(600),
                        [&] {
                          c = GetCluster(*client, ns, "demo");
                          return OperationDone(c, "restart");
                        }))
      << Describe(c) << "\n"
      << op->Log();
  ASSERT_EQ(c.status.operation->phase, OperationStatus::kSucceeded) << Describe(c);
  EXPECT_EQ(c.status.last_restart_request, "r1");
  EXPECT_EQ(c.status.ready_replicas, 3) << Describe(c);
  for (const auto& m : c.status.members)
    EXPECT_NE(m.pod_uid, uids[m.id]) << "server " << m.id << " not restarted";
  const int64_t restart_id = c.status.operation->id;
  EXPECT_NE(op->Log().find("e2e/demo: reconciled (restart)"), std::string::npos);
  c = GetCluster(*client, ns, "demo");
  EXPECT_EQ(c.status.operation->id, restart_id) << "the request is carried out once";

  // Deleted: the finalizer goes last; the claims stay.
  ASSERT_TRUE(client->Delete(ClusterResourceRef(), ns, "demo").ok());
  ASSERT_TRUE(PollUntil(seconds(300), [&] {
    auto got = client->Get(ClusterResourceRef(), ns, "demo");
    return got.ok() && !*got;
  })) << op->Log();
  EXPECT_EQ(CountOf(*client, {"apps", "v1", "statefulsets", true, "StatefulSet"}, ns), 0u);
  EXPECT_EQ(
      CountOf(*client, {"", "v1", "persistentvolumeclaims", true, "PersistentVolumeClaim"}, ns), 3u)
      << "the claims stay without purgeDataOnDelete";
  EXPECT_NE(op->Log().find(ns + "/demo: reconciled (delete)"), std::string::npos) << op->Log();
  op->Signal(SIGTERM);
  EXPECT_TRUE(op->WaitExit(seconds(60)).has_value()) << op->Log();
}

// Records the server pods that appear (uid per server id) from a watch.
TEST(OperatorEndToEnd, AnOperatorKilledMidRollIsContinuedByTheNextWithoutARestartTwice) {
  auto client = Client();
  const std::string ns = "e2e-kill";
  CreateNamespace(*client, ns);
  const Installed installed = InstallPackage(*client, ns);
  CreateCluster(*client, ns, "roll", installed.ref, {{"replicas", 3}});
  const std::vector<std::string> common = {
      "--namespace", ns, "--health-addr", "off", "--leader-elect", "--lease-namespace", ns};
  auto with = [&](const std::string& identity) {
    std::vector<std::string> flags = common;
    flags.push_back("--identity");
    flags.push_back(identity);
    return flags;
  };
  auto first = StartOperatorInside("kill-first", with("first"));
  ZooKeeperCluster c;
  ASSERT_TRUE(PollUntil(seconds(600),
                        [&] {
                          c = GetCluster(*client, ns, "roll");
                          return OperationDone(c, "deploy") && c.status.ready_replicas == 3;
                        }))
      << Describe(c) << "\n"
      << first->Log();

  PodWatch watch(ns, "roll");
  ASSERT_TRUE(PollUntil(seconds(30), [&] { return watch.Uids().size() == 3; }));
  ASSERT_TRUE(
      client->MergePatch(ClusterResourceRef(), ns, "roll", {{"spec", {{"restartRequest", "r1"}}}})
          .ok());
  // Killed (no goodbye, the Lease kept) once the roll has replaced a pod.
  ASSERT_TRUE(PollUntil(seconds(300), [&] {
    for (const auto& [pod, uids] : watch.Uids())
      if (uids.size() > 1) return true;
    return false;
  })) << first->Log();
  c = GetCluster(*client, ns, "roll");
  ASSERT_TRUE(c.status.operation && c.status.operation->type == "restart") << Describe(c);
  const int64_t operation = c.status.operation->id;
  first->Signal(SIGKILL);
  ASSERT_TRUE(first->WaitExit(seconds(30)).has_value());

  auto second = StartOperatorInside("kill-second", with("second"));
  ASSERT_TRUE(PollUntil(seconds(600),
                        [&] {
                          c = GetCluster(*client, ns, "roll");
                          return OperationDone(c, "restart");
                        }))
      << Describe(c) << "\n"
      << second->Log();
  EXPECT_EQ(c.status.operation->id, operation) << "the same operation, continued from its journal";
  EXPECT_EQ(c.status.operation->phase, OperationStatus::kSucceeded) << Describe(c);
  EXPECT_EQ(c.status.last_restart_request, "r1");
  EXPECT_NE(second->Log().find("resume restart"), std::string::npos) << second->Log();
  ASSERT_TRUE(PollUntil(seconds(60), [&] {
    return c = GetCluster(*client, ns, "roll"), c.status.ready_replicas == 3;
  }));
  for (const auto& [pod, uids] : watch.Uids())
    EXPECT_EQ(uids.size(), 2u) << pod << " was replaced " << uids.size() - 1
                               << " times (once expected)";
  second->Signal(SIGTERM);
  EXPECT_TRUE(second->WaitExit(seconds(60)).has_value()) << second->Log();
}

TEST(OperatorEndToEnd, DeletingAClusterEndsTheOperationAnOperatorLeftUnfinished) {
  auto client = Client();
  const std::string ns = "e2e-delete";
  CreateNamespace(*client, ns);
  const Installed installed = InstallPackage(*client, ns);
  CreateCluster(*client, ns, "one", installed.ref, {{"replicas", 1}});
  auto first = StartOperatorInside("delete-first", {"--namespace", ns, "--health-addr", "off"});
  ZooKeeperCluster c;
  ASSERT_TRUE(PollUntil(seconds(600),
                        [&] {
                          c = GetCluster(*client, ns, "one");
                          return OperationDone(c, "deploy") && c.status.ready_replicas == 1;
                        }))
      << Describe(c) << "\n"
      << first->Log();

  // The restart's pod deletion is held up by the API, and the operator dies
  // meanwhile: the operation stays unfinished in the journal.
  const json fault = {{"id", "hold-delete"},
                      {"method", "DELETE"},
                      {"pathRegex", "/namespaces/" + ns + "/pods/one-1-0"},
                      {"times", 1},
                      {"delayMs", 60000}};
  ASSERT_TRUE(client->Request("POST", "/kube-sim/faults", fault).ok());
  ASSERT_TRUE(
      client->MergePatch(ClusterResourceRef(), ns, "one", {{"spec", {{"restartRequest", "r1"}}}})
          .ok());
  ASSERT_TRUE(PollUntil(seconds(120), [&] {
    return first->Log().find("restart server 1") != std::string::npos;
  })) << first->Log();
  first->Signal(SIGKILL);
  ASSERT_TRUE(first->WaitExit(seconds(30)).has_value());
  ASSERT_TRUE(client->Request("DELETE", "/kube-sim/faults").ok());
  c = GetCluster(*client, ns, "one");
  ASSERT_TRUE(c.status.operation && c.status.operation->type == "restart" &&
              c.status.operation->phase == OperationStatus::kRunning)
      << Describe(c);

  // Deleted while so: the next operator deletes it rather than finishing the roll.
  ASSERT_TRUE(client->Delete(ClusterResourceRef(), ns, "one").ok());
  auto second = StartOperatorInside("delete-second", {"--namespace", ns, "--health-addr", "off"});
  ASSERT_TRUE(PollUntil(seconds(300),
                        [&] {
                          auto got = client->Get(ClusterResourceRef(), ns, "one");
                          return got.ok() && !*got;
                        }))
      << Describe(GetCluster(*client, ns, "one")) << "\n"
      << second->Log();
  EXPECT_NE(second->Log().find("the interrupted restart"), std::string::npos) << second->Log();
  EXPECT_EQ(CountOf(*client, {"apps", "v1", "statefulsets", true, "StatefulSet"}, ns), 0u);
  second->Signal(SIGTERM);
  EXPECT_TRUE(second->WaitExit(seconds(60)).has_value()) << second->Log();
}

}  // namespace
}  // namespace zkpilot

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new zkpilot::KubeSimEnvironment);
  return RUN_ALL_TESTS();
}
