# bench/tls (not a test): write latency and throughput over plaintext and TLS
# on one ensemble; run by scripts/bench-tls.sh.
add_executable(bench_tls bench/tls_bench.cc)
target_link_libraries(bench_tls PRIVATE zkpilot_zk_fixture)
