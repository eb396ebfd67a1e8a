# Every op through the whole pipeline against a double-precision reference.
add_executable(test_ops ${CMAKE_CURRENT_LIST_DIR}/test_ops.c)
target_link_libraries(test_ops PRIVATE hepnc_compiler -Wl,--whole-archive hepnc_runtime -Wl,--no-whole-archive m)
set_target_properties(test_ops PROPERTIES ENABLE_EXPORTS ON)
add_test(NAME unit.ops COMMAND test_ops)
set_tests_properties(unit.ops PROPERTIES LABELS quick)
