#include "platform/kubernetes/health_server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>

namespace zkpilot {
namespace {

TEST(HealthServer, ServesLivenessAndReadiness) {
  std::atomic<bool> ready{false};
  HealthServerOptions options;
  options.address = ListenAddress{"127.0.0.1", 0};
  options.ready = [&]() -> Status {
    return ready ? Status::Ok() : Status::Unavailable("kubernetes API: connection refused");
  };
  HealthServer server(options);
  ASSERT_TRUE(server.Start().ok());
  ASSERT_GT(server.port(), 0);

  httplib::Client client("127.0.0.1", server.port());
  auto healthz = client.Get("/healthz");
  ASSERT_TRUE(healthz);
  EXPECT_EQ(healthz->status, 200);
  auto readyz = client.Get("/readyz");
  ASSERT_TRUE(readyz);
  EXPECT_EQ(readyz->status, 503);
  EXPECT_NE(readyz->body.find("connection refused"), std::string::npos);
  ready = true;
  readyz = client.Get("/readyz");
  ASSERT_TRUE(readyz);
  EXPECT_EQ(readyz->status, 200);
  server.Stop();
  EXPECT_FALSE(client.Get("/healthz"));
}

TEST(HealthServer, BusyPortIsAnError) {
  HealthServerOptions options;
  options.address = ListenAddress{"127.0.0.1", 0};
  HealthServer first(options);
  ASSERT_TRUE(first.Start().ok());
  options.address.port = first.port();
  HealthServer second(options);
  Status s = second.Start();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("cannot bind"), std::string::npos) << s.message();
}

TEST(HealthServer, ListenAddresses) {
  auto a = ParseListenAddress(":8081");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "0.0.0.0");
  EXPECT_EQ(a->port, 8081);
  a = ParseListenAddress("[::1]:9000");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "::1");
  EXPECT_FALSE(ParseListenAddress("8081").ok());
  EXPECT_FALSE(ParseListenAddress(":").ok());
}

}  // namespace
}  // namespace zkpilot
