# The Kubernetes test cluster (tests/kube-sim/): its own unit tests (node's
# test runner, one CTest test per file), the conformance suite that drives it
# with real kubectl, and the default package applied to it as a user would.
# They need root (network and mount namespaces), node and kubectl.

find_program(KUBE_SIM_NODE node)
find_program(KUBE_SIM_KUBECTL kubectl)
if(NOT KUBE_SIM_NODE OR NOT KUBE_SIM_KUBECTL)
  message(WARNING "node or kubectl not found: the Kubernetes test cluster's suites (tests/kube-sim) are not registered")
endif()
if(KUBE_SIM_NODE AND KUBE_SIM_KUBECTL)
  set(kube_sim_dir ${CMAKE_SOURCE_DIR}/tests/kube-sim)
  file(GLOB_RECURSE kube_sim_unit_files CONFIGURE_DEPENDS ${kube_sim_dir}/test/*.test.js)
  foreach(file ${kube_sim_unit_files})
    file(RELATIVE_PATH rel ${kube_sim_dir}/test ${file})
    string(REGEX REPLACE "\\.test\\.js$" "" name ${rel})
    string(REPLACE "/" "_" name ${name})
    add_test(NAME kube_sim_unit_${name}
      COMMAND ${KUBE_SIM_NODE} --test --test-reporter=spec ${file}
      WORKING_DIRECTORY ${kube_sim_dir})
    set_tests_properties(kube_sim_unit_${name} PROPERTIES LABELS "kube-sim;unit" TIMEOUT 600
      ENVIRONMENT "ZKPILOT_BINARY=$<TARGET_FILE:zkpilot>")
    # Those that run processes in namespaces (pods, JVMs, kubectl) load a
    # 2-core machine enough to disturb the timing-sensitive local-platform
    # tests beside them: they run alone.
    if(name MATCHES "^(kubelet|kubelet-netpol|runtime|network|netpol|zookeeper-image|exec|apiserver|apiserver-sub)$")
      set_tests_properties(kube_sim_unit_${name} PROPERTIES RUN_SERIAL TRUE)
    endif()
  endforeach()

  file(GLOB kube_sim_conformance_files CONFIGURE_DEPENDS ${kube_sim_dir}/conformance/*.sh)
  foreach(file ${kube_sim_conformance_files})
    get_filename_component(name ${file} NAME_WE)
    add_test(NAME kube_sim_conformance_${name} COMMAND bash ${file})
    set_tests_properties(kube_sim_conformance_${name} PROPERTIES LABELS "kube-sim;integration" TIMEOUT 600
      RUN_SERIAL TRUE ENVIRONMENT "ZKPILOT_BINARY=$<TARGET_FILE:zkpilot>;ZKPILOT_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
  endforeach()

  # Real ZooKeeper ensembles in pods: several JVMs each, so one at a time.
  file(GLOB kube_sim_e2e_files CONFIGURE_DEPENDS ${kube_sim_dir}/e2e/*.sh)
  foreach(file ${kube_sim_e2e_files})
    get_filename_component(name ${file} NAME_WE)
    add_test(NAME kube_sim_e2e_${name} COMMAND bash ${file})
    set_tests_properties(kube_sim_e2e_${name} PROPERTIES LABELS "kube-sim;integration;zookeeper"
      TIMEOUT 900 RUN_SERIAL TRUE
      ENVIRONMENT "ZKPILOT_BINARY=$<TARGET_FILE:zkpilot>;ZKPILOT_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
  endforeach()
endif()
