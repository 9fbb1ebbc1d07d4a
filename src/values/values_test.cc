#include "values/values.h"

#include <gtest/gtest.h>

#include "../../tests/test_package.h"

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
        BadValuesCase{"NonIntegerReplicas", Sets({"replicas=abc"}), "replicas: expected integer, got \"abc\""},
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

}  // namespace
}  // namespace zkpilot
