// KubeClient against a real kube-sim cluster (one for the whole binary):
// objects, server-side apply, CRDs and their status, watches, pod logs and
// exec, and the errors a person sees. Authentication and proxies are in
// kube_client_auth_test.cc.
#include "platform/kubernetes/kube_client.h"

#include <gtest/gtest.h>

#include "platform/kubernetes/kube_client_testenv.h"
#include "platform/kubernetes/kubeconfig.h"

namespace zkpilot {
namespace kubetest {

KubeSim& Sim() {
  static KubeSim sim;
  return sim;
}

namespace {

using nlohmann::json;
using namespace std::chrono_literals;

ListOptions Labels(const std::string& selector) {
  ListOptions options;
  options.label_selector = selector;
  return options;
}

class KubeClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_ = Connect(AdminConnection());
    ASSERT_TRUE(client_);
    configmaps_ = MustResolve("v1", "ConfigMap");
    namespaces_ = MustResolve("v1", "Namespace");
    pods_ = MustResolve("v1", "Pod");
  }

  ResourceRef MustResolve(const std::string& api_version, const std::string& kind) {
    auto r = client_->Resolve(api_version, kind);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : ResourceRef{};
  }

  void EnsureNamespace(const std::string& name) {
    auto ns = client_->Apply(
        namespaces_, "",
        {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}}, "test");
    ASSERT_TRUE(ns.ok()) << ns.status().message();
  }

  static json ConfigMap(const std::string& name, json data, json labels = json::object()) {
    json cm = {{"apiVersion", "v1"},
               {"kind", "ConfigMap"},
               {"metadata", {{"name", name}}},
               {"data", data}};
    if (!labels.empty()) cm["metadata"]["labels"] = labels;
    return cm;
  }

  void AddFault(const json& rule) {
    auto added = client_->Request("POST", "/kube-sim/faults", rule);
    ASSERT_TRUE(added.ok()) << added.status().message();
  }
  void ClearFaults() {
    auto cleared = client_->Request("DELETE", "/kube-sim/faults");
    EXPECT_TRUE(cleared.ok()) << cleared.status().message();
  }

  std::unique_ptr<KubeClient> client_;
  ResourceRef configmaps_, namespaces_, pods_;
};

TEST_F(KubeClientTest, CreateGetApplyReplaceDelete) {
  EnsureNamespace("kc-crud");
  auto created = client_->Create(configmaps_, "kc-crud", ConfigMap("one", {{"a", "1"}}));
  ASSERT_TRUE(created.ok()) << created.status().message();
  EXPECT_EQ((*created)["metadata"]["namespace"], "kc-crud");

  auto again = client_->Create(configmaps_, "kc-crud", ConfigMap("one", {{"a", "1"}}));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), ErrorCode::kConflict);
  EXPECT_NE(again.status().message().find("already exists"), std::string::npos)
      << again.status().message();

  auto got = client_->Get(configmaps_, "kc-crud", "one");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((**got)["data"]["a"], "1");

  // Replace with the version read: ok; with that (now stale) version again: 409.
  json changed = **got;
  changed["data"]["a"] = "2";
  auto replaced = client_->Replace(configmaps_, "kc-crud", changed);
  ASSERT_TRUE(replaced.ok()) << replaced.status().message();
  EXPECT_EQ((*replaced)["data"]["a"], "2");
  changed["data"]["a"] = "3";
  auto stale = client_->Replace(configmaps_, "kc-crud", changed);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.status().code(), ErrorCode::kConflict);

  auto patched = client_->MergePatch(configmaps_, "kc-crud", "one", {{"data", {{"b", "x"}}}});
  ASSERT_TRUE(patched.ok()) << patched.status().message();
  EXPECT_EQ((*patched)["data"], json({{"a", "2"}, {"b", "x"}}));

  // The namespace defaults to the context's ("default") when none is given.
  auto in_default =
      client_->Apply(configmaps_, "", ConfigMap("kc-default-ns", {{"k", "v"}}), "test");
  ASSERT_TRUE(in_default.ok()) << in_default.status().message();
  EXPECT_EQ((*in_default)["metadata"]["namespace"], "default");

  ASSERT_TRUE(client_->Delete(configmaps_, "kc-crud", "one").ok());
  auto gone = client_->Get(configmaps_, "kc-crud", "one");
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->has_value());
  EXPECT_TRUE(client_->Delete(configmaps_, "kc-crud", "one", /*ignore_missing=*/true).ok());
  Status missing = client_->Delete(configmaps_, "kc-crud", "one", /*ignore_missing=*/false);
  EXPECT_EQ(missing.code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.message().find("configmaps \"one\" not found"), std::string::npos)
      << missing.message();
}

TEST_F(KubeClientTest, ServerSideApplyConflictsNameTheFieldAndItsManager) {
  EnsureNamespace("kc-ssa");
  auto applied =
      client_->Apply(configmaps_, "kc-ssa", ConfigMap("owned", {{"replicas", "3"}}), "zkpilot");
  ASSERT_TRUE(applied.ok()) << applied.status().message();
  bool managed = false;
  for (const auto& f : (*applied)["metadata"]["managedFields"]) {
    managed |= f["manager"] == "zkpilot" && f["operation"] == "Apply";
  }
  EXPECT_TRUE(managed) << (*applied)["metadata"].dump();

  // Applying again as the same manager changes the field.
  applied =
      client_->Apply(configmaps_, "kc-ssa", ConfigMap("owned", {{"replicas", "5"}}), "zkpilot");
  ASSERT_TRUE(applied.ok()) << applied.status().message();
  EXPECT_EQ((*applied)["data"]["replicas"], "5");

  // Another manager that sets the field differently: 409 naming field and manager.
  auto conflict = client_->Apply(configmaps_, "kc-ssa", ConfigMap("owned", {{"replicas", "1"}}),
                                 "kubectl-scale");
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.status().code(), ErrorCode::kConflict);
  EXPECT_NE(conflict.status().message().find("with \"zkpilot\""), std::string::npos)
      << conflict.status().message();
  EXPECT_NE(conflict.status().message().find(".data.replicas"), std::string::npos)
      << conflict.status().message();

  // force takes the field over.
  auto forced = client_->Apply(configmaps_, "kc-ssa", ConfigMap("owned", {{"replicas", "1"}}),
                               "kubectl-scale",
                               /*force=*/true);
  ASSERT_TRUE(forced.ok()) << forced.status().message();
  EXPECT_EQ((*forced)["data"]["replicas"], "1");
  auto back =
      client_->Apply(configmaps_, "kc-ssa", ConfigMap("owned", {{"replicas", "5"}}), "zkpilot");
  ASSERT_FALSE(back.ok());
  EXPECT_NE(back.status().message().find("with \"kubectl-scale\""), std::string::npos)
      << back.status().message();
}

TEST_F(KubeClientTest, ListWithLabelSelector) {
  EnsureNamespace("kc-list");
  for (auto [name, app] : {std::pair{"a", "zk"}, {"b", "zk"}, {"c", "other"}}) {
    ASSERT_TRUE(
        client_
            ->Apply(configmaps_, "kc-list", ConfigMap(name, {{"x", "y"}}, {{"app", app}}), "test")
            .ok());
  }
  auto list = client_->List(configmaps_, "kc-list", Labels("app=zk"));
  ASSERT_TRUE(list.ok()) << list.status().message();
  std::vector<std::string> names;
  for (const auto& item : (*list)["items"]) names.push_back(item["metadata"]["name"]);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE((*list)["metadata"]["resourceVersion"].get<std::string>().empty());

  list = client_->List(configmaps_, "kc-list", Labels("app in (zk,other),app!=zk"));
  ASSERT_TRUE(list.ok()) << list.status().message();
  ASSERT_EQ((*list)["items"].size(), 1u);
  EXPECT_EQ((*list)["items"][0]["metadata"]["name"], "c");

  list = client_->List(configmaps_, "", Labels("app=other"));  // all namespaces
  ASSERT_TRUE(list.ok()) << list.status().message();
  EXPECT_EQ((*list)["items"].size(), 1u);
}

TEST_F(KubeClientTest, CustomResourceIsFoundOnceItsCrdExistsAndItsStatusPatched) {
  EnsureNamespace("kc-crd");
  auto before = client_->Resolve("test.zkpilot.io/v1", "Widget");
  ASSERT_FALSE(before.ok());
  EXPECT_EQ(before.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(before.status().message().find("CustomResourceDefinition"), std::string::npos);

  ResourceRef crds = MustResolve("apiextensions.k8s.io/v1", "CustomResourceDefinition");
  json schema = {
      {"type", "object"},
      {"properties",
       {{"spec",
         {{"type", "object"}, {"properties", {{"size", {{"type", "integer"}, {"minimum", 1}}}}}}},
        {"status", {{"type", "object"}, {"properties", {{"phase", {{"type", "string"}}}}}}}}}};
  json crd = {{"apiVersion", "apiextensions.k8s.io/v1"},
              {"kind", "CustomResourceDefinition"},
              {"metadata", {{"name", "widgets.test.zkpilot.io"}}},
              {"spec",
               {{"group", "test.zkpilot.io"},
                {"scope", "Namespaced"},
                {"names",
                 {{"plural", "widgets"},
                  {"singular", "widget"},
                  {"kind", "Widget"},
                  {"listKind", "WidgetList"}}},
                {"versions", json::array({{{"name", "v1"},
                                           {"served", true},
                                           {"storage", true},
                                           {"subresources", {{"status", json::object()}}},
                                           {"schema", {{"openAPIV3Schema", schema}}}}})}}}};
  auto applied = client_->Apply(crds, "", crd, "zkpilot");
  ASSERT_TRUE(applied.ok()) << applied.status().message();

  // The client discovers the group again when it misses (the earlier miss is not cached).
  ResourceRef widgets;
  ASSERT_TRUE(WaitUntil(30s, [&] {
    auto r = client_->Resolve("test.zkpilot.io/v1", "Widget");
    if (r.ok()) widgets = *r;
    return r.ok();
  }));
  EXPECT_EQ(widgets.resource, "widgets");
  EXPECT_TRUE(widgets.namespaced);

  json widget = {{"apiVersion", "test.zkpilot.io/v1"},
                 {"kind", "Widget"},
                 {"metadata", {{"name", "w"}}},
                 {"spec", {{"size", 3}}}};
  ASSERT_TRUE(client_->Apply(widgets, "kc-crd", widget, "zkpilot").ok());

  auto invalid = client_->MergePatch(widgets, "kc-crd", "w", {{"spec", {{"size", 0}}}});
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.status().code(), ErrorCode::kInvalidInput);
  EXPECT_NE(invalid.status().message().find("spec.size"), std::string::npos)
      << invalid.status().message();

  auto status =
      client_->MergePatch(widgets, "kc-crd", "w", {{"status", {{"phase", "Ready"}}}}, "status");
  ASSERT_TRUE(status.ok()) << status.status().message();
  auto got = client_->Get(widgets, "kc-crd", "w");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((**got)["status"]["phase"], "Ready");
  EXPECT_EQ((**got)["spec"]["size"], 3);

  // Status is written only through the subresource.
  ASSERT_TRUE(
      client_->MergePatch(widgets, "kc-crd", "w", {{"status", {{"phase", "Ignored"}}}}).ok());
  got = client_->Get(widgets, "kc-crd", "w");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((**got)["status"]["phase"], "Ready");

  ASSERT_TRUE(client_->Delete(crds, "", "widgets.test.zkpilot.io").ok());
}

TEST_F(KubeClientTest, WatchReplaysAddedModifiedDeletedFromAResourceVersion) {
  EnsureNamespace("kc-watch");
  auto list = client_->List(configmaps_, "kc-watch");
  ASSERT_TRUE(list.ok());
  std::string rv = (*list)["metadata"]["resourceVersion"];
  ASSERT_TRUE(client_->Create(configmaps_, "kc-watch", ConfigMap("w1", {{"a", "1"}})).ok());
  ASSERT_TRUE(client_->MergePatch(configmaps_, "kc-watch", "w1", {{"data", {{"a", "2"}}}}).ok());
  ASSERT_TRUE(client_->Delete(configmaps_, "kc-watch", "w1").ok());

  std::vector<std::string> seen;
  Status s = client_->Watch(configmaps_, "kc-watch", rv, {}, 60s, [&](const WatchEvent& e) {
    if (e.type == "BOOKMARK") return true;
    if (e.object["metadata"]["name"] != "w1") return true;
    seen.push_back(e.type);
    return e.type != "DELETED";
  });
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(seen, (std::vector<std::string>{"ADDED", "MODIFIED", "DELETED"}));
}

TEST_F(KubeClientTest, WatchDeliversLiveEventsWhileTheHandlerUsesTheClient) {
  EnsureNamespace("kc-live");
  ASSERT_TRUE(client_->Apply(configmaps_, "kc-live", ConfigMap("seed", {{"a", "1"}}), "test").ok());
  std::vector<std::string> seen;
  Status handler_error;
  // Without a resourceVersion the watch starts with the current objects
  // (ADDED); the handler then writes through the same client.
  Status s = client_->Watch(configmaps_, "kc-live", "", {}, 60s, [&](const WatchEvent& e) {
    std::string name = e.object["metadata"].value("name", "");
    if (e.type == "BOOKMARK" || (name != "seed" && name != "live")) return true;
    seen.push_back(e.type + " " + name);
    Status step;
    if (name == "seed" && e.type == "ADDED") {
      step = client_->Create(configmaps_, "kc-live", ConfigMap("live", {{"a", "1"}})).status();
    } else if (name == "live" && e.type == "ADDED") {
      step = client_->MergePatch(configmaps_, "kc-live", "live", {{"data", {{"a", "2"}}}}).status();
    } else if (name == "live" && e.type == "MODIFIED") {
      step = client_->Delete(configmaps_, "kc-live", "live");
    }
    if (!step.ok()) handler_error = step;
    return step.ok() && !(name == "live" && e.type == "DELETED");
  });
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_TRUE(handler_error.ok()) << handler_error.message();
  EXPECT_EQ(seen, (std::vector<std::string>{"ADDED seed", "ADDED live", "MODIFIED live",
                                            "DELETED live"}));
}

TEST_F(KubeClientTest, WatchFromAnExpiredVersionSaysSoAndARelistRecovers) {
  EnsureNamespace("kc-expired");
  auto list = client_->List(configmaps_, "kc-expired");
  ASSERT_TRUE(list.ok());
  std::string old_rv = (*list)["metadata"]["resourceVersion"];
  // More changes than the cluster keeps (KUBE_SIM_WATCH_HISTORY=150).
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(client_
                    ->Apply(configmaps_, "kc-expired",
                            ConfigMap("churn", {{"i", std::to_string(i)}}), "test")
                    .ok());
  }
  bool expired = false;
  Status s = client_->Watch(configmaps_, "kc-expired", old_rv, {}, 60s, [&](const WatchEvent& e) {
    expired |= e.Expired();
    return !e.Expired();
  });
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_TRUE(expired);

  // The caller lists again and watches from the list's version; the watch
  // ends cleanly at its timeout.
  list = client_->List(configmaps_, "kc-expired");
  ASSERT_TRUE(list.ok());
  int events = 0;
  s = client_->Watch(configmaps_, "kc-expired", (*list)["metadata"]["resourceVersion"], {}, 1s,
                     [&](const WatchEvent& e) {
                       if (e.type != "BOOKMARK") ++events;
                       return true;
                     });
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(events, 0);

  // A 410 answered to the request itself reaches the handler the same way.
  AddFault({{"pathRegex", "/namespaces/kc-expired/configmaps\\?watch=1"},
            {"status", 410},
            {"times", 1}});
  expired = false;
  s = client_->Watch(configmaps_, "kc-expired", "1", {}, 5s, [&](const WatchEvent& e) {
    expired |= e.Expired();
    return true;
  });
  ClearFaults();
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_TRUE(expired);
}

json ShellPod(const std::string& name, const std::string& script) {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", name}}},
          {"spec",
           {{"terminationGracePeriodSeconds", 1},
            {"containers", json::array({{{"name", "main"},
                                         {"image", "kube-sim/host:latest"},
                                         {"command", {"/bin/sh", "-c", script}}}})}}}};
}

bool PodReady(KubeClient& client, const ResourceRef& pods, const std::string& ns,
              const std::string& name) {
  auto pod = client.Get(pods, ns, name);
  if (!pod.ok() || !pod->has_value()) return false;
  const json& status = (**pod)["status"];
  if (status.value("phase", "") != "Running" || !status.contains("containerStatuses")) return false;
  return status["containerStatuses"][0].value("ready", false);
}

TEST_F(KubeClientTest, PodLogsAndExec) {
  EnsureNamespace("kc-pods");
  ASSERT_TRUE(client_
                  ->Create(pods_, "kc-pods",
                           ShellPod("shell", "echo first; echo second; exec sleep infinity"))
                  .ok());
  ASSERT_TRUE(
      client_
          ->Create(
              pods_, "kc-pods",
              ShellPod("ticker", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done"))
          .ok());
  ASSERT_TRUE(WaitUntil(120s, [&] { return PodReady(*client_, pods_, "kc-pods", "shell"); }));
  ASSERT_TRUE(WaitUntil(120s, [&] { return PodReady(*client_, pods_, "kc-pods", "ticker"); }));

  std::vector<std::string> lines;
  ASSERT_TRUE(WaitUntil(30s, [&] {
    lines.clear();
    Status s = client_->PodLogs("kc-pods", "shell", "", /*follow=*/false, std::nullopt,
                                [&](const std::string& l) {
                                  lines.push_back(l);
                                  return true;
                                });
    return s.ok() && lines.size() >= 2;
  }));
  EXPECT_EQ(lines, (std::vector<std::string>{"first", "second"}));

  lines.clear();
  ASSERT_TRUE(client_
                  ->PodLogs("kc-pods", "shell", "main", false, 1,
                            [&](const std::string& l) {
                              lines.push_back(l);
                              return true;
                            })
                  .ok());
  EXPECT_EQ(lines, (std::vector<std::string>{"second"}));

  // follow: new lines keep coming until the sink has had enough.
  lines.clear();
  Status followed =
      client_->PodLogs("kc-pods", "ticker", "", /*follow=*/true, 1, [&](const std::string& l) {
        lines.push_back(l);
        return lines.size() < 5;
      });
  ASSERT_TRUE(followed.ok()) << followed.message();
  ASSERT_EQ(lines.size(), 5u);
  for (size_t i = 1; i < lines.size(); ++i) {
    int prev = std::stoi(lines[i - 1].substr(5)), cur = std::stoi(lines[i].substr(5));
    EXPECT_EQ(cur, prev + 1) << "lines arrive in order, none lost";
  }

  auto run =
      client_->Exec("kc-pods", "shell", "", {"/bin/sh", "-c", "echo out; echo err >&2; exit 3"});
  ASSERT_TRUE(run.ok()) << run.status().message();
  EXPECT_EQ(run->exit_code, 3);
  EXPECT_EQ(run->out, "out\n");
  EXPECT_EQ(run->err, "err\n");

  run = client_->Exec("kc-pods", "shell", "main",
                      {"/bin/sh", "-c", "echo $(hostname) \"$0\"", "a b&c=d"});
  ASSERT_TRUE(run.ok()) << run.status().message();
  EXPECT_EQ(run->exit_code, 0);
  EXPECT_EQ(run->out, "shell a b&c=d\n");  // arguments arrive intact

  run = client_->Exec("kc-pods", "shell", "",
                      {"/bin/sh", "-c", "head -c 300000 /dev/zero | tr '\\0' x"});
  ASSERT_TRUE(run.ok()) << run.status().message();
  EXPECT_EQ(run->out.size(), 300000u);

  run = client_->Exec("kc-pods", "shell", "nope", {"true"});
  ASSERT_FALSE(run.ok());
  EXPECT_NE(run.status().message().find("container nope is not valid"), std::string::npos)
      << run.status().message();

  run = client_->Exec("kc-pods", "missing", "", {"true"});
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.status().code(), ErrorCode::kNotFound) << run.status().message();

  // The exec connection verifies TLS like the HTTP one: tls-server-name
  // that the certificate names works, one it does not name fails.
  KubeConnection by_name = AdminConnection();
  by_name.tls_server_name = "kubernetes.default.svc";
  run = Connect(by_name)->Exec("kc-pods", "shell", "", {"true"});
  ASSERT_TRUE(run.ok()) << run.status().message();
  by_name.tls_server_name = "wrong.example";
  run = Connect(by_name)->Exec("kc-pods", "shell", "", {"true"});
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.status().code(), ErrorCode::kIOError);
  EXPECT_NE(run.status().message().find("TLS"), std::string::npos) << run.status().message();

  // And through a proxy named by the kubeconfig.
  ConnectProxy proxy;
  KubeConnection proxied = AdminConnection();
  proxied.proxy_url = proxy.Url();
  run = Connect(proxied)->Exec("kc-pods", "shell", "", {"echo", "via proxy"});
  ASSERT_TRUE(run.ok()) << run.status().message();
  EXPECT_EQ(run->out, "via proxy\n");
  EXPECT_EQ(proxy.Tunnels(), 1);

  ASSERT_TRUE(client_->Delete(pods_, "kc-pods", "ticker", true, "Background", 0).ok());
}

TEST_F(KubeClientTest, ErrorsNameTheProblem) {
  EnsureNamespace("kc-errors");
  // 404
  auto missing = client_->Request("GET", "/api/v1/namespaces/kc-errors/configmaps/nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);

  // 422 names the field.
  auto invalid = client_->Create(configmaps_, "kc-errors", ConfigMap("Not_Valid", {{"a", "b"}}));
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.status().code(), ErrorCode::kInvalidInput);
  EXPECT_NE(invalid.status().message().find("metadata.name"), std::string::npos)
      << invalid.status().message();

  // 401: a token the cluster does not know.
  KubeConnection bad_token = AdminConnection();
  bad_token.token = "not-a-token";
  auto unauthorized = Connect(bad_token)->List(configmaps_, "kc-errors");
  ASSERT_FALSE(unauthorized.ok());
  EXPECT_EQ(unauthorized.status().code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(
      unauthorized.status().message().find("unauthorized (401): credentials rejected or expired"),
      std::string::npos)
      << unauthorized.status().message();

  // 403: a service account without permissions; the message names what is missing.
  ResourceRef sas = MustResolve("v1", "ServiceAccount");
  ASSERT_TRUE(client_
                  ->Apply(sas, "kc-errors",
                          {{"apiVersion", "v1"},
                           {"kind", "ServiceAccount"},
                           {"metadata", {{"name", "nobody"}}}},
                          "test")
                  .ok());
  auto token = client_->Request("POST", "/api/v1/namespaces/kc-errors/serviceaccounts/nobody/token",
                                json{{"apiVersion", "authentication.k8s.io/v1"},
                                     {"kind", "TokenRequest"},
                                     {"spec", json::object()}});
  ASSERT_TRUE(token.ok()) << token.status().message();
  KubeConnection nobody = AdminConnection();
  nobody.token = (*token)["status"]["token"];
  auto forbidden = Connect(nobody)->List(configmaps_, "kc-errors");
  ASSERT_FALSE(forbidden.ok());
  EXPECT_EQ(forbidden.status().code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(forbidden.status().message().find("forbidden (403)"), std::string::npos)
      << forbidden.status().message();
  EXPECT_NE(forbidden.status().message().find("system:serviceaccount:kc-errors:nobody"),
            std::string::npos)
      << forbidden.status().message();
  EXPECT_NE(forbidden.status().message().find("cannot list resource \"configmaps\""),
            std::string::npos)
      << forbidden.status().message();
  auto exec_forbidden = Connect(nobody)->Exec("kc-errors", "any", "", {"true"});
  ASSERT_FALSE(exec_forbidden.ok());
  EXPECT_EQ(exec_forbidden.status().code(), ErrorCode::kPermissionDenied)
      << exec_forbidden.status().message();

  // Unreachable: a port nobody listens on.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  KubeConnection closed = AdminConnection();
  closed.server = "https://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  auto unreachable = Connect(closed)->List(configmaps_, "kc-errors");
  ASSERT_FALSE(unreachable.ok());
  EXPECT_EQ(unreachable.status().code(), ErrorCode::kUnavailable);
  EXPECT_NE(unreachable.status().message().find("kubernetes API " + closed.server + " unreachable"),
            std::string::npos)
      << unreachable.status().message();
  EXPECT_NE(unreachable.status().message().find("check --kubeconfig/--context"), std::string::npos);
  auto exec_unreachable = Connect(closed)->Exec("kc-errors", "any", "", {"true"});
  ASSERT_FALSE(exec_unreachable.ok());
  EXPECT_EQ(exec_unreachable.status().code(), ErrorCode::kUnavailable)
      << exec_unreachable.status().message();
}

TEST_F(KubeClientTest, TransientFaultsAreRetried) {
  EnsureNamespace("kc-faults");
  ASSERT_TRUE(client_->Apply(configmaps_, "kc-faults", ConfigMap("f1", {{"a", "1"}}), "test").ok());
  const std::string path = "/api/v1/namespaces/kc-faults/configmaps/f1";
  auto deadline = [] { return std::chrono::steady_clock::now() + 60s; };
  using Got = std::optional<json>;

  // 500 twice: each is kUnavailable; Retrying gets through on the third attempt.
  AddFault({{"method", "GET"}, {"path", path}, {"status", 500}, {"times", 2}});
  auto first = client_->Get(configmaps_, "kc-faults", "f1");
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.status().code(), ErrorCode::kUnavailable);
  EXPECT_NE(first.status().message().find("server error (500)"), std::string::npos)
      << first.status().message();
  int attempts = 0;
  auto got = Retrying<Got>(deadline(), [&] {
    ++attempts;
    return client_->Get(configmaps_, "kc-faults", "f1");
  });
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(attempts, 2);
  ClearFaults();

  // 429 carries Retry-After, which the message and Retrying honour.
  AddFault({{"method", "GET"}, {"path", path}, {"status", 429}, {"retryAfter", 1}, {"times", 2}});
  auto limited = client_->Get(configmaps_, "kc-faults", "f1");
  ASSERT_FALSE(limited.ok());
  EXPECT_EQ(limited.status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(RetryAfterHint(limited.status()), std::chrono::milliseconds(1000))
      << limited.status().message();
  attempts = 0;
  got = Retrying<Got>(deadline(), [&] {
    ++attempts;
    return client_->Get(configmaps_, "kc-faults", "f1");
  });
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(attempts, 2);
  ClearFaults();

  // A request never answered: the client's timeout, then a retry that works.
  KubeConnection impatient = AdminConnection();
  impatient.request_timeout = 2s;
  auto quick = Connect(impatient);
  AddFault({{"method", "GET"}, {"path", path}, {"timeout", true}, {"times", 1}});
  auto hung = quick->Get(configmaps_, "kc-faults", "f1");
  ASSERT_FALSE(hung.ok());
  EXPECT_EQ(hung.status().code(), ErrorCode::kUnavailable);
  EXPECT_NE(hung.status().message().find("no answer within 2 s"), std::string::npos)
      << hung.status().message();
  AddFault({{"method", "GET"}, {"path", path}, {"delayMs", 5000}, {"times", 1}});
  got = Retrying<Got>(deadline(), [&] { return quick->Get(configmaps_, "kc-faults", "f1"); });
  ASSERT_TRUE(got.ok()) << got.status().message();
  ASSERT_TRUE(got->has_value());

  // Writes are retried the same way.
  AddFault({{"method", "PATCH"}, {"path", path}, {"status", 500}, {"times", 1}});
  Status applied = Retrying(deadline(), [&] {
    return client_->Apply(configmaps_, "kc-faults", ConfigMap("f1", {{"a", "2"}}), "test").status();
  });
  ASSERT_TRUE(applied.ok()) << applied.message();
  ClearFaults();
}

}  // namespace
}  // namespace kubetest
}  // namespace zkpilot

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new zkpilot::kubetest::KubeSimEnvironment);
  return RUN_ALL_TESTS();
}
