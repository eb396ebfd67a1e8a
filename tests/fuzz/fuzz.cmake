# Front-end robustness on mutated specs (quick tier: 600 mutants).
find_program(PYTHON3 python3)
if(PYTHON3)
  add_test(NAME fuzz.spec_mutations COMMAND ${PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/spec_mutations.py $<TARGET_FILE:hepnc>
           ${PROJECT_SOURCE_DIR}/models 600)
  set_tests_properties(fuzz.spec_mutations PROPERTIES LABELS quick WORKING_DIRECTORY ${CMAKE_BINARY_DIR})
endif()
