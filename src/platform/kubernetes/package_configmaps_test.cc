#include "platform/kubernetes/package_configmaps.h"

#include <gtest/gtest.h>

#include <regex>

#include "../../../tests/test_package.h"

namespace zkpilot {
namespace {

using nlohmann::json;

std::vector<json> AsJson(const std::vector<OrderedJson>& cms) {
  std::vector<json> out;
  for (const auto& cm : cms) out.push_back(json::parse(cm.dump()));  // as the API would return them
  return out;
}

struct Mini {
  Package package;
  PackageFiles files;
};

Mini MiniPackage(PackageFiles extra = {}) {
  Mini m;
  m.files = testing::MinimalPackageFiles();
  for (auto& [path, content] : extra) m.files[path] = content;
  auto p = ParsePackage(m.files);
  EXPECT_TRUE(p.ok()) << p.status().message();
  if (p.ok()) m.package = *p;
  return m;
}

TEST(PackageConfigMaps, TheDefaultPackageRoundTrips) {
  auto files = ReadPackageFiles(std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper");
  ASSERT_TRUE(files.ok()) << files.status().message();
  auto pkg = ParsePackage(*files);
  ASSERT_TRUE(pkg.ok()) << pkg.status().message();
  auto cms = PackageToConfigMaps(*pkg, *files, "prod");
  ASSERT_TRUE(cms.ok()) << cms.status().message();
  ASSERT_EQ(cms->size(), 1u);
  const std::string hash = PackageHash(*files);
  const OrderedJson& cm = (*cms)[0];
  EXPECT_EQ(cm["metadata"]["name"], "zkpilot-pkg-zookeeper-" + hash.substr(0, 12));
  EXPECT_EQ(cm["metadata"]["namespace"], "prod");
  EXPECT_EQ(cm["immutable"], true);
  EXPECT_EQ(cm["metadata"]["labels"]["zkpilot.io/package"], "zookeeper");
  EXPECT_EQ(cm["metadata"]["labels"]["zkpilot.io/package-hash"], hash.substr(0, 12));
  EXPECT_EQ(cm["metadata"]["labels"]["app.kubernetes.io/managed-by"], "zkpilot");
  const std::regex key_syntax("[-._a-zA-Z0-9]+");
  for (const auto& [key, value] : cm["data"].items()) {
    EXPECT_TRUE(std::regex_match(key, key_syntax)) << key;
    EXPECT_LE(key.size(), 253u);
  }
  EXPECT_TRUE(cm["data"].contains("templates_2Fnode_2Fstatefulset.yaml"));

  auto back = PackageFromConfigMaps(AsJson(*cms), hash);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->name, "zookeeper");
  EXPECT_EQ(back->schema.params.size(), pkg->schema.params.size());
  EXPECT_EQ(*PackageFilesFromConfigMaps(AsJson(*cms), hash), *files);

  PackageRef ref = MakePackageRef(*pkg, *files);
  EXPECT_EQ(ref.config_map, cm["metadata"]["name"]);
  EXPECT_EQ(ref.hash, hash);
  EXPECT_EQ(ref.version, pkg->version);
}

TEST(PackageConfigMaps, HashCoversPathsAndContents) {
  PackageFiles a = {{"a.txt", "x"}, {"b.txt", "y"}};
  PackageFiles renamed = {{"a.txt", "x"}, {"c.txt", "y"}};
  PackageFiles changed = {{"a.txt", "x"}, {"b.txt", "z"}};
  PackageFiles shifted = {{"a.txt", "xb.txt"}, {"b.txt", ""}};  // same bytes, other split
  EXPECT_EQ(PackageHash(a), PackageHash(PackageFiles(a)));
  EXPECT_EQ(PackageHash(a).size(), 64u);
  EXPECT_NE(PackageHash(a), PackageHash(renamed));
  EXPECT_NE(PackageHash(a), PackageHash(changed));
  EXPECT_NE(PackageHash(a), PackageHash(shifted));
}

TEST(PackageConfigMaps, KeysAreOneToOneAndBinaryFilesGoToBinaryData) {
  std::string binary;
  for (int i = 0; i < 256; ++i) binary += static_cast<char>(i);
  auto m = MiniPackage({{"config/a_b", "underscore"},
                        {"config/a/b", "slash"},
                        {"config/\xc3\xa9t\xc3\xa9.txt", "utf-8 name"},
                        {"index.json", "{\"a file named like the index\": true}"},
                        {"config/" + std::string(300, 'x'), "long name"},
                        {"config/logo.png", binary},
                        {"config/latin1.txt", "caf\xe9"},
                        {"config/overlong.txt", "\xc0\xaf"}});
  auto cms = PackageToConfigMaps(m.package, m.files, "default");
  ASSERT_TRUE(cms.ok()) << cms.status().message();
  const OrderedJson& cm = (*cms)[0];
  EXPECT_TRUE(cm["data"].contains("config_2Fa_5Fb"));
  EXPECT_TRUE(cm["data"].contains("config_2Fa_2Fb"));
  ASSERT_TRUE(cm.contains("binaryData"));
  EXPECT_EQ(cm["binaryData"].size(), 3u);  // the PNG-like bytes, Latin-1, an overlong form
  json index = json::parse(cm["data"]["index.json"].get<std::string>());
  EXPECT_EQ(index["files"].size(), m.files.size());
  EXPECT_EQ(index["parts"], 1);
  auto back = PackageFilesFromConfigMaps(AsJson(*cms), PackageHash(m.files));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, m.files);
}

TEST(PackageConfigMaps, LargePackagesSplitAcrossConfigMaps) {
  const std::string chunk(400 * 1024, 'a');
  auto m = MiniPackage({{"data/1.txt", chunk}, {"data/2.txt", chunk}, {"data/3.txt", chunk}});
  auto cms = PackageToConfigMaps(m.package, m.files, "default");
  ASSERT_TRUE(cms.ok()) << cms.status().message();
  ASSERT_EQ(cms->size(), 2u);
  const std::string first = PackageConfigMapName("mini", PackageHash(m.files));
  EXPECT_EQ((*cms)[0]["metadata"]["name"], first);
  EXPECT_EQ((*cms)[1]["metadata"]["name"], first + "-2");
  for (const auto& cm : *cms) EXPECT_LT(cm.dump().size(), 1000u * 1024u);
  auto names = PackageConfigMapNames(json::parse((*cms)[0].dump()));
  ASSERT_TRUE(names.ok()) << names.status().message();
  EXPECT_EQ(*names, (std::vector<std::string>{first, first + "-2"}));

  std::vector<json> reversed = AsJson(*cms);
  std::reverse(reversed.begin(), reversed.end());
  auto back = PackageFilesFromConfigMaps(reversed, PackageHash(m.files));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, m.files);

  auto missing = PackageFilesFromConfigMaps({AsJson(*cms)[0]}, PackageHash(m.files));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("1 of 2 ConfigMaps present"), std::string::npos);
  EXPECT_FALSE(
      PackageFilesFromConfigMaps({AsJson(*cms)[0], AsJson(*cms)[0]}, PackageHash(m.files)).ok());
  EXPECT_FALSE(PackageConfigMapNames(AsJson(*cms)[1]).ok());  // not part 1
}

TEST(PackageConfigMaps, AFileTooLargeForAConfigMapIsRefused) {
  auto m = MiniPackage({{"data/huge.bin", std::string(kPackageConfigMapBudget + 1, 'a')}});
  auto cms = PackageToConfigMaps(m.package, m.files, "default");
  ASSERT_FALSE(cms.ok());
  EXPECT_EQ(cms.status().code(), ErrorCode::kInvalidInput);
  EXPECT_NE(cms.status().message().find("data/huge.bin"), std::string::npos);
}

TEST(PackageConfigMaps, TamperedOrForeignContentsAreRefused) {
  auto m = MiniPackage();
  const std::string hash = PackageHash(m.files);
  std::vector<json> cms = AsJson(*PackageToConfigMaps(m.package, m.files, "default"));

  std::vector<json> tampered = cms;
  tampered[0]["data"]["parameters.yaml"] = "parameters: []\n";
  auto r = PackageFilesFromConfigMaps(tampered, hash);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidInput);
  EXPECT_NE(r.status().message().find("do not match the hash in spec.package.hash"),
            std::string::npos);

  auto wrong = PackageFilesFromConfigMaps(cms, std::string(64, '0'));
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("holds the package with hash " + hash),
            std::string::npos);

  std::vector<json> dropped = cms;
  dropped[0]["data"].erase("package.yaml");
  EXPECT_NE(PackageFilesFromConfigMaps(dropped, hash).status().message().find("package.yaml"),
            std::string::npos);

  std::vector<json> foreign = {{{"metadata", {{"name", "other"}}}, {"data", {{"a", "b"}}}}};
  EXPECT_FALSE(PackageFilesFromConfigMaps(foreign, hash).ok());
  EXPECT_FALSE(PackageFilesFromConfigMaps({}, hash).ok());
}

TEST(PackageConfigMaps, ReadingADirectoryGivesWhatLoadPackageReads) {
  auto files = ReadPackageFiles(std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper");
  ASSERT_TRUE(files.ok());
  EXPECT_TRUE(files->count("package.yaml"));
  EXPECT_TRUE(files->count("templates/node/statefulset.yaml"));
  EXPECT_FALSE(ReadPackageFiles("/nonexistent/package").ok());
}

}  // namespace
}  // namespace zkpilot
