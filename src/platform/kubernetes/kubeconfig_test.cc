// Kubeconfig resolution and the client's pure pieces (URLs, proxies, error
// wording, retries), without a cluster.
#include "platform/kubernetes/kubeconfig.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "platform/kubernetes/exec_ws.h"
#include "platform/kubernetes/kube_client.h"
#include "platform/kubernetes/kube_client_credentials.h"
#include "platform/kubernetes/kube_client_http.h"
#include "platform/kubernetes/kube_client_testenv.h"

namespace zkpilot {
namespace {

namespace fs = std::filesystem;
using kubetest::ScopedEnv;

// A temporary directory, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "kubeconfig-test.XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& text) const {
    std::string p = path_ + "/" + name;
    fs::create_directories(fs::path(p).parent_path());
    std::ofstream(p) << text;
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

constexpr char kFirst[] = R"(apiVersion: v1
kind: Config
clusters:
  - name: prod
    cluster: {server: "https://prod.example:6443", certificate-authority: certs/ca.pem}
  - name: shared
    cluster: {server: "https://first.example"}
users:
  - name: alice
    user: {token: first-token}
  - name: files
    user: {tokenFile: tokens/t, client-certificate: c.pem, client-key: k.pem}
contexts:
  - name: prod
    context: {cluster: prod, user: alice, namespace: zk}
  - name: shared
    context: {cluster: shared, user: alice}
  - name: files
    context: {cluster: prod, user: files}
current-context: prod
)";

constexpr char kSecond[] = R"(apiVersion: v1
kind: Config
clusters:
  - name: shared
    cluster: {server: "https://second.example", certificate-authority-data: UEVN}
  - name: dev
    cluster: {server: "https://dev.example/", insecure-skip-tls-verify: true, proxy-url: "http://proxy:3128"}
users:
  - name: alice
    user: {token: second-token}
  - name: bob
    user:
      exec:
        apiVersion: client.authentication.k8s.io/v1
        command: ./bin/get-token
        args: [--cluster, dev]
        env: [{name: A, value: b}]
contexts:
  - name: dev
    context: {cluster: dev, user: bob}
current-context: dev
)";

TEST(Kubeconfig, MergedFilesFirstDefinitionWins) {
  TempDir dir;
  dir.Write("certs/ca.pem", "CA PEM");
  std::vector<KubeconfigFile> files = {{dir.path() + "/a", kFirst}, {dir.path() + "/b", kSecond}};

  auto c = ConnectionFromKubeconfig(files, {});
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->context_name, "prod");  // the first current-context
  EXPECT_EQ(c->server, "https://prod.example:6443");
  EXPECT_EQ(c->ca_pem, "CA PEM");  // relative to the file that defined it
  EXPECT_EQ(c->token, "first-token");
  EXPECT_EQ(c->default_namespace, "zk");

  KubeConfigOptions shared;
  shared.context = "shared";
  c = ConnectionFromKubeconfig(files, shared);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->server,
            "https://first.example");  // the first file's cluster "shared", not the second's
  EXPECT_EQ(c->ca_pem, "");
  EXPECT_EQ(c->default_namespace, "default");

  KubeConfigOptions dev;
  dev.context = "dev";
  dev.namespace_ = "other";
  c = ConnectionFromKubeconfig(files, dev);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->server, "https://dev.example");
  EXPECT_TRUE(c->insecure_skip_tls_verify);
  EXPECT_EQ(c->proxy_url, "http://proxy:3128");
  EXPECT_EQ(c->default_namespace, "other");
  EXPECT_EQ(c->exec["command"], dir.path() + "/bin/get-token");  // relative to the second file
  EXPECT_EQ(c->exec["args"][1], "dev");
}

TEST(Kubeconfig, CertificateDataAndFiles) {
  TempDir dir;
  dir.Write("c.pem", "CERT");
  dir.Write("k.pem", "KEY");
  KubeConfigOptions files_ctx;
  files_ctx.context = "files";
  dir.Write("certs/ca.pem", "CA");
  auto c = ConnectionFromKubeconfig({{dir.path() + "/a", kFirst}}, files_ctx);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->client_cert_pem, "CERT");
  EXPECT_EQ(c->client_key_pem, "KEY");
  EXPECT_EQ(c->token, "");
  EXPECT_EQ(c->token_file, dir.path() + "/tokens/t");  // kept as a path, read per request

  KubeConfigOptions shared;
  shared.context = "shared";
  c = ConnectionFromKubeconfig({{dir.path() + "/b", kSecond}, {dir.path() + "/a", kFirst}}, shared);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->ca_pem, "PEM");  // certificate-authority-data is base64
  EXPECT_EQ(c->token, "second-token");
}

struct BadConfig {
  const char* name;
  const char* yaml;
  const char* context;
  const char* message;  // a part of the error
};

TEST(Kubeconfig, ErrorsNameTheFileAndTheEntry) {
  const BadConfig cases[] = {
      {"unknown context", kFirst, "nope",
       "context \"nope\" not found (contexts: files, prod, shared)"},
      {"no current-context", "clusters: []\n", "", "no current-context; pass --context"},
      {"missing server",
       "clusters: [{name: c, cluster: {}}]\ncontexts: [{name: x, context: {cluster: "
       "c}}]\ncurrent-context: x\n",
       "", "cluster \"c\": server is required"},
      {"unknown cluster", "contexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x\n", "",
       "context \"x\": cluster \"c\" not found"},
      {"unknown user",
       "clusters: [{name: c, cluster: {server: 'https://h'}}]\n"
       "contexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n",
       "", "user \"u\" not found"},
      {"cert file and data",
       "clusters: [{name: c, cluster: {server: 'https://h'}}]\n"
       "users: [{name: u, user: {client-certificate: a, client-certificate-data: QQ==, "
       "client-key-data: QQ==}}]\n"
       "contexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n",
       "", "both client-certificate and client-certificate-data are given"},
      {"certificate without key",
       "clusters: [{name: c, cluster: {server: 'https://h'}}]\n"
       "users: [{name: u, user: {client-certificate-data: QQ==}}]\n"
       "contexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n",
       "", "needs its key"},
      {"unreadable CA file",
       "clusters: [{name: c, cluster: {server: 'https://h', certificate-authority: "
       "/nonexistent/ca.pem}}]\n"
       "contexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x\n",
       "", "certificate-authority: "},
      {"insecure with a CA",
       "clusters: [{name: c, cluster: {server: 'https://h', insecure-skip-tls-verify: true, "
       "certificate-authority-data: QQ==}}]\ncontexts: [{name: x, context: {cluster: "
       "c}}]\ncurrent-context: x\n",
       "", "insecure-skip-tls-verify together with a certificate-authority"},
      {"exec apiVersion",
       "clusters: [{name: c, cluster: {server: 'https://h'}}]\n"
       "users: [{name: u, user: {exec: {command: x, apiVersion: "
       "client.authentication.k8s.io/v1alpha1}}}]\n"
       "contexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n",
       "", "exec.apiVersion \"client.authentication.k8s.io/v1alpha1\" is not supported"},
      {"auth-provider",
       "clusters: [{name: c, cluster: {server: 'https://h'}}]\n"
       "users: [{name: u, user: {auth-provider: {name: gcp}}}]\n"
       "contexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n",
       "", "auth-provider is not supported"},
      {"not YAML", "clusters: [\n", "", "kubeconfig "},
  };
  for (const auto& tc : cases) {
    KubeConfigOptions options;
    options.context = tc.context;
    auto c = ConnectionFromKubeconfig({{"/cfg/kubeconfig", tc.yaml}}, options);
    ASSERT_FALSE(c.ok()) << tc.name;
    EXPECT_EQ(c.status().code(), ErrorCode::kInvalidInput) << tc.name;
    EXPECT_NE(c.status().message().find(tc.message), std::string::npos)
        << tc.name << ": " << c.status().message();
    EXPECT_NE(c.status().message().find("/cfg/kubeconfig"), std::string::npos)
        << tc.name << ": " << c.status().message();
  }
}

TEST(Kubeconfig, KubeconfigListSkipsMissingFiles) {
  TempDir dir;
  std::string a = dir.Write("a", kFirst);
  std::string b = dir.Write("b", kSecond);
  std::string list = dir.path() + "/missing:" + b + "::" + a + ":" + b;
  ScopedEnv env("KUBECONFIG", list.c_str());
  auto paths = KubeconfigPaths({});
  ASSERT_TRUE(paths.ok());
  EXPECT_EQ(*paths, (std::vector<std::string>{b, a}));

  dir.Write("certs/ca.pem", "CA");
  auto c = LoadKubeConnection({});
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->context_name, "dev");  // b comes first: its current-context wins

  KubeConfigOptions explicit_file;
  explicit_file.kubeconfig = a;  // --kubeconfig: that file only, KUBECONFIG ignored
  c = LoadKubeConnection(explicit_file);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->context_name, "prod");

  explicit_file.kubeconfig = dir.path() + "/nope";
  c = LoadKubeConnection(explicit_file);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(c.status().message().find("--kubeconfig " + dir.path() + "/nope: no such file"),
            std::string::npos);
}

TEST(Kubeconfig, NoConfigurationAtAll) {
  TempDir home;
  ScopedEnv h("HOME", home.path().c_str());
  ScopedEnv k("KUBECONFIG", nullptr);
  ScopedEnv s("KUBERNETES_SERVICE_HOST", nullptr);
  auto c = LoadKubeConnection({});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(
      c.status().message().find("no Kubernetes configuration: set KUBECONFIG or pass --kubeconfig"),
      std::string::npos)
      << c.status().message();

  ScopedEnv k2("KUBECONFIG", "/nonexistent/a:/nonexistent/b");
  c = LoadKubeConnection({});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("no file of KUBECONFIG=/nonexistent/a:/nonexistent/b exists"),
            std::string::npos)
      << c.status().message();

  KubeConfigOptions in_cluster;
  in_cluster.in_cluster = true;
  c = LoadKubeConnection(in_cluster);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(c.status().message().find("KUBERNETES_SERVICE_HOST"), std::string::npos);
}

TEST(Kubeconfig, InClusterServiceAccount) {
  TempDir sa;
  sa.Write("token", "sa-token\n");
  sa.Write("ca.crt", "CA");
  sa.Write("namespace", "zk-system\n");
  ScopedEnv dir("ZKPILOT_SA_DIR", sa.path().c_str());
  ScopedEnv host("KUBERNETES_SERVICE_HOST", "10.96.0.1");
  ScopedEnv port("KUBERNETES_SERVICE_PORT", "443");
  ScopedEnv home("HOME", sa.path().c_str());
  ScopedEnv k("KUBECONFIG", nullptr);

  auto c = LoadKubeConnection({});  // no kubeconfig anywhere: the service account
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->server, "https://10.96.0.1:443");
  EXPECT_EQ(c->token_file, sa.path() + "/token");
  EXPECT_EQ(c->ca_pem, "CA");
  EXPECT_EQ(c->default_namespace, "zk-system");

  KubeConfigOptions with_ns;
  with_ns.in_cluster = true;
  with_ns.namespace_ = "elsewhere";
  c = LoadKubeConnection(with_ns);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->default_namespace, "elsewhere");
}

TEST(Kubeconfig, Base64RoundTrips) {
  for (std::string s : {"", "a", "ab", "abc", "abcd", "-----BEGIN CERTIFICATE-----\n\xff\x00x"}) {
    auto back = DecodeBase64(EncodeBase64(s));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, s);
  }
  EXPECT_EQ(*DecodeBase64("YWJj\nZA=="), "abcd");
  EXPECT_EQ(*DecodeBase64("YWJjZA"), "abcd");  // unpadded
  EXPECT_FALSE(DecodeBase64("YW*j").ok());
}

TEST(KubeClientHttp, ServerUrls) {
  auto u = ParseServerUrl("https://[fd00::1]:6443/prefix/");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "fd00::1");
  EXPECT_EQ(u->port, "6443");
  EXPECT_EQ(u->prefix, "/prefix");
  u = ParseServerUrl("https://api.example");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->port, "443");
  EXPECT_FALSE(ParseServerUrl("api.example").ok());
}

TEST(KubeClientHttp, NoProxyMatchesAsLibcurlDoes) {
  struct Case {
    const char* no_proxy;
    const char* host;
    bool bypass;
  } cases[] = {
      {"", "api.example", false},
      {"*", "api.example", true},
      {"example", "api.example", true},
      {".example", "api.example", true},
      {"example", "apiexample", false},
      {"api.example", "api.example", true},
      {"other, 127.0.0.1", "127.0.0.1", true},
      {"10.0.0.0/8", "10.1.2.3", true},
      {"10.0.0.0/8", "11.1.2.3", false},
      {"127.0.0.1/32", "127.0.0.2", false},
      {"localhost", "127.0.0.1", false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(NoProxyMatches(c.no_proxy, c.host), c.bypass) << c.no_proxy << " / " << c.host;
  }
  KubeConnection with_proxy;
  with_proxy.proxy_url = "http://p:1";
  ScopedEnv no("NO_PROXY", "*");
  EXPECT_EQ(ProxyFor(with_proxy, "api.example"),
            "http://p:1");  // the kubeconfig's proxy ignores NO_PROXY
  KubeConnection plain;
  ScopedEnv https("https_proxy", "http://envproxy:3128");
  EXPECT_EQ(ProxyFor(plain, "api.example"), "");
  ScopedEnv no2("NO_PROXY", "other.example");
  EXPECT_EQ(ProxyFor(plain, "api.example"), "http://envproxy:3128");
}

TEST(KubeClientHttp, ErrorsSayWhatAPersonNeeds) {
  KubeConnection c;
  c.server = "https://10.0.0.1:6443";
  c.context_name = "prod";
  c.user_name = "alice";
  auto status = [](int code, const std::string& message, const std::string& extra = "") {
    return "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"code\":" +
           std::to_string(code) + ",\"message\":\"" + message + "\"" + extra + "}";
  };
  Status s = ErrorFromAnswer(c, "GET /api/v1/pods", 401, status(401, "Unauthorized"), std::nullopt);
  EXPECT_EQ(s.code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(s.message(),
            "kubernetes API: unauthorized (401): credentials rejected or expired (user \"alice\" "
            "of context \"prod\")");

  s = ErrorFromAnswer(
      c, "PATCH /x", 403,
      status(403,
             "statefulsets.apps \\\"zk\\\" is forbidden: User \\\"bob\\\" cannot patch resource"),
      std::nullopt);
  EXPECT_EQ(s.code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(s.message(),
            "kubernetes API: forbidden (403): statefulsets.apps \"zk\" is forbidden: User \"bob\" "
            "cannot patch resource");

  s = ErrorFromAnswer(c, "GET /x", 404, status(404, "configmaps \\\"x\\\" not found"),
                      std::nullopt);
  EXPECT_EQ(s.code(), ErrorCode::kNotFound);

  s = ErrorFromAnswer(
      c, "PATCH /x", 409,
      status(409, "Apply failed with 1 conflict: conflict with \\\"m1\\\": .data.a"), std::nullopt);
  EXPECT_EQ(s.code(), ErrorCode::kConflict);
  EXPECT_NE(s.message().find("conflict with \"m1\": .data.a"), std::string::npos);

  s = ErrorFromAnswer(
      c, "POST /x", 422,
      status(422, "Deployment \\\"d\\\" is invalid: spec.replicas: Invalid value",
             ",\"details\":{\"causes\":[{\"field\":\"spec.replicas\",\"message\":\"m\"},"
             "{\"field\":\"spec.template\",\"message\":\"bad template\"}]}"),
      std::nullopt);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(
      s.message(),
      "kubernetes API: invalid (422): Deployment \"d\" is invalid: spec.replicas: Invalid value; "
      "spec.template: bad template");

  s = ErrorFromAnswer(c, "GET /x", 429, status(429, "slow down"), 3);
  EXPECT_EQ(s.code(), ErrorCode::kUnavailable);
  EXPECT_EQ(RetryAfterHint(s), std::chrono::milliseconds(3000));

  s = ErrorFromAnswer(c, "GET /x", 503, "upstream gone", std::nullopt);
  EXPECT_EQ(s.code(), ErrorCode::kUnavailable);
  EXPECT_EQ(s.message(), "kubernetes API: GET /x: server error (503): upstream gone");
  EXPECT_FALSE(RetryAfterHint(s));

  s = UnreachableError(c, "Connection refused");
  EXPECT_EQ(s.code(), ErrorCode::kUnavailable);
  EXPECT_EQ(s.message(),
            "kubernetes API https://10.0.0.1:6443 unreachable: Connection refused (context "
            "\"prod\", check "
            "--kubeconfig/--context)");
}

TEST(Retrying, BackoffDoublesTo5sAndHonoursRetryAfter) {
  Status unavailable = Status::Unavailable("x");
  std::vector<int> waits;
  for (int i = 0; i < 7; ++i)
    waits.push_back(static_cast<int>(RetryBackoff(i, unavailable).count()));
  EXPECT_EQ(waits, (std::vector<int>{200, 400, 800, 1600, 3200, 5000, 5000}));
  EXPECT_EQ(RetryBackoff(0, Status::Unavailable("busy (retry after 2 s)")),
            std::chrono::milliseconds(2000));
}

TEST(Retrying, RetriesOnlyUnavailableUntilTheDeadline) {
  int calls = 0;
  auto far = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  Result<int> r = Retrying<int>(far, [&]() -> Result<int> {
    if (++calls < 3) return Status::Unavailable("down");
    return 7;
  });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 7);
  EXPECT_EQ(calls, 3);

  calls = 0;
  Status s = Retrying(far, [&]() -> Status {
    ++calls;
    return Status::Conflict("changed");
  });
  EXPECT_EQ(s.code(), ErrorCode::kConflict);
  EXPECT_EQ(calls, 1);

  calls = 0;
  s = Retrying(std::chrono::steady_clock::now() + std::chrono::milliseconds(500), [&]() -> Status {
    ++calls;
    return Status::Unavailable("still down");
  });
  EXPECT_EQ(s.code(), ErrorCode::kUnavailable);
  EXPECT_NE(s.message().find("gave up after"), std::string::npos);
  EXPECT_GE(calls, 2);
}

TEST(ExecStatus, ExitCodesFromTheStatusChannel) {
  EXPECT_EQ(*ExitCodeFromStatus(R"({"metadata":{},"status":"Success"})"), 0);
  EXPECT_EQ(*ExitCodeFromStatus(R"({"status":"Failure","reason":"NonZeroExitCode",
      "details":{"causes":[{"reason":"ExitCode","message":"3"}]}})"),
            3);
  auto failed = ExitCodeFromStatus(
      R"({"status":"Failure","reason":"InternalError","message":"no such file"})");
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("no such file"), std::string::npos);
}

TEST(ExecCredential, Rfc3339Times) {
  auto t = ParseRfc3339("2024-05-01T10:00:00Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(std::chrono::system_clock::to_time_t(*t), 1714557600);
  auto offset = ParseRfc3339("2024-05-01T12:00:00.250+02:00");
  ASSERT_TRUE(offset);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(*offset - *t).count(), 250);
  auto far = ParseRfc3339("2999-01-01T00:00:00Z");  // past system_clock's range: the end of time
  ASSERT_TRUE(far);
  EXPECT_GT(*far, std::chrono::system_clock::now() + std::chrono::hours(24 * 365 * 100));
  EXPECT_FALSE(ParseRfc3339("2024-05-01 10:00:00"));
  EXPECT_FALSE(ParseRfc3339("tomorrow"));
}

TEST(ResourcePaths, CoreGroupsNamespacesSubresources) {
  ResourceRef sts{"apps", "v1", "statefulsets", true, "StatefulSet"};
  EXPECT_EQ(ResourcePath(sts, "zk", "zk-1", "scale"),
            "/apis/apps/v1/namespaces/zk/statefulsets/zk-1/scale");
  EXPECT_EQ(ResourcePath(sts, ""), "/apis/apps/v1/statefulsets");
  ResourceRef ns{"", "v1", "namespaces", false, "Namespace"};
  EXPECT_EQ(ResourcePath(ns, "ignored", "zk"), "/api/v1/namespaces/zk");
  EXPECT_EQ(sts.ApiVersion(), "apps/v1");
  EXPECT_EQ(ns.ApiVersion(), "v1");
}

}  // namespace
}  // namespace zkpilot
