add_test(NAME docs.spec_reference COMMAND ${CMAKE_CURRENT_LIST_DIR}/check_spec_doc.sh $<TARGET_FILE:hepnc>
         ${PROJECT_SOURCE_DIR}/docs/spec.md)
set_tests_properties(docs.spec_reference PROPERTIES LABELS quick)
