// Test support: one kube-sim cluster (tests/kube-sim) per test binary, with
// the binary itself running inside the cluster network, where pod IPs and
// cluster DNS names resolve (the ZooKeeper pods answer only there).
//
//   int main(int argc, char** argv) {
//     if (auto code = zkpilot::kubesim::RunInside(argc, argv)) return *code;
//     ::testing::InitGoogleTest(&argc, argv);
//     return RUN_ALL_TESTS();
//   }
//
// Outside (the first run) RunInside starts a cluster in a temporary state
// directory, runs this binary again through `kube-sim run` and stops the
// cluster (and removes the directory) whatever the tests did; it returns the
// inner run's exit code. Inside it returns nullopt. Needs root, node and
// kubectl (as kube-sim does).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "platform/kubernetes/kube_client.h"
#include "util/status.h"

namespace zkpilot::kubesim {

std::optional<int> RunInside(int argc, char** argv);

// The cluster's state directory and a kubeconfig that works inside its network.
std::string StateDir();
std::string Kubeconfig();

// A client of the cluster's admin user, default namespace `ns`.
std::unique_ptr<KubeClient> Client(const std::string& ns = "default");

// Runs kubectl with the kubeconfig (and `input` on its stdin); returns its
// exit code, stdout+stderr in `output`.
int Kubectl(const std::vector<std::string>& args, std::string* output = nullptr,
            const std::string& input = "");

// A fresh namespace for one test (created now; named <prefix>-<n>).
std::string NewNamespace(const std::string& prefix);

}  // namespace zkpilot::kubesim
