# The SPANet event topology reader (compiler/topology.c): built from its own sources so that it does not
# wait for the whole compiler library. SPANet's own ttbar file is checked where ../shared has it.
add_executable(test_topology ${CMAKE_CURRENT_LIST_DIR}/test_topology.c
  ${PROJECT_SOURCE_DIR}/compiler/topology.c ${PROJECT_SOURCE_DIR}/compiler/topology_groups.c ${PROJECT_SOURCE_DIR}/compiler/diag.c)
target_include_directories(test_topology PRIVATE ${PROJECT_SOURCE_DIR}/compiler)
target_link_libraries(test_topology PRIVATE PkgConfig::YAML)
add_test(NAME unit.topology COMMAND test_topology ${PROJECT_SOURCE_DIR}/tools/gen/topologies
         ${PROJECT_SOURCE_DIR}/../shared/data/spanet/full_hadronic_ttbar.yaml)
set_tests_properties(unit.topology PROPERTIES LABELS quick)
