add_test(NAME data.darkmachines COMMAND ${CMAKE_CURRENT_LIST_DIR}/darkmachines.sh $<TARGET_FILE:hepnc>
         ${CMAKE_BINARY_DIR}/data_darkmachines)
set_tests_properties(data.darkmachines PROPERTIES LABELS quick)
add_test(NAME data.spanet_layout COMMAND ${CMAKE_CURRENT_LIST_DIR}/spanet.sh $<TARGET_FILE:hepnc> ${CMAKE_BINARY_DIR}/data_spanet)
set_tests_properties(data.spanet_layout PROPERTIES LABELS quick SKIP_RETURN_CODE 77)
add_test(NAME data.spanet_sample COMMAND ${CMAKE_CURRENT_LIST_DIR}/spanet_sample.sh $<TARGET_FILE:hepnc> ${CMAKE_BINARY_DIR}/data_spanet_sample)
set_tests_properties(data.spanet_sample PROPERTIES LABELS quick SKIP_RETURN_CODE 77)
add_test(NAME data.darkmachines_sample COMMAND ${CMAKE_CURRENT_LIST_DIR}/darkmachines_sample.sh $<TARGET_FILE:hepnc>
         ${CMAKE_BINARY_DIR}/data_darkmachines_sample)
set_tests_properties(data.darkmachines_sample PROPERTIES LABELS quick SKIP_RETURN_CODE 77)
