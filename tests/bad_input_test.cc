// Bad input, end to end: each case must exit 2, name what is at fault, and
// write nothing (no output directory, not even a half-written one).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "cli_runner.h"

namespace zkpilot {
namespace {

namespace fs = std::filesystem;
using testing::RunZkpilot;
using testing::TempDir;

const std::string kPackage = std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper";

void WriteFile(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

// A copy of the default package with one file replaced ("" deletes it).
std::string BrokenPackage(const TempDir& dir, const std::string& file, const std::string& content) {
  fs::path pkg = fs::path(dir.path()) / "pkg";
  fs::copy(kPackage, pkg, fs::copy_options::recursive);
  if (content.empty()) fs::remove(pkg / file);
  else WriteFile(pkg / file, content);
  return pkg.string();
}

struct BadInputCase {
  std::string name;
  // Builds the arguments after "render"; may create files in the temp dir.
  std::function<std::vector<std::string>(const TempDir&)> args;
  std::string expected;  // substring of the message
};
void PrintTo(const BadInputCase& c, std::ostream* os) { *os << c.name; }


class BadInput : public ::testing::TestWithParam<BadInputCase> {};

TEST_P(BadInput, ExitsTwoNamesTheFaultAndWritesNothing) {
  TempDir dir;
  std::vector<std::string> args = {"render"};
  for (auto& a : GetParam().args(dir)) args.push_back(a);
  const std::string out_dir = dir.path() + "/out";
  args.push_back("--output-dir");
  args.push_back(out_dir);
  auto r = RunZkpilot(args);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(GetParam().expected), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(out_dir)) << "output written despite the error";
  for (const auto& e : fs::directory_iterator(dir.path()))
    EXPECT_EQ(e.path().filename().string().find(".out.tmp"), std::string::npos) << "temporary output left behind";
}

std::vector<std::string> Render(std::vector<std::string> extra) {
  std::vector<std::string> a = {kPackage};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadInput,
    ::testing::Values(
        BadInputCase{"ZeroReplicas", [](auto&) { return Render({"--set", "replicas=0"}); },
                     "replicas: 0 is below the minimum 1"},
        BadInputCase{"NonNumericReplicas", [](auto&) { return Render({"--set", "replicas=abc"}); },
                     "replicas: expected integer (decimal digits, like 3), got \"abc\""},
        // Integers are decimal digits: what YAML or strtol would also read as 3 is refused.
        BadInputCase{"HexReplicas", [](auto&) { return Render({"--set", "replicas=0x3"}); },
                     "--set replicas=0x3: replicas: expected integer (decimal digits, like 3), got \"0x3\""},
        BadInputCase{"FractionReplicas", [](auto&) { return Render({"--set", "replicas=3.0"}); },
                     "replicas: expected integer (decimal digits, like 3), got \"3.0\""},
        BadInputCase{"PaddedReplicas", [](auto&) { return Render({"--set", "replicas= 3"}); },
                     "replicas: expected integer (decimal digits, like 3), got \" 3\""},
        BadInputCase{"SignedReplicas", [](auto&) { return Render({"--set", "replicas=+3"}); },
                     "replicas: expected integer (decimal digits, like 3), got \"+3\""},
        BadInputCase{"ExponentClientPort", [](auto&) { return Render({"--set", "clientPort=2e3"}); },
                     "clientPort: expected integer (decimal digits, like 3), got \"2e3\""},
        BadInputCase{"ValuesFileHexReplicas",
                     [](const TempDir& d) {
                       WriteFile(d.path() + "/values.yaml", "tickTime: 2000\nreplicas: 0x3\n");
                       return Render({"-f", d.path() + "/values.yaml"});
                     },
                     "values.yaml:2: replicas: expected integer (decimal digits, like 3), got \"0x3\""},
        BadInputCase{"ClientPortTooHigh", [](auto&) { return Render({"--set", "clientPort=70000"}); },
                     "clientPort: 70000 is above the maximum 65535"},
        BadInputCase{"UnknownParameter", [](auto&) { return Render({"--set", "replica=3"}); },
                     "unknown parameter replica (did you mean replicas?)"},
        BadInputCase{"UnlistedVersion", [](auto&) { return Render({"--set", "version=3.4.14"}); },
                     "version: \"3.4.14\" is not one of"},
        BadInputCase{"DaemonSetController", [](auto&) { return Render({"--set", "controller=daemonset"}); },
                     "controller: \"daemonset\" is not one of: statefulset, deployment"},
        BadInputCase{"ZooNavigatorNotAskedToWrite",
                     [](auto&) { return Render({"--set", "zoonavigator.enabled=true"}); },
                     "ZooNavigator 1.x cannot be made read-only and has no login of its own; set "
                     "zoonavigator.readOnly=false"},
        // Applied as rendered, the servers would have no JAAS file: the
        // operator makes it (platform/kubernetes/kube_auth.h).
        BadInputCase{"SaslInManifestsForKubectl", [](auto&) { return Render({"--set", "auth.quorum=true"}); },
                     "auth.quorum=true: on Kubernetes the servers' SASL credentials are Secrets the operator makes; "
                     "deploy with `zkpilot deploy --platform kubernetes`"},
        BadInputCase{"ImageDigestNotSha256",
                     [](auto&) { return Render({"--set", "image.digest=latest"}); },
                     "image.digest: \"latest\" does not match the pattern (sha256:[a-f0-9]{64})?"},
        BadInputCase{"PullSecretNotAName",
                     [](auto&) { return Render({"--set", "imagePullSecrets=[ok, -bad]"}); },
                     "imagePullSecrets: item 2 \"-bad\" does not match the pattern"},
        BadInputCase{"ValuesFileNotYaml",
                     [](const TempDir& d) {
                       WriteFile(d.path() + "/values.yaml", "replicas: 3\ntickTime: [2000\n");
                       return Render({"-f", d.path() + "/values.yaml"});
                     },
                     "values.yaml:3"},
        BadInputCase{"ValuesFileUnknownParameter",
                     [](const TempDir& d) {
                       WriteFile(d.path() + "/values.yaml", "replicas: 3\nautopurge:\n  purgeIntervall: 1\n");
                       return Render({"-f", d.path() + "/values.yaml"});
                     },
                     "values.yaml:3: unknown parameter autopurge.purgeIntervall (did you mean autopurge.purgeInterval?)"},
        BadInputCase{"ValuesFileMissing", [](const TempDir& d) { return Render({"-f", d.path() + "/nope.yaml"}); },
                     "nope.yaml: no such file"},
        BadInputCase{"TemplateMustacheSyntaxError",
                     [](const TempDir& d) {
                       return std::vector<std::string>{BrokenPackage(
                           d, "templates/broken.yaml",
                           "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels: {{#values.replicas}}\n")};
                     },
                     "templates/broken.yaml:5:11: Mustache syntax error: Unclosed section"},
        BadInputCase{"TemplateRendersInvalidYaml",
                     [](const TempDir& d) {
                       return std::vector<std::string>{BrokenPackage(
                           d, "templates/broken.yaml",
                           "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: {{values.replicas}}\n b: [\n")};
                     },
                     "templates/broken.yaml: renders invalid YAML at line 7"},
        BadInputCase{"PackageWithoutMetadata",
                     [](const TempDir& d) { return std::vector<std::string>{BrokenPackage(d, "package.yaml", "")}; },
                     "package.yaml: missing"},
        BadInputCase{"PackageDirectoryMissing", [](const TempDir& d) { return std::vector<std::string>{d.path() + "/none"}; },
                     "package directory does not exist"},
        BadInputCase{"SchemaDefaultInvalid",
                     [](const TempDir& d) {
                       std::ifstream in(kPackage + "/parameters.yaml");
                       std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
                       s.replace(s.find("default: 2181"), 13, "default: 99999");
                       return std::vector<std::string>{BrokenPackage(d, "parameters.yaml", s)};
                     },
                     "parameter clientPort: default 99999 is above the maximum 65535"},
        BadInputCase{"PortsClash", [](auto&) { return Render({"--set", "metricsPort=2181"}); }, "must differ"},
        BadInputCase{"AlertmanagerWithoutPrometheus", [](auto&) { return Render({"--set", "alertmanager.enabled=true"}); },
                     "prometheus.enabled must be true as well"},
        BadInputCase{"SessionTimeoutsInverted",
                     [](auto&) { return Render({"--set", "minSessionTimeout=50000"}); },
                     "minSessionTimeout (from --set) = 50000 must not exceed maxSessionTimeout"},
        BadInputCase{"BadClusterName", [](auto&) { return Render({"--name", "My_Cluster"}); }, "cluster name \"My_Cluster\""},
        BadInputCase{"BadHeapSize", [](auto&) { return Render({"--set", "heapSize=lots"}); },
                     "heapSize: \"lots\" is not a JVM memory size"},
        BadInputCase{"BadMemoryQuantity", [](auto&) { return Render({"--set", "resources.limits.memory=1GB"}); },
                     "resources.limits.memory: \"1GB\" is not a Kubernetes quantity"},
        BadInputCase{"BadNamespace", [](auto&) { return Render({"--namespace", "Data_Platform"}); },
                     "namespace \"Data_Platform\": not a valid Kubernetes namespace name (an RFC 1123 label"},
        BadInputCase{"RelativeDataDir", [](auto&) { return Render({"--set", "dataDir=data"}); }, "dataDir: \"data\" does not match"},
        BadInputCase{"SetWithoutValue", [](auto&) { return Render({"--set", "replicas"}); }, "expected key=value"},
        BadInputCase{"UnknownFlag", [](auto&) { return Render({"--replicas", "3"}); }, "--replicas"}),
    [](const auto& info) { return info.param.name; });

// Combinations that each value allows on its own but that a cluster refuses
// or breaks on: render, lint and deploy all refuse them with exit 2, naming
// every parameter involved, before anything is written.
struct CrossParameterCase {
  std::string name;
  std::vector<std::string> sets;
  std::vector<std::string> expected;  // substrings of the message
};
void PrintTo(const CrossParameterCase& c, std::ostream* os) { *os << c.name; }

class CrossParameterFault : public ::testing::TestWithParam<CrossParameterCase> {};

std::vector<std::string> WithSets(std::vector<std::string> args, const std::vector<std::string>& sets) {
  for (const auto& s : sets) {
    args.push_back("--set");
    args.push_back(s);
  }
  return args;
}

TEST_P(CrossParameterFault, RenderLintAndDeployRefuseIt) {
  TempDir dir;
  const std::string out_dir = dir.path() + "/out";
  const std::string home = dir.path() + "/home";
  ::setenv("ZKPILOT_HOME", home.c_str(), 1);
  const std::vector<std::pair<std::string, std::vector<std::string>>> verbs = {
      {"render", WithSets({"render", kPackage, "--output-dir", out_dir}, GetParam().sets)},
      {"lint", WithSets({"lint", kPackage}, GetParam().sets)},
      {"deploy", WithSets({"deploy", "bad-values", kPackage, "--dry-run"}, GetParam().sets)}};
  for (const auto& [verb, args] : verbs) {
    auto r = RunZkpilot(args);
    EXPECT_EQ(r.exit_code, 2) << verb << ": " << r.output;
    for (const auto& e : GetParam().expected) EXPECT_NE(r.output.find(e), std::string::npos) << verb << ": " << r.output;
  }
  ::unsetenv("ZKPILOT_HOME");
  EXPECT_FALSE(fs::exists(out_dir)) << "render wrote output despite the error";
  EXPECT_FALSE(fs::exists(home)) << "deploy created state despite the error";
}

INSTANTIATE_TEST_SUITE_P(
    Cases, CrossParameterFault,
    ::testing::Values(
        CrossParameterCase{"CpuRequestAboveLimit", {"resources.requests.cpu=1", "resources.limits.cpu=500m"},
                           {"resources.requests.cpu (from --set) = 1 must not exceed resources.limits.cpu (from --set) = 500m"}},
        CrossParameterCase{"MemoryRequestAboveLimit", {"resources.requests.memory=1.5Gi"},
                           {"resources.requests.memory (from --set) = 1.5Gi", "resources.limits.memory (default) = 1Gi"}},
        CrossParameterCase{"HeapNotBelowTheMemoryLimit", {"heapSize=1g"},
                           {"heapSize (from --set) = 1g must be at most 75% of resources.limits.memory (default) = 1Gi"}},
        CrossParameterCase{"FourLetterWordsWithoutTheProbes", {"fourLetterWords=mntr,conf"},
                           {"fourLetterWords (from --set) = mntr,conf lacks srvr, ruok"}},
        CrossParameterCase{"FourLetterWordsWithoutMntrForTheExporter", {"fourLetterWords=srvr,ruok", "prometheus.enabled=true"},
                           {"fourLetterWords (from --set) = srvr,ruok lacks mntr while prometheus.enabled=true"}},
        CrossParameterCase{"PdbAllowsLosingQuorum", {"podDisruptionBudget.maxUnavailable=2"},
                           {"podDisruptionBudget.maxUnavailable (from --set) = 2", "replicas (default) = 3",
                            "at most 1 may be unavailable"}},
        CrossParameterCase{"RootUserWithRunAsNonRoot", {"securityContext.runAsUser=0"},
                           {"securityContext.runAsUser (from --set) = 0 is not allowed", "runAsNonRoot"}},
        CrossParameterCase{"PrometheusWithMetricsOff", {"prometheus.enabled=true", "metrics.enabled=false"},
                           {"prometheus.enabled (from --set) is true, so metrics.enabled must be true as well"}},
        CrossParameterCase{"GrafanaWithoutAPrometheus", {"grafana.enabled=true"},
                           {"grafana.enabled (from --set) = true", "prometheus.enabled (default) = false",
                            "grafana.prometheusUrl (default) = \"\""}},
        CrossParameterCase{"GrafanaWithTheOperatorsPrometheus",
                           {"grafana.enabled=true", "prometheus.enabled=true", "prometheus.operator=true"},
                           {"prometheus.operator (from --set) = true", "set grafana.prometheusUrl"}}),
    [](const auto& info) { return info.param.name; });

TEST(BadInputOutputDir, NonEmptyOutputDirectoryIsRefusedAndKept) {
  TempDir dir;
  WriteFile(dir.path() + "/out/keep.txt", "mine");
  auto r = RunZkpilot({"render", kPackage, "--output-dir", dir.path() + "/out"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("output directory exists and is not empty"), std::string::npos) << r.output;
  EXPECT_TRUE(fs::exists(dir.path() + "/out/keep.txt"));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path() + "/out"), fs::directory_iterator()), 1);
}

TEST(BadInputLint, ReportsBrokenDisabledAddonTemplate) {
  TempDir dir;
  std::string pkg = BrokenPackage(dir, "addons/grafana/templates/broken.yaml", "{{#oops}}\n");
  auto r = RunZkpilot({"lint", pkg});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("addons/grafana/templates/broken.yaml:1:1: Mustache syntax error"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace zkpilot
