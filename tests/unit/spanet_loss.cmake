# SPANet's training loss (runtime/spanet_loss.c) against upstream SPANet's own loss and gradients on both
# parity fixtures (tests/parity/spanet_small, spanet_tth_small: loss.h5).
add_executable(test_spanet_loss ${CMAKE_CURRENT_LIST_DIR}/test_spanet_loss.c)
target_include_directories(test_spanet_loss PRIVATE ${HDF5_C_INCLUDE_DIRS} ${HDF5_INCLUDE_DIRS})
target_link_libraries(test_spanet_loss PRIVATE hepnc_runtime ${HDF5_C_LIBRARIES} ${HDF5_LIBRARIES} m)
add_test(NAME unit.spanet_loss COMMAND test_spanet_loss ${PROJECT_SOURCE_DIR}/tests/parity)
set_tests_properties(unit.spanet_loss PROPERTIES LABELS quick)
