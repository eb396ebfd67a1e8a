add_test(NAME data.darkmachines COMMAND ${CMAKE_CURRENT_LIST_DIR}/darkmachines.sh $<TARGET_FILE:hepnc>
         ${CMAKE_BINARY_DIR}/data_darkmachines)
set_tests_properties(data.darkmachines PROPERTIES LABELS quick)
