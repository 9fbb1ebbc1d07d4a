// bench/render: time to load the default package and render it at several
// sizes. Run: scripts/bench-render (or build/bench_render). Prints Google
// Benchmark's table: wall time and CPU time per render, objects rendered.
#include <benchmark/benchmark.h>

#include "actions/render_action.h"
#include "package/package_loader.h"

namespace {

const std::string kPackage = std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper";

// Render only (package parsed once): what every operation pays per plan.
void BM_Render(benchmark::State& state) {
  auto pkg = zkpilot::LoadPackage(kPackage);
  if (!pkg.ok()) {
    state.SkipWithError(pkg.status().message().c_str());
    return;
  }
  zkpilot::ValuesInput in;
  in.sets = {"replicas=" + std::to_string(state.range(0))};
  if (state.range(1)) in.sets.insert(in.sets.end(), {"zoonavigator.enabled=true", "zoonavigator.readOnly=false", "prometheus.enabled=true",
                                                     "alertmanager.enabled=true", "grafana.enabled=true"});
  auto values = zkpilot::ResolveValues(pkg->schema, in);
  size_t objects = 0, bytes = 0;
  for (auto _ : state) {
    auto out = zkpilot::RenderManifests(*pkg, *values, {"demo", "zk"});
    std::string yaml = zkpilot::ToYamlStream(*out);
    objects = out->size();
    bytes = yaml.size();
    benchmark::DoNotOptimize(yaml);
  }
  state.counters["objects"] = static_cast<double>(objects);
  state.counters["yaml_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_Render)->ArgNames({"replicas", "addons"})->Args({3, 0})->Args({5, 0})->Args({51, 0})->Args({3, 1})->Args({51, 1})->Unit(benchmark::kMillisecond);

// The whole `zkpilot render` path: read the package from disk, merge values, render, emit.
void BM_LoadAndRender(benchmark::State& state) {
  zkpilot::RenderRequest req;
  req.package_dir = kPackage;
  req.values.sets = {"replicas=" + std::to_string(state.range(0))};
  for (auto _ : state) {
    auto out = zkpilot::RunRender(req);
    if (!out.ok()) {
      state.SkipWithError(out.status().message().c_str());
      return;
    }
    benchmark::DoNotOptimize(*out);
  }
}
BENCHMARK(BM_LoadAndRender)->ArgName("replicas")->Arg(3)->Arg(5)->Arg(51)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
