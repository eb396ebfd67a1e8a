# Golden error messages of the spec front-end (tests/golden/run_errors.sh).
add_test(NAME golden.errors COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_errors.sh $<TARGET_FILE:hepnc>)
set_tests_properties(golden.errors PROPERTIES LABELS quick)
add_test(NAME golden.ir COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_ir.sh $<TARGET_FILE:hepnc>)
set_tests_properties(golden.ir PROPERTIES LABELS quick)
