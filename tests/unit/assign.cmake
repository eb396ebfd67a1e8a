add_executable(test_assign ${CMAKE_CURRENT_LIST_DIR}/test_assign.c)
target_link_libraries(test_assign PRIVATE hepnc_runtime m)
add_test(NAME unit.assign COMMAND test_assign)
set_tests_properties(unit.assign PROPERTIES LABELS quick)
