# hepnc split (compiler/cmd_split.c): train/val/test parts of a dataset.
add_test(NAME data.split COMMAND ${CMAKE_CURRENT_LIST_DIR}/split.sh $<TARGET_FILE:hepnc> ${CMAKE_BINARY_DIR}/split)
set_tests_properties(data.split PROPERTIES LABELS quick)
