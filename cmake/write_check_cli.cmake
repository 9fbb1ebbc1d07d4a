# The write checker as a program (tests/write_checker/write_check_main.cc), for
# scenarios on the Kubernetes test cluster: it runs inside the cluster network.
if(TARGET zkpilot_write_checker)
  add_executable(zkpilot-write-check tests/write_checker/write_check_main.cc)
  target_link_libraries(zkpilot-write-check PRIVATE zkpilot_write_checker CLI11::CLI11)
endif()
