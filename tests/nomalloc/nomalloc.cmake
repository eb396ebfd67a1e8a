# The generated inference path of pfn: no allocation, embedded = loaded, batch = single, padding unread.
foreach(blas none openblas)
  set(gen ${CMAKE_BINARY_DIR}/gen/pfn-${blas})
  add_custom_command(
    OUTPUT ${gen}/pfn.c ${gen}/pfn_load.c ${gen}/pfn_weights.c ${gen}/pfn.h
    COMMAND hepnc compile ${PROJECT_SOURCE_DIR}/models/pfn.yaml -o ${gen} --blas ${blas}
            --weights ${PROJECT_SOURCE_DIR}/tests/parity/pfn/weights.safetensors --embed-weights
    DEPENDS hepnc ${PROJECT_SOURCE_DIR}/models/pfn.yaml ${PROJECT_SOURCE_DIR}/tests/parity/pfn/weights.safetensors
    COMMENT "Generating pfn (--blas ${blas})")
  add_executable(test_nomalloc_${blas} ${CMAKE_CURRENT_LIST_DIR}/test_nomalloc.c ${gen}/pfn.c ${gen}/pfn_load.c
                 ${gen}/pfn_weights.c)
  target_include_directories(test_nomalloc_${blas} PRIVATE ${gen} ${CBLAS_INCLUDE_DIR})
  target_link_libraries(test_nomalloc_${blas} PRIVATE hepnc_runtime ${OPENBLAS_LIBRARY} m)
  if(blas STREQUAL openblas)
    target_compile_definitions(test_nomalloc_${blas} PRIVATE HN_TEST_CBLAS)
  endif()
  add_test(NAME unit.nomalloc_${blas} COMMAND test_nomalloc_${blas}
           ${PROJECT_SOURCE_DIR}/tests/parity/pfn/weights.safetensors ${PROJECT_SOURCE_DIR}/tests/parity/pfn/inputs.h5)
  set_tests_properties(unit.nomalloc_${blas} PROPERTIES LABELS quick ENVIRONMENT "OPENBLAS_NUM_THREADS=1")
endforeach()

# Every model (ParT, ParticleNet included) through the generic entry: no allocation in infer,
# padding unread, batch = single. The JetClass-size specs are covered by the reduced ParT, which has
# the same ops.
add_executable(test_nomalloc_models ${CMAKE_CURRENT_LIST_DIR}/test_nomalloc_models.c)
target_link_libraries(test_nomalloc_models PRIVATE hepnc_compiler -Wl,--whole-archive hepnc_runtime -Wl,--no-whole-archive m)
set_target_properties(test_nomalloc_models PROPERTIES ENABLE_EXPORTS ON)
add_test(NAME unit.nomalloc_models COMMAND test_nomalloc_models
         ${PROJECT_SOURCE_DIR}/models/pfn.yaml ${PROJECT_SOURCE_DIR}/models/fcn.yaml
         ${PROJECT_SOURCE_DIR}/models/part_small.yaml ${PROJECT_SOURCE_DIR}/models/part_small_pairs.yaml
         ${PROJECT_SOURCE_DIR}/models/particlenet_jetclass_kin.yaml)
set_tests_properties(unit.nomalloc_models PROPERTIES LABELS quick)
