# hepnc import weaver: PyTorch checkpoints read without PyTorch (fixtures: tests/import/gen_pt_samples.py).
add_executable(check_import ${CMAKE_CURRENT_LIST_DIR}/check_import.c)
target_link_libraries(check_import PRIVATE hepnc_compiler m)
set_target_properties(check_import PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR})
foreach(part part_small errors reader)
  add_test(NAME import.${part}
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_import.sh ${part} $<TARGET_FILE:hepnc> $<TARGET_FILE:check_import>
            $<TARGET_FILE:compare_outputs> ${CMAKE_BINARY_DIR}/import)
  set_tests_properties(import.${part} PROPERTIES LABELS quick)
endforeach()
add_test(NAME import.particlenet_pt
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_import.sh particlenet_pt $<TARGET_FILE:hepnc> $<TARGET_FILE:check_import>
          $<TARGET_FILE:compare_outputs> ${CMAKE_BINARY_DIR}/import)
set_tests_properties(import.particlenet_pt PROPERTIES LABELS quick SKIP_RETURN_CODE 77)
