#include "observe/log_cause.h"

#include <gtest/gtest.h>

namespace zkpilot {
namespace {

struct CauseCase {
  const char* name;
  const char* log;
  const char* cause;
};

class FailureCauseTest : public ::testing::TestWithParam<CauseCase> {};

TEST_P(FailureCauseTest, IsTheLastErrorsMessageAndDeepestCause) {
  EXPECT_EQ(FailureCause(GetParam().log), GetParam().cause);
}

INSTANTIATE_TEST_SUITE_P(
    Logs, FailureCauseTest,
    ::testing::Values(
        CauseCase{"NothingWrong",
                  "2026-11-30 10:00:00,000 [myid:1] - INFO  [main:o.a.z.s.q.QuorumPeerConfig@177] "
                  "- Reading "
                  "configuration from: /x/zoo.cfg\n",
                  ""},
        // Each restart writes the same three lines; the JVM's last two say nothing.
        CauseCase{"BadJvmOptionRepeated",
                  "Unrecognized VM option 'NoSuchJvmOption'\n"
                  "Error: Could not create the Java Virtual Machine.\n"
                  "Error: A fatal exception has occurred. Program will exit.\n"
                  "Unrecognized VM option 'NoSuchJvmOption'\n"
                  "Error: Could not create the Java Virtual Machine.\n"
                  "Error: A fatal exception has occurred. Program will exit.\n",
                  "Unrecognized VM option 'NoSuchJvmOption'"},
        CauseCase{
            "DiskFull",
            "2026-11-30 10:00:00,000 [myid:2] - INFO  [main:o.a.z.s.p.FileTxnSnapLog@124] - "
            "zookeeper.snapshot.trust.empty : false\n"
            "2026-11-30 10:00:01,000 [myid:2] - ERROR [main:o.a.z.s.q.QuorumPeerMain@114] - "
            "Unexpected "
            "exception, exiting abnormally\n"
            "java.io.IOException: No space left on device\n"
            "\tat java.base/java.io.FileOutputStream.writeBytes(Native Method)\n"
            "\tat "
            "org.apache.zookeeper.server.quorum.QuorumPeer.writeLongToFile(QuorumPeer.java:2229)\n"
            "2026-11-30 10:00:01,001 [myid:2] - INFO  [main:o.a.z.a.ZKAuditProvider@42] - "
            "ZooKeeper "
            "audit is disabled.\n"
            "2026-11-30 10:00:01,002 [myid:2] - ERROR [main:o.a.z.u.ServiceUtils@48] - Exiting JVM "
            "with "
            "code 1\n",
            "ERROR [main:o.a.z.s.q.QuorumPeerMain@114] - Unexpected exception, exiting abnormally "
            "— "
            "java.io.IOException: No space left on device"},
        // A peer not reachable yet is logged at WARN with its exception: no failure.
        CauseCase{
            "WarningsAreNotFailures",
            "2026-11-30 10:00:00,000 [myid:2] - WARN  [QuorumConnectionThreadManager-myid=2-1:"
            "o.a.z.s.q.QuorumCnxManager@401] - Cannot open channel to 3 at election address "
            "/127.0.0.1:3890\n"
            "java.net.ConnectException: Connection refused\n"
            "\tat java.base/sun.nio.ch.Net.pollConnect(Native Method)\n",
            ""},
        CauseCase{"FailureBeforeLaterWarnings",
                  "2026-11-30 10:00:01,000 [myid:1] - ERROR [main:o.a.z.s.q.QuorumPeerMain@114] - "
                  "Unexpected "
                  "exception, exiting abnormally\n"
                  "java.net.BindException: Address already in use\n"
                  "\tat java.base/sun.nio.ch.Net.bind0(Native Method)\n"
                  "2026-11-30 10:00:02,000 [myid:1] - WARN  [main:o.a.z.s.q.QuorumCnxManager@401] "
                  "- Cannot "
                  "open channel to 3\n"
                  "java.net.ConnectException: Connection refused\n",
                  "ERROR [main:o.a.z.s.q.QuorumPeerMain@114] - Unexpected exception, exiting "
                  "abnormally — "
                  "java.net.BindException: Address already in use"},
        // As ZooKeeper 3.8.0 writes it for a myid that is not a number.
        CauseCase{
            "DeepestCauseThenTheSameWordsOnStderr",
            "2026-11-30 14:56:22,014 [myid:] - INFO  [main:QuorumPeerConfig@477] - "
            "metricsProvider.className "
            "is org.apache.zookeeper.metrics.impl.DefaultMetricsProvider\n"
            "2026-11-30 14:56:22,027 [myid:] - ERROR [main:QuorumPeerMain@99] - Invalid config, "
            "exiting "
            "abnormally\n"
            "org.apache.zookeeper.server.quorum.QuorumPeerConfig$ConfigException: Error processing "
            "/x/conf/zoo.cfg.dynamic.100000000\n"
            "\tat "
            "org.apache.zookeeper.server.quorum.QuorumPeerConfig.parse(QuorumPeerConfig.java:222)\n"
            "Caused by: java.lang.IllegalArgumentException: serverid nan is not a number\n"
            "\tat "
            "org.apache.zookeeper.server.quorum.QuorumPeerConfig.setupMyId(QuorumPeerConfig.java:"
            "741)\n"
            "\t... 2 more\n"
            "Invalid config, exiting abnormally\n"
            "2026-11-30 14:56:22,037 [myid:] - INFO  [main:ZKAuditProvider@42] - ZooKeeper audit "
            "is "
            "disabled.\n"
            "2026-11-30 14:56:22,048 [myid:] - ERROR [main:ServiceUtils@42] - Exiting JVM with "
            "code 2\n",
            "ERROR [main:QuorumPeerMain@99] - Invalid config, exiting abnormally — Caused by: "
            "java.lang.IllegalArgumentException: serverid nan is not a number"},
        // A JVM that cannot start after a healthy run's last lines.
        CauseCase{"JvmErrorAfterEarlierRun",
                  "2026-11-30 10:00:00,000 [myid:1] - INFO  [main:o.a.z.s.ZooKeeperServer@100] - "
                  "serving\n"
                  "Unrecognized VM option 'NoSuchJvmOption'\n"
                  "Error: Could not create the Java Virtual Machine.\n"
                  "Error: A fatal exception has occurred. Program will exit.\n",
                  "Unrecognized VM option 'NoSuchJvmOption'"}),
    [](const ::testing::TestParamInfo<CauseCase>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace zkpilot
