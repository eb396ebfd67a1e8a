# Generated code: determinism, libclang and -Werror for every model in models/.
file(GLOB HN_MODEL_SPECS ${PROJECT_SOURCE_DIR}/models/*.yaml)
foreach(spec ${HN_MODEL_SPECS})
  get_filename_component(model ${spec} NAME_WE)
  add_test(NAME codegen.${model}
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/check_model.sh $<TARGET_FILE:hepnc> ${spec} ${CMAKE_BINARY_DIR}/codegen
            ${PROJECT_SOURCE_DIR}/runtime/include ${CBLAS_INCLUDE_DIR})
  set_tests_properties(codegen.${model} PROPERTIES LABELS quick)
endforeach()

# hepnc bench runs (a smoke test: it prints latency and throughput lines; timings are not asserted).
add_test(NAME codegen.bench_smoke COMMAND ${CMAKE_COMMAND} -E env HEPNC_CACHE=${CMAKE_BINARY_DIR}/bench_smoke
         $<TARGET_FILE:hepnc> bench ${PROJECT_SOURCE_DIR}/models/pfn.yaml --reps 10 --batch 8)
set_tests_properties(codegen.bench_smoke PROPERTIES LABELS quick
  PASS_REGULAR_EXPRESSION "batch 1 +median [0-9.]+ ms/event.*batch 8 +[0-9]+ events/s")
