#include "values/values.h"

#include <gtest/gtest.h>

#include "../../tests/test_package.h"
#include "package/package_loader.h"

namespace zkpilot {
namespace {

Schema MiniSchema() {
  auto pkg = ParsePackage(testing::MinimalPackageFiles());
  EXPECT_TRUE(pkg.ok()) << pkg.status().message();
  return pkg->schema;
}

TEST(Values, DefaultsWhenNothingIsGiven) {
  auto v = ResolveValues(MiniSchema(), {});
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->Get("replicas"), 3);
  EXPECT_EQ(v->Origin("replicas"), "default");
  EXPECT_EQ(v->Get("extra.enabled"), false);
}

// replicas: new clusters get 5 on every platform; tickTime: 3000 on the local
// platform only.
Schema NewClusterSchema() {
  auto files = testing::MinimalPackageFiles();
  std::string& params = files["parameters.yaml"];
  params.replace(params.find("    default: 3\n"), 15, "    default: 3\n    newClusterDefault: 5\n");
  params.replace(params.find("    default: 2000\n"), 18,
                 "    default: 2000\n    newClusterDefault: 3000\n    newClusterPlatforms: [local]\n");
  auto pkg = ParsePackage(files);
  EXPECT_TRUE(pkg.ok()) << pkg.status().message();
  return pkg->schema;
}

TEST(Values, NewClusterDefaultsApplyOnlyToANewClusterOnTheirPlatforms) {
  const Schema schema = NewClusterSchema();
  // Any other command (a change of an existing cluster, lint, render): the defaults.
  auto existing = ResolveValues(schema, {});
  ASSERT_TRUE(existing.ok()) << existing.status().message();
  EXPECT_EQ(existing->Get("replicas"), 3);
  EXPECT_EQ(existing->Get("tickTime"), 2000);

  ValuesInput local;
  local.new_cluster_platform = "local";
  auto on_local = ResolveValues(schema, local);
  ASSERT_TRUE(on_local.ok()) << on_local.status().message();
  EXPECT_EQ(on_local->Get("replicas"), 5);
  EXPECT_EQ(on_local->Origin("replicas"), kNewClusterDefault);
  EXPECT_EQ(on_local->Get("tickTime"), 3000);

  ValuesInput kube;
  kube.new_cluster_platform = "kubernetes";
  auto on_kube = ResolveValues(schema, kube);
  ASSERT_TRUE(on_kube.ok()) << on_kube.status().message();
  EXPECT_EQ(on_kube->Get("replicas"), 5);
  EXPECT_EQ(on_kube->Get("tickTime"), 2000);
  EXPECT_EQ(on_kube->Origin("tickTime"), "default");

  // Files and --set override them.
  ValuesInput given;
  given.new_cluster_platform = "local";
  given.files = {{"a.yaml", "replicas: 7\n"}};
  given.sets = {"tickTime=2500"};
  auto overridden = ResolveValues(schema, given);
  ASSERT_TRUE(overridden.ok()) << overridden.status().message();
  EXPECT_EQ(overridden->Get("replicas"), 7);
  EXPECT_EQ(overridden->Get("tickTime"), 2500);
}

TEST(Values, TheZookeeperPackagesNewClustersHaveTlsAndLocallyAuth) {
  auto pkg = LoadPackage(std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper");
  ASSERT_TRUE(pkg.ok()) << pkg.status().message();
  for (const char* platform : {"local", "kubernetes"}) {
    ValuesInput in;
    in.new_cluster_platform = platform;
    auto v = ResolveValues(pkg->schema, in);
    ASSERT_TRUE(v.ok()) << platform << ": " << v.status().message();
    EXPECT_EQ(v->Get("tls.enabled"), true) << platform;
    EXPECT_EQ(v->Get("auth.enabled"), std::string(platform) == "local") << platform;
    EXPECT_EQ(v->Get("auth.enforce"), false) << platform;
  }
  auto existing = ResolveValues(pkg->schema, {});
  ASSERT_TRUE(existing.ok()) << existing.status().message();
  EXPECT_EQ(existing->Get("tls.enabled"), false);
  EXPECT_EQ(existing->Get("auth.enabled"), false);
  // The ZooNavigator add-on speaks plaintext only.
  ValuesInput zoonavigator;
  zoonavigator.new_cluster_platform = "kubernetes";
  zoonavigator.sets = {"zoonavigator.enabled=true", "zoonavigator.readOnly=false"};
  auto refused = ResolveValues(pkg->schema, zoonavigator);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("tls.enabled (from new-cluster default)"), std::string::npos)
      << refused.status().message();
}

TEST(Values, FilesOverrideDefaultsAndLaterFilesWin) {
  ValuesInput in;
  in.files = {{"a.yaml", "replicas: 5\ntickTime: 3000\n"}, {"b.yaml", "replicas: 7\n"}};
  auto v = ResolveValues(MiniSchema(), in);
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->Get("replicas"), 7);
  EXPECT_EQ(v->Origin("replicas"), "b.yaml:1");
  EXPECT_EQ(v->Get("tickTime"), 3000);
}

TEST(Values, SetOverridesFilesAndLaterSetWins) {
  ValuesInput in;
  in.files = {{"a.yaml", "replicas: 5\n"}};
  in.sets = {"replicas=7", "replicas=9"};
  auto v = ResolveValues(MiniSchema(), in);
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->Get("replicas"), 9);
  EXPECT_EQ(v->Origin("replicas"), "--set");
}

TEST(Values, NestedAndDottedKeysInFilesAreTheSame) {
  ValuesInput nested, dotted;
  nested.files = {{"n.yaml", "extra:\n  enabled: true\n  name: x\n"}};
  dotted.files = {{"d.yaml", "extra.enabled: true\nextra.name: x\n"}};
  auto a = ResolveValues(MiniSchema(), nested);
  auto b = ResolveValues(MiniSchema(), dotted);
  ASSERT_TRUE(a.ok()) << a.status().message();
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(a->Flat(), b->Flat());
  EXPECT_EQ(a->Get("extra.enabled"), true);
}

TEST(Values, SetIsTypedBySchema) {
  ValuesInput in;
  in.sets = {"extra.enabled=true", "version=3.9.3", "ratio=2", "labels={tier: db, zone: a}", "extra.name=123"};
  auto v = ResolveValues(MiniSchema(), in);
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->Get("extra.enabled"), true);
  EXPECT_EQ(v->Get("version"), "3.9.3");
  EXPECT_TRUE(v->Get("ratio").is_number_float());
  EXPECT_EQ(v->Get("labels")["tier"], "db");
  EXPECT_EQ(v->Get("extra.name"), "123") << "a string parameter keeps digits as text";
}

TEST(Values, StringParameterInFileKeepsPlainScalarText) {
  ValuesInput in;
  in.files = {{"v.yaml", "version: 3.9.3\n"}};
  auto v = ResolveValues(MiniSchema(), in);
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->Get("version"), "3.9.3");
}

TEST(Values, NestedViewMirrorsDottedNames) {
  auto v = ResolveValues(MiniSchema(), {});
  ASSERT_TRUE(v.ok());
  auto nested = v->Nested();
  EXPECT_EQ(nested["extra"]["enabled"], false);
  EXPECT_EQ(nested["replicas"], 3);
}

struct BadValuesCase {
  std::string name;
  ValuesInput input;
  std::string expected;
};
void PrintTo(const BadValuesCase& c, std::ostream* os) { *os << c.name; }


class BadValues : public ::testing::TestWithParam<BadValuesCase> {};

TEST_P(BadValues, AreRejectedNamingParameterAndSource) {
  auto v = ResolveValues(MiniSchema(), GetParam().input);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), ErrorCode::kInvalidInput);
  EXPECT_NE(v.status().message().find(GetParam().expected), std::string::npos) << v.status().message();
}

ValuesInput Sets(std::vector<std::string> s) {
  ValuesInput in;
  in.sets = std::move(s);
  return in;
}
ValuesInput File(std::string text) {
  ValuesInput in;
  in.files = {{"values.yaml", std::move(text)}};
  return in;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadValues,
    ::testing::Values(
        BadValuesCase{"ZeroReplicas", Sets({"replicas=0"}), "replicas: 0 is below the minimum 1"},
        BadValuesCase{"NonIntegerReplicas", Sets({"replicas=abc"}), "replicas: expected integer (decimal digits, like 3), got \"abc\""},
        BadValuesCase{"FloatReplicas", Sets({"replicas=2.5"}), "expected integer"},
        BadValuesCase{"PortTooHigh", Sets({"clientPort=70000"}), "clientPort: 70000 is above the maximum 65535"},
        BadValuesCase{"UnknownParam", Sets({"replica=3"}), "unknown parameter replica (did you mean replicas?)"},
        BadValuesCase{"UnknownVersion", Sets({"version=3.7.0"}), "\"3.7.0\" is not one of: 3.8.0, 3.9.3"},
        BadValuesCase{"BadEnum", Sets({"controller=daemonset"}), "controller: \"daemonset\" is not one of"},
        BadValuesCase{"NoEquals", Sets({"replicas"}), "expected key=value"},
        BadValuesCase{"EmptyKey", Sets({"=3"}), "expected key=value"},
        BadValuesCase{"BadBool", Sets({"extra.enabled=yes please"}), "expected boolean"},
        BadValuesCase{"BadPattern", Sets({"dataDir=relative/path"}), "does not match the pattern"},
        BadValuesCase{"BadObject", Sets({"labels=[a, b]"}), "expected object"},
        BadValuesCase{"PortsClash", Sets({"quorumPort=2181"}), "must differ"},
        BadValuesCase{"FileNotYaml", File("replicas: [1, 2\n"), "values.yaml:"},
        BadValuesCase{"FileNotAMap", File("- replicas\n"), "must be a YAML map"},
        BadValuesCase{"FileUnknownParam", File("replicas: 3\nfoo:\n  bar: 1\n"), "values.yaml:2: unknown parameter foo"},
        BadValuesCase{"FileWrongType", File("\n\nreplicas: \"3\"\n"), "values.yaml:3: replicas: expected integer, got string"},
        BadValuesCase{"FileOutOfRange", File("extra:\n  enabled: true\nreplicas: 10\n"), "values.yaml:3: replicas: 10 is above the maximum 9"},
        BadValuesCase{"FileEmptyValue", File("replicas:\n"), "replicas: empty value"}),
    [](const auto& info) { return info.param.name; });


// --- Formats: Kubernetes quantities and JVM sizes --------------------------

TEST(Quantity, ReadsTheApiGrammar) {
  struct Case {
    const char* text;
    long double value;
  };
  for (const Case& c : {Case{"500m", 0.5L}, Case{"1", 1}, Case{"0.5", 0.5L}, Case{".5", 0.5L}, Case{"1.", 1},
                        Case{"1Gi", 0x1p30L}, Case{"512Mi", 512 * 0x1p20L}, Case{"1.5Gi", 1.5L * 0x1p30L},
                        Case{"1G", 1e9L}, Case{"1k", 1e3L}, Case{"1e3", 1e3L}, Case{"5E-1", 0.5L},
                        Case{"1E", 1e18L}, Case{"2Ei", 2 * 0x1p60L}, Case{"100n", 1e-7L}, Case{"3u", 3e-6L}}) {
    auto v = ParseQuantity(c.text);
    ASSERT_TRUE(v.has_value()) << c.text;
    EXPECT_NEAR(static_cast<double>(*v / c.value), 1.0, 1e-12) << c.text;
  }
  for (const char* bad : {"", "abc", "1Gb", "-1", "+1", "1e", "1i", "Mi", "1 Gi", "1.5.5", "1e1000", "0x10"})
    EXPECT_FALSE(ParseQuantity(bad).has_value()) << bad;
}

TEST(JvmSize, ReadsWhatXmxTakes) {
  EXPECT_EQ(ParseJvmSize("512m"), 512 * 0x1p20L);
  EXPECT_EQ(ParseJvmSize("512M"), 512 * 0x1p20L);
  EXPECT_EQ(ParseJvmSize("2g"), 2 * 0x1p30L);
  EXPECT_EQ(ParseJvmSize("64k"), 64 * 1024.0L);
  EXPECT_EQ(ParseJvmSize("1t"), 0x1p40L);
  EXPECT_EQ(ParseJvmSize("1048576"), 1048576.0L);
  for (const char* bad : {"", "m", "1.5g", "lots", "1gb", "-1g"}) EXPECT_FALSE(ParseJvmSize(bad).has_value()) << bad;
}

TEST(Namespace, MustBeAnRfc1123Label) {
  for (const std::string& ok : std::vector<std::string>{"default", "zk", "a-1", "0abc", std::string(63, 'a')})
    EXPECT_TRUE(ValidateNamespaceName(ok).ok()) << ok;
  for (const std::string& bad : std::vector<std::string>{"", "Prod", "a_b", "-a", "a-", "a.b", std::string(64, 'a')}) {
    Status s = ValidateNamespaceName(bad);
    EXPECT_EQ(s.code(), ErrorCode::kInvalidInput) << bad;
    EXPECT_NE(s.message().find("RFC 1123"), std::string::npos) << s.message();
  }
}

// --- Constraint rules, on a small package ----------------------------------

Result<Schema> SchemaWith(const std::string& params, const std::string& constraints) {
  auto files = testing::MinimalPackageFiles();
  std::string& text = files["parameters.yaml"];
  text.insert(text.find("constraints:\n"), params);
  text += constraints;
  ZK_ASSIGN_OR_RETURN(Package pkg, ParsePackage(files));
  return pkg.schema;
}

constexpr const char* kSizeParams = R"(  - name: limit
    type: string
    default: 1Gi
    format: quantity
    description: a quantity
  - name: request
    type: string
    default: 512Mi
    format: quantity
    description: a quantity
  - name: heap
    type: string
    default: 512m
    format: jvmSize
    description: a JVM size
  - name: words
    type: string
    default: srvr,ruok
    description: a list
  - name: down
    type: integer
    default: 1
    description: servers down
)";

Status Check(const Schema& schema, std::vector<std::string> sets) {
  auto v = ResolveValues(schema, Sets(std::move(sets)));
  return v.ok() ? Status::Ok() : v.status();
}

TEST(Constraints, LessOrEqualComparesQuantitiesAcrossNotations) {
  auto schema = SchemaWith(kSizeParams, "  - lessOrEqual: [request, limit]\n");
  ASSERT_TRUE(schema.ok()) << schema.status().message();
  EXPECT_TRUE(Check(*schema, {"request=1024Mi"}).ok()) << "1024Mi equals 1Gi";
  EXPECT_TRUE(Check(*schema, {"request=500m", "limit=0.5"}).ok()) << "500m equals 0.5";
  EXPECT_TRUE(Check(*schema, {"request=1e9", "limit=1G"}).ok());
  EXPECT_TRUE(Check(*schema, {"request=4Gi", "limit="}).ok()) << "an empty limit is no limit";
  Status s = Check(*schema, {"request=1100M"});
  EXPECT_EQ(s.code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(s.message(), "request (from --set) = 1100M must not exceed limit (default) = 1Gi");
}

TEST(Constraints, LessThanRefusesEqualValues) {
  auto schema = SchemaWith(kSizeParams, "  - lessThan: [request, limit]\n");
  ASSERT_TRUE(schema.ok()) << schema.status().message();
  EXPECT_TRUE(Check(*schema, {"request=1023Mi"}).ok());
  Status s = Check(*schema, {"request=1024Mi"});
  EXPECT_EQ(s.code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(s.message(), "request (from --set) = 1024Mi must be less than limit (default) = 1Gi");
}

TEST(Constraints, LessOrEqualWithAFactorLeavesRoom) {
  auto schema = SchemaWith(kSizeParams, "  - lessOrEqual: [heap, limit]\n    factor: 0.75\n    message: room\n");
  ASSERT_TRUE(schema.ok()) << schema.status().message();
  EXPECT_TRUE(Check(*schema, {"heap=768m"}).ok()) << "exactly 75% of 1Gi";
  EXPECT_TRUE(Check(*schema, {"heap=16g", "limit="}).ok());
  Status s = Check(*schema, {"heap=769m"});
  EXPECT_EQ(s.message(), "heap (from --set) = 769m must be at most 75% of limit (default) = 1Gi, i.e. at most 768m (room)");
}

TEST(Constraints, ContainsNamesWhatIsMissingAndHonoursWhen) {
  auto schema = SchemaWith(kSizeParams,
                           "  - contains: words\n    items: [srvr, ruok]\n"
                           "  - contains: words\n    items: [mntr]\n    when: {extra.enabled: true}\n");
  ASSERT_TRUE(schema.ok()) << schema.status().message();
  EXPECT_TRUE(Check(*schema, {"words=ruok, srvr"}).ok());
  EXPECT_EQ(Check(*schema, {"words=conf"}).message(), "words (from --set) = conf lacks srvr, ruok");
  EXPECT_EQ(Check(*schema, {"extra.enabled=true"}).message(),
            "words (default) = srvr,ruok lacks mntr while extra.enabled=true");
  EXPECT_TRUE(Check(*schema, {"extra.enabled=true", "words=srvr,ruok,mntr"}).ok());
}

TEST(Constraints, ForbidNamesEveryParameterOfTheCombination) {
  auto schema = SchemaWith(kSizeParams,
                           "  - forbid: {extra.enabled: true, extra.name: \"\"}\n    message: name it\n"
                           "  - forbid: {tickTime: 0}\n");
  ASSERT_TRUE(schema.ok()) << schema.status().message();
  EXPECT_TRUE(Check(*schema, {"extra.enabled=true", "extra.name=x"}).ok());
  EXPECT_EQ(Check(*schema, {"extra.enabled=true"}).message(),
            "extra.enabled (from --set) = true and extra.name (default) = \"\" do not go together (name it)");
  EXPECT_EQ(Check(*schema, {"tickTime=0"}).message(), "tickTime (from --set) = 0 is not allowed");
}

TEST(Constraints, KeepsQuorumAllowsAtMostTheToleratedFailures) {
  auto schema = SchemaWith(kSizeParams, "  - keepsQuorum: [down, replicas]\n");
  ASSERT_TRUE(schema.ok()) << schema.status().message();
  struct Case {
    int replicas, down;
    bool ok;
  };
  for (const Case& c : {Case{1, 0, true}, Case{1, 1, true}, Case{2, 0, true}, Case{2, 1, false}, Case{3, 1, true},
                        Case{3, 2, false}, Case{4, 1, true}, Case{4, 2, false}, Case{5, 2, true}, Case{5, 3, false},
                        Case{9, 4, true}, Case{9, 5, false}}) {
    Status s = Check(*schema, {"replicas=" + std::to_string(c.replicas), "down=" + std::to_string(c.down)});
    EXPECT_EQ(s.ok(), c.ok) << c.replicas << " servers, " << c.down << " down: " << s.message();
  }
  EXPECT_EQ(Check(*schema, {"down=2"}).message(),
            "down (from --set) = 2 lets voluntary disruptions (node drains) take down 2 of replicas (default) = 3 "
            "servers, but a quorum needs 2 of them running: at most 1 may be unavailable");
}

struct BrokenConstraintCase {
  std::string name;
  std::string constraint;
  std::string expected;
};
void PrintTo(const BrokenConstraintCase& c, std::ostream* os) { *os << c.name; }

class BrokenConstraint : public ::testing::TestWithParam<BrokenConstraintCase> {};

TEST_P(BrokenConstraint, IsRejectedWithLineAndReason) {
  auto schema = SchemaWith(kSizeParams, GetParam().constraint);
  ASSERT_FALSE(schema.ok());
  EXPECT_EQ(schema.status().code(), ErrorCode::kInvalidInput);
  EXPECT_NE(schema.status().message().find(GetParam().expected), std::string::npos) << schema.status().message();
  EXPECT_NE(schema.status().message().find("parameters.yaml:"), std::string::npos) << schema.status().message();
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BrokenConstraint,
    ::testing::Values(
        BrokenConstraintCase{"TwoRules", "  - forbid: {tickTime: 1}\n    implies: [extra.enabled, extra.enabled]\n",
                             "one rule per entry"},
        BrokenConstraintCase{"LessOrEqualOnPlainStrings", "  - lessOrEqual: [words, limit]\n", "with a format"},
        BrokenConstraintCase{"FactorOnForbid", "  - forbid: {tickTime: 1}\n    factor: 2\n", "factor applies to lessOrEqual"},
        BrokenConstraintCase{"NegativeFactor", "  - lessOrEqual: [heap, limit]\n    factor: -1\n", "positive number"},
        BrokenConstraintCase{"ContainsWithoutItems", "  - contains: words\n", "needs items"},
        BrokenConstraintCase{"ContainsOnInteger", "  - contains: tickTime\n    items: [a]\n", "must be a string parameter"},
        BrokenConstraintCase{"ForbidUnknownParameter", "  - forbid: {nope: 1}\n", "unknown parameter nope"},
        BrokenConstraintCase{"ForbidWrongType", "  - forbid: {tickTime: abc}\n", "tickTime: expected integer"},
        BrokenConstraintCase{"WhenUnknownParameter", "  - contains: words\n    items: [a]\n    when: {nope: true}\n",
                             "when: unknown parameter nope"},
        BrokenConstraintCase{"KeepsQuorumOnString", "  - keepsQuorum: [words, replicas]\n", "must be an integer parameter"}),
    [](const auto& info) { return info.param.name; });

TEST(Constraints, FormatIsCheckedOnItsOwn) {
  auto schema = SchemaWith(kSizeParams, "");
  ASSERT_TRUE(schema.ok()) << schema.status().message();
  EXPECT_NE(Check(*schema, {"limit=1GB"}).message().find("limit: \"1GB\" is not a Kubernetes quantity"), std::string::npos);
  EXPECT_NE(Check(*schema, {"heap=lots"}).message().find("heap: \"lots\" is not a JVM memory size"), std::string::npos);
  EXPECT_TRUE(Check(*schema, {"limit="}).ok()) << "empty means unset";
  auto bad = SchemaWith("  - name: n\n    type: integer\n    default: 1\n    format: quantity\n", "");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("format applies to string parameters"), std::string::npos);
}

// --- The default package: combinations a cluster would refuse --------------

const Schema& DefaultSchema() {
  static const Schema schema = [] {
    auto pkg = LoadPackage(std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper");
    EXPECT_TRUE(pkg.ok()) << pkg.status().message();
    return pkg.ok() ? pkg->schema : Schema{};
  }();
  return schema;
}

class DefaultPackageRejects : public ::testing::TestWithParam<BadValuesCase> {};

TEST_P(DefaultPackageRejects, WhatAClusterWouldRefuse) {
  auto v = ResolveValues(DefaultSchema(), GetParam().input);
  ASSERT_FALSE(v.ok()) << GetParam().name;
  EXPECT_EQ(v.status().code(), ErrorCode::kInvalidInput);
  EXPECT_NE(v.status().message().find(GetParam().expected), std::string::npos) << v.status().message();
}

INSTANTIATE_TEST_SUITE_P(
    Cases, DefaultPackageRejects,
    ::testing::Values(
        BadValuesCase{"CpuRequestAboveLimit", Sets({"resources.requests.cpu=2", "resources.limits.cpu=1500m"}),
                      "resources.requests.cpu (from --set) = 2 must not exceed resources.limits.cpu (from --set) = 1500m"},
        BadValuesCase{"MemoryRequestAboveLimit", Sets({"resources.requests.memory=2Gi"}),
                      "resources.requests.memory (from --set) = 2Gi must not exceed resources.limits.memory (default) = 1Gi"},
        BadValuesCase{"MemoryRequestAboveLimitInDecimalUnits", Sets({"resources.requests.memory=1100M"}),
                      "must not exceed resources.limits.memory (default) = 1Gi"},
        BadValuesCase{"TlsRenewalNotBeforeExpiry",
                      Sets({"tls.certificateValidityDays=30", "tls.renewBeforeDays=30"}),
                      "tls.renewBeforeDays (from --set) = 30 must be less than tls.certificateValidityDays "
                      "(from --set) = 30"},
        BadValuesCase{"HeapAtTheLimit", Sets({"heapSize=1g"}),
                      "heapSize (from --set) = 1g must be at most 75% of resources.limits.memory (default) = 1Gi, "
                      "i.e. at most 768m"},
        BadValuesCase{"HeapCloseToTheLimit", Sets({"resources.limits.memory=2Gi", "heapSize=1800m"}),
                      "at most 1536m"},
        BadValuesCase{"FourLetterWordsWithoutRuok", Sets({"fourLetterWords=srvr,mntr,conf"}),
                      "fourLetterWords (from --set) = srvr,mntr,conf lacks ruok"},
        BadValuesCase{"FourLetterWordsWithoutSrvr", Sets({"fourLetterWords=ruok"}), "lacks srvr"},
        BadValuesCase{"FourLetterWordsWithoutMntrForPrometheus",
                      Sets({"fourLetterWords=srvr,ruok", "prometheus.enabled=true"}),
                      "lacks mntr while prometheus.enabled=true"},
        BadValuesCase{"PdbLosesQuorumOfThree", Sets({"podDisruptionBudget.maxUnavailable=2"}),
                      "podDisruptionBudget.maxUnavailable (from --set) = 2 lets voluntary disruptions"},
        BadValuesCase{"PdbLosesQuorumOfFive", Sets({"replicas=5", "podDisruptionBudget.maxUnavailable=3"}),
                      "at most 2 may be unavailable"},
        BadValuesCase{"PdbLosesQuorumOfTwo", Sets({"replicas=2"}), "at most 0 may be unavailable"},
        BadValuesCase{"RootWithRunAsNonRoot", Sets({"securityContext.runAsUser=0"}),
                      "securityContext.runAsUser (from --set) = 0 is not allowed (the servers' pods set runAsNonRoot"},
        BadValuesCase{"PrometheusWithoutMetrics", Sets({"prometheus.enabled=true", "metrics.enabled=false"}),
                      "prometheus.enabled (from --set) is true, so metrics.enabled must be true as well"},
        BadValuesCase{"GrafanaWithoutPrometheus", Sets({"grafana.enabled=true"}),
                      "grafana.enabled (from --set) = true, prometheus.enabled (default) = false and "
                      "grafana.prometheusUrl (default) = \"\" do not go together"},
        BadValuesCase{"GrafanaWithOperatorPrometheus",
                      Sets({"grafana.enabled=true", "prometheus.enabled=true", "prometheus.operator=true"}),
                      "prometheus.operator (from --set) = true"},
        BadValuesCase{"NotAQuantity", Sets({"resources.limits.memory=1GB"}), "is not a Kubernetes quantity"},
        // ZooNavigator 1.x can be neither read-only nor behind a login.
        BadValuesCase{"ZooNavigatorWithoutConsentToWrite", Sets({"zoonavigator.enabled=true"}),
                      "zoonavigator.enabled (from --set) = true and zoonavigator.readOnly (default) = true "
                      "do not go together (ZooNavigator 1.x cannot be made read-only"},
        BadValuesCase{"ImageDigestWithoutAlgorithm", Sets({"image.digest=0123abcd"}),
                      "image.digest: \"0123abcd\" does not match the pattern"},
        BadValuesCase{"AddonDigestTooShort", Sets({"grafana.imageDigest=sha256:abc"}),
                      "grafana.imageDigest: \"sha256:abc\" does not match the pattern"},
        BadValuesCase{"PullSecretNotAName", Sets({"imagePullSecrets=[regcred, Bad_Name]"}),
                      "imagePullSecrets: item 2 \"Bad_Name\" does not match the pattern"},
        BadValuesCase{"PullSecretNotAString", Sets({"imagePullSecrets=[{name: regcred}]"}),
                      "imagePullSecrets: item 1 {\"name\":\"regcred\"} is not a string"},
        BadValuesCase{"SourceRangeNotACidr", Sets({"service.loadBalancerSourceRanges=[10.0.0.0]"}),
                      "service.loadBalancerSourceRanges: item 1 \"10.0.0.0\" does not match the pattern"}),
    [](const auto& info) { return info.param.name; });

class DefaultPackageAccepts : public ::testing::TestWithParam<std::vector<std::string>> {};

TEST_P(DefaultPackageAccepts, ValidCombinations) {
  auto v = ResolveValues(DefaultSchema(), Sets(GetParam()));
  EXPECT_TRUE(v.ok()) << v.status().message();
}

INSTANTIATE_TEST_SUITE_P(
    Cases, DefaultPackageAccepts,
    ::testing::Values(std::vector<std::string>{},
                      std::vector<std::string>{"replicas=1"},
                      std::vector<std::string>{"replicas=5", "podDisruptionBudget.maxUnavailable=2"},
                      std::vector<std::string>{"replicas=2", "podDisruptionBudget.maxUnavailable=0"},
                      std::vector<std::string>{"resources.requests.cpu=500m", "resources.limits.cpu=0.5"},
                      std::vector<std::string>{"resources.requests.memory=1Gi", "resources.limits.memory=1024Mi"},
                      std::vector<std::string>{"heapSize=768m"},
                      std::vector<std::string>{"heapSize=8g", "resources.limits.memory=", "resources.requests.memory="},
                      std::vector<std::string>{"fourLetterWords=srvr,ruok"},
                      std::vector<std::string>{"zoonavigator.enabled=true", "zoonavigator.readOnly=false", "prometheus.enabled=true",
                                               "alertmanager.enabled=true", "grafana.enabled=true"},
                      std::vector<std::string>{"grafana.enabled=true", "prometheus.enabled=true", "prometheus.operator=true",
                                               "grafana.prometheusUrl=http://prometheus-operated.monitoring:9090"},
                      std::vector<std::string>{"grafana.enabled=true", "grafana.prometheusUrl=https://prom.example.com"}));

}  // namespace
}  // namespace zkpilot
