add_executable(test_metrics ${CMAKE_CURRENT_LIST_DIR}/test_metrics.c)
target_link_libraries(test_metrics PRIVATE hepnc_runtime m)
add_test(NAME unit.metrics COMMAND test_metrics)
set_tests_properties(unit.metrics PROPERTIES LABELS quick)
