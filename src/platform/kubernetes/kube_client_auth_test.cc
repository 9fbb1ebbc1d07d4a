// How a KubeClient authenticates and reaches kube-sim: kubeconfig variants
// (CA file/data, client certificates, tokens, token files, exec plugins,
// merged KUBECONFIG lists), the in-cluster service account, TLS
// verification, and proxies.
#include <gtest/gtest.h>

#include "platform/kubernetes/kube_client.h"
#include "platform/kubernetes/kube_client_testenv.h"
#include "platform/kubernetes/kubeconfig.h"

namespace zkpilot {
namespace kubetest {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

class KubeClientAuthTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = MakeTempDir("kube-client-auth"); }
  void TearDown() override { fs::remove_all(dir_); }

  // A kubeconfig (JSON is YAML) with one cluster, one user and one context.
  std::string Kubeconfig(const std::string& name, json cluster, json user,
                         const std::string& ns = "") {
    cluster["server"] = Sim().server;
    json context = {{"cluster", "sim"}, {"user", "u"}};
    if (!ns.empty()) context["namespace"] = ns;
    json config = {{"apiVersion", "v1"},
                   {"kind", "Config"},
                   {"clusters", {{{"name", "sim"}, {"cluster", cluster}}}},
                   {"users", {{{"name", "u"}, {"user", user}}}},
                   {"contexts", {{{"name", "ctx"}, {"context", context}}}},
                   {"current-context", "ctx"}};
    return WriteFile(dir_ + "/" + name, config.dump(2));
  }

  static json CaData() { return {{"certificate-authority-data", EncodeBase64(Sim().ca_pem)}}; }

  static Result<KubeConnection> Load(const std::string& kubeconfig,
                                     const std::string& context = "") {
    KubeConfigOptions options;
    options.kubeconfig = kubeconfig;
    options.context = context;
    return LoadKubeConnection(options);
  }

  // Who the API server says we are (SelfSubjectReview), or the error.
  static Result<std::string> WhoAmI(KubeClient& client) {
    auto review = client.Request(
        "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
        json{{"apiVersion", "authentication.k8s.io/v1"}, {"kind", "SelfSubjectReview"}});
    if (!review.ok()) return review.status();
    return (*review)["status"]["userInfo"]["username"].get<std::string>();
  }
  static Result<std::string> WhoAmI(const KubeConnection& connection) {
    auto client = KubeClient::Create(connection);
    if (!client.ok()) return client.status();
    return WhoAmI(**client);
  }

  // A service account's token from the TokenRequest API.
  static std::string ServiceAccountToken(const std::string& ns, const std::string& name) {
    auto admin = Connect(AdminConnection());
    auto nsref = admin->Resolve("v1", "Namespace");
    auto saref = admin->Resolve("v1", "ServiceAccount");
    EXPECT_TRUE(
        admin
            ->Apply(*nsref, "",
                    {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}},
                    "test")
            .ok());
    EXPECT_TRUE(
        admin
            ->Apply(
                *saref, ns,
                {{"apiVersion", "v1"}, {"kind", "ServiceAccount"}, {"metadata", {{"name", name}}}},
                "test")
            .ok());
    auto token =
        admin->Request("POST", "/api/v1/namespaces/" + ns + "/serviceaccounts/" + name + "/token",
                       json{{"apiVersion", "authentication.k8s.io/v1"},
                            {"kind", "TokenRequest"},
                            {"spec", json::object()}});
    EXPECT_TRUE(token.ok()) << token.status().message();
    return token.ok() ? (*token)["status"]["token"].get<std::string>() : "";
  }

  // An exec credential plugin: a script that answers with the file
  // answer-<run> if it exists, else answer, and records each run's
  // KUBERNETES_EXEC_INFO and its PLUGIN_GREETING (set by the kubeconfig's env).
  std::string Plugin() {
    return WriteFile(
        dir_ + "/bin/plugin",
        "#!/bin/bash\n"
        "set -e\n"
        "d=\"$(dirname \"$0\")/..\"\n"
        "n=$(( $(cat \"$d/runs\" 2>/dev/null || echo 0) + 1 ))\n"
        "echo $n > \"$d/runs\"\n"
        "printf '%s' \"$KUBERNETES_EXEC_INFO\" > \"$d/info\"\n"
        "printf '%s %s' \"$PLUGIN_GREETING\" \"$*\" > \"$d/env\"\n"
        "if [[ -f \"$d/fail\" ]]; then echo \"plugin: login expired, run login\" >&2; exit 4; fi\n"
        "if [[ -f \"$d/answer-$n\" ]]; then cat \"$d/answer-$n\"; else cat \"$d/answer\"; fi\n",
        0755);
  }
  int PluginRuns() {
    auto text = ReadFile(dir_ + "/runs");
    return text.ok() ? std::stoi(*text) : 0;
  }
  void PluginAnswer(const std::string& file, json status,
                    const std::string& api_version = "client.authentication.k8s.io/v1") {
    WriteFile(
        dir_ + "/" + file,
        json{{"apiVersion", api_version}, {"kind", "ExecCredential"}, {"status", status}}.dump());
  }
  json PluginUser(const std::string& api_version = "client.authentication.k8s.io/v1") {
    return {{"exec",
             {{"apiVersion", api_version},
              {"command", "./bin/plugin"},  // relative to the kubeconfig's directory
              {"args", {"--cluster", "sim"}},
              {"env", {{{"name", "PLUGIN_GREETING"}, {"value", "hello"}}}},
              {"provideClusterInfo", true},
              {"interactiveMode", "Never"}}}};
  }

  std::string dir_;
};

TEST_F(KubeClientAuthTest, TokenAndClientCertificateContextsOfTheClustersKubeconfig) {
  auto token = WhoAmI(AdminConnection());
  ASSERT_TRUE(token.ok()) << token.status().message();
  EXPECT_EQ(*token, "kube-sim-admin");

  KubeConnection cert = AdminConnection("kube-sim-cert");
  EXPECT_TRUE(cert.token.empty());
  EXPECT_FALSE(cert.client_cert_pem.empty());
  auto by_cert = WhoAmI(cert);
  ASSERT_TRUE(by_cert.ok()) << by_cert.status().message();
  EXPECT_EQ(*by_cert, "kube-sim-admin");
}

TEST_F(KubeClientAuthTest, CertificateFilesAndCaFileRelativeToTheKubeconfig) {
  WriteFile(dir_ + "/pki/ca.pem", Sim().ca_pem);
  WriteFile(dir_ + "/pki/client.pem", Sim().cert_pem);
  WriteFile(dir_ + "/pki/client-key.pem", Sim().key_pem);
  std::string path =
      Kubeconfig("files.yaml", {{"certificate-authority", "pki/ca.pem"}},
                 {{"client-certificate", "pki/client.pem"}, {"client-key", "pki/client-key.pem"}});
  auto c = Load(path);
  ASSERT_TRUE(c.ok()) << c.status().message();
  auto who = WhoAmI(*c);
  ASSERT_TRUE(who.ok()) << who.status().message();
  EXPECT_EQ(*who, "kube-sim-admin");
}

TEST_F(KubeClientAuthTest, TlsVerificationIsOn) {
  // Another CA than the cluster's: refused, whatever the credentials.
  std::string out;
  ASSERT_EQ(RunShell("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                     "-days 1 -subj /CN=other "
                     "-keyout " +
                         dir_ + "/other.key -out " + dir_ + "/other.pem",
                     &out),
            0)
      << out;
  auto other_ca = ReadFile(dir_ + "/other.pem");
  ASSERT_TRUE(other_ca.ok());
  KubeConnection wrong = AdminConnection();
  wrong.ca_pem = *other_ca;
  auto refused = WhoAmI(wrong);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kIOError);
  EXPECT_NE(refused.status().message().find("TLS"), std::string::npos)
      << refused.status().message();
  EXPECT_NE(refused.status().message().find("certificate-authority"), std::string::npos)
      << refused.status().message();

  // No CA at all: the system's CAs, which do not know the cluster's.
  KubeConnection system_cas = AdminConnection();
  system_cas.ca_pem.clear();
  auto unknown = WhoAmI(system_cas);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), ErrorCode::kIOError) << unknown.status().message();

  // Only when the kubeconfig says insecure-skip-tls-verify.
  std::string insecure =
      Kubeconfig("insecure.yaml", {{"insecure-skip-tls-verify", true}}, {{"token", Sim().token}});
  auto c = Load(insecure);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_TRUE(WhoAmI(*c).ok());

  // The host is checked: tls-server-name the certificate names works, another fails.
  std::string named = Kubeconfig("named.yaml",
                                 {{"certificate-authority-data", EncodeBase64(Sim().ca_pem)},
                                  {"tls-server-name", "kubernetes.default.svc"}},
                                 {{"token", Sim().token}});
  c = Load(named);
  ASSERT_TRUE(c.ok()) << c.status().message();
  auto who = WhoAmI(*c);
  EXPECT_TRUE(who.ok()) << who.status().message();
  c->tls_server_name = "wrong.example";
  auto mismatch = WhoAmI(*c);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.status().code(), ErrorCode::kIOError) << mismatch.status().message();
}

TEST_F(KubeClientAuthTest, TokenFileIsReadAgainWhenItChanges) {
  std::string token_file = WriteFile(dir_ + "/token", Sim().token + "\n");
  auto c = Load(Kubeconfig("tf.yaml", CaData(), {{"tokenFile", "token"}}));
  ASSERT_TRUE(c.ok()) << c.status().message();
  auto client = Connect(*c);
  EXPECT_TRUE(WhoAmI(*client).ok());

  WriteFile(token_file, "rotated-away\n");
  auto rejected = WhoAmI(*client);
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.status().code(), ErrorCode::kPermissionDenied);

  std::string sa_token = ServiceAccountToken("kc-tokenfile", "rotated");
  WriteFile(token_file, sa_token);
  auto who = WhoAmI(*client);
  ASSERT_TRUE(who.ok()) << who.status().message();
  EXPECT_EQ(*who, "system:serviceaccount:kc-tokenfile:rotated");
}

TEST_F(KubeClientAuthTest, ExecPluginTokenIsCachedUntilItExpires) {
  Plugin();
  PluginAnswer("answer", {{"token", Sim().token}, {"expirationTimestamp", "2999-01-01T00:00:00Z"}});
  auto c = Load(Kubeconfig("exec.yaml", CaData(), PluginUser()));
  ASSERT_TRUE(c.ok()) << c.status().message();
  auto client = Connect(*c);
  ASSERT_TRUE(WhoAmI(*client).ok());
  ASSERT_TRUE(WhoAmI(*client).ok());
  EXPECT_EQ(PluginRuns(), 1);

  // What the plugin was given: args, env, and the request with the cluster.
  auto env = ReadFile(dir_ + "/env");
  EXPECT_EQ(*env, "hello --cluster sim");
  json info = json::parse(*ReadFile(dir_ + "/info"));
  EXPECT_EQ(info["kind"], "ExecCredential");
  EXPECT_EQ(info["apiVersion"], "client.authentication.k8s.io/v1");
  EXPECT_EQ(info["spec"]["interactive"], false);
  EXPECT_EQ(info["spec"]["cluster"]["server"], Sim().server);
  EXPECT_EQ(*DecodeBase64(info["spec"]["cluster"]["certificate-authority-data"]), Sim().ca_pem);

  // An expired credential is asked for again at the next request.
  PluginAnswer("answer", {{"token", Sim().token}, {"expirationTimestamp", "2000-01-01T00:00:00Z"}});
  auto again = Connect(*c);
  ASSERT_TRUE(WhoAmI(*again).ok());
  ASSERT_TRUE(WhoAmI(*again).ok());
  EXPECT_EQ(PluginRuns(), 3);
}

TEST_F(KubeClientAuthTest, ExecPluginRunsAgainOnceAfter401) {
  Plugin();
  PluginAnswer("answer-1", {{"token", "stale-token"}}, "client.authentication.k8s.io/v1beta1");
  PluginAnswer("answer", {{"token", Sim().token}}, "client.authentication.k8s.io/v1beta1");
  auto c =
      Load(Kubeconfig("exec.yaml", CaData(), PluginUser("client.authentication.k8s.io/v1beta1")));
  ASSERT_TRUE(c.ok()) << c.status().message();
  auto who = WhoAmI(*c);
  ASSERT_TRUE(who.ok()) << who.status().message();
  EXPECT_EQ(PluginRuns(), 2);

  // Still rejected after the second run: 401 to the caller, no loop.
  PluginAnswer("answer", {{"token", "still-wrong"}}, "client.authentication.k8s.io/v1beta1");
  fs::remove(dir_ + "/runs");
  auto rejected = WhoAmI(*c);
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.status().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(PluginRuns(), 2);
}

TEST_F(KubeClientAuthTest, ExecPluginClientCertificate) {
  Plugin();
  PluginAnswer("answer",
               {{"clientCertificateData", Sim().cert_pem}, {"clientKeyData", Sim().key_pem}});
  auto c = Load(Kubeconfig("exec.yaml", CaData(), PluginUser()));
  ASSERT_TRUE(c.ok()) << c.status().message();
  auto who = WhoAmI(*c);
  ASSERT_TRUE(who.ok()) << who.status().message();
  EXPECT_EQ(*who, "kube-sim-admin");
}

TEST_F(KubeClientAuthTest, ExecPluginFailuresAreClear) {
  Plugin();
  WriteFile(dir_ + "/fail", "");
  auto c = Load(Kubeconfig("exec.yaml", CaData(), PluginUser()));
  ASSERT_TRUE(c.ok()) << c.status().message();
  auto failed = WhoAmI(*c);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(failed.status().message().find("exited with 4: plugin: login expired, run login"),
            std::string::npos)
      << failed.status().message();

  json missing = PluginUser();
  missing["exec"]["command"] = "zkpilot-no-such-plugin";
  missing["exec"]["installHint"] = "install it from example.com";
  c = Load(Kubeconfig("missing.yaml", CaData(), missing));
  ASSERT_TRUE(c.ok()) << c.status().message();
  failed = WhoAmI(*c);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("cannot run it"), std::string::npos)
      << failed.status().message();
  EXPECT_NE(failed.status().message().find("install it from example.com"), std::string::npos);

  fs::remove(dir_ + "/fail");
  PluginAnswer("answer", {{"token", Sim().token}},
               "client.authentication.k8s.io/v1beta1");  // not what was asked
  c = Load(Kubeconfig("exec.yaml", CaData(), PluginUser()));
  failed = WhoAmI(*c);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("answered apiVersion"), std::string::npos)
      << failed.status().message();
}

TEST_F(KubeClientAuthTest, MergedKubeconfigListFirstFileWins) {
  // First file: a context of its own (the current one), and a user named
  // like the cluster's admin but with a wrong token, which shadows it.
  json first = {{"apiVersion", "v1"},
                {"kind", "Config"},
                {"users", {{{"name", "kube-sim-admin"}, {"user", {{"token", "shadowing-token"}}}}}},
                {"contexts",
                 {{{"name", "mine"},
                   {"context",
                    {{"cluster", "kube-sim"},
                     {"user", "kube-sim-admin-cert"},
                     {"namespace", "kc-merged"}}}}}},
                {"current-context", "mine"}};
  std::string first_path = WriteFile(dir_ + "/first.yaml", first.dump());
  std::string list = first_path + ":" + dir_ + "/absent.yaml:" + Sim().kubeconfig;
  ScopedEnv env("KUBECONFIG", list.c_str());

  auto c = LoadKubeConnection({});
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->context_name, "mine");
  EXPECT_EQ(c->default_namespace, "kc-merged");
  EXPECT_EQ(c->server, Sim().server);  // the cluster from the second file
  auto who = WhoAmI(*c);
  ASSERT_TRUE(who.ok()) << who.status().message();

  KubeConfigOptions other;
  other.context = "kube-sim";  // the second file's context, with the first file's user
  other.namespace_ = "flag-ns";
  c = LoadKubeConnection(other);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->token, "shadowing-token");
  EXPECT_EQ(c->default_namespace, "flag-ns");
  auto rejected = WhoAmI(*c);
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.status().code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(rejected.status().message().find("user \"kube-sim-admin\" of context \"kube-sim\""),
            std::string::npos)
      << rejected.status().message();
}

TEST_F(KubeClientAuthTest, InClusterServiceAccount) {
  std::string sa = dir_ + "/serviceaccount";
  WriteFile(sa + "/token", ServiceAccountToken("kc-incluster", "operator"));
  WriteFile(sa + "/ca.crt", Sim().ca_pem);
  WriteFile(sa + "/namespace", "kc-incluster");
  ScopedEnv sa_dir("ZKPILOT_SA_DIR", sa.c_str());
  ScopedEnv host("KUBERNETES_SERVICE_HOST", "127.0.0.1");
  ScopedEnv port("KUBERNETES_SERVICE_PORT", Sim().port.c_str());

  KubeConfigOptions options;
  options.in_cluster = true;
  auto c = LoadKubeConnection(options);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->default_namespace, "kc-incluster");
  auto client = Connect(*c);
  auto who = WhoAmI(*client);
  ASSERT_TRUE(who.ok()) << who.status().message();
  EXPECT_EQ(*who, "system:serviceaccount:kc-incluster:operator");

  // The kubelet rotates the projected token: the next request uses the new one.
  WriteFile(sa + "/token", ServiceAccountToken("kc-incluster", "successor"));
  who = WhoAmI(*client);
  ASSERT_TRUE(who.ok()) << who.status().message();
  EXPECT_EQ(*who, "system:serviceaccount:kc-incluster:successor");
}

TEST_F(KubeClientAuthTest, ProxiesFromTheKubeconfigAndTheEnvironment) {
  ConnectProxy proxy;
  std::string url = proxy.Url();
  {
    auto c = Load(
        Kubeconfig("proxied.yaml",
                   {{"certificate-authority-data", EncodeBase64(Sim().ca_pem)}, {"proxy-url", url}},
                   {{"token", Sim().token}}));
    ASSERT_TRUE(c.ok()) << c.status().message();
    ScopedEnv no_proxy("NO_PROXY", "127.0.0.1");  // the kubeconfig's proxy is used regardless
    auto who = WhoAmI(*c);
    ASSERT_TRUE(who.ok()) << who.status().message();
    EXPECT_EQ(proxy.Tunnels(), 1);
  }
  ScopedEnv no_lower("no_proxy", nullptr);
  {
    ScopedEnv https("HTTPS_PROXY", url.c_str());
    ScopedEnv no_proxy("NO_PROXY", nullptr);
    auto who = WhoAmI(AdminConnection());
    ASSERT_TRUE(who.ok()) << who.status().message();
    EXPECT_EQ(proxy.Tunnels(), 2);
  }
  {
    ScopedEnv https("https_proxy", url.c_str());
    ScopedEnv no_proxy("NO_PROXY", "example.com,127.0.0.0/8");
    auto who = WhoAmI(AdminConnection());
    ASSERT_TRUE(who.ok()) << who.status().message();
    EXPECT_EQ(proxy.Tunnels(), 2) << "NO_PROXY bypasses the proxy";
  }
}

}  // namespace
}  // namespace kubetest
}  // namespace zkpilot
