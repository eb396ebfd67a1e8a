# The training loop (runtime/trainer*.c, hepnc/trainer.h) on a hand-written mock training entry and
# small HDF5 files the test writes: loss decreases, exact resume, SIGINT, atomic checkpoints; and the
# significance of a working point (runtime/significance.c) against hand-computed numbers.
add_library(trainloop_fixture STATIC ${CMAKE_CURRENT_LIST_DIR}/fixture.c ${CMAKE_CURRENT_LIST_DIR}/mock_model.c)
target_include_directories(trainloop_fixture PRIVATE ${HDF5_C_INCLUDE_DIRS} ${HDF5_INCLUDE_DIRS})
target_link_libraries(trainloop_fixture PUBLIC hepnc_runtime ${HDF5_C_LIBRARIES} ${HDF5_LIBRARIES} m)

add_executable(test_trainloop ${CMAKE_CURRENT_LIST_DIR}/test_trainloop.c)
target_link_libraries(test_trainloop PRIVATE trainloop_fixture)
add_test(NAME trainloop.loop COMMAND test_trainloop ${CMAKE_CURRENT_BINARY_DIR}/trainloop_tmp)
set_tests_properties(trainloop.loop PROPERTIES LABELS quick TIMEOUT 120)

# weaver's SequenceTrimmer on a batch (runtime/trainer_trim.c).
add_executable(test_trim ${CMAKE_CURRENT_LIST_DIR}/test_trim.c)
target_include_directories(test_trim PRIVATE ${PROJECT_SOURCE_DIR}/runtime)
target_link_libraries(test_trim PRIVATE hepnc_runtime m)
add_test(NAME trainloop.trim COMMAND test_trim)
set_tests_properties(trainloop.trim PROPERTIES LABELS quick)

add_executable(test_significance ${CMAKE_CURRENT_LIST_DIR}/test_significance.c)
target_link_libraries(test_significance PRIVATE trainloop_fixture)
add_test(NAME trainloop.significance COMMAND test_significance)
set_tests_properties(trainloop.significance PROPERTIES LABELS quick)

# hepnc train / eval end to end on models/pfn.yaml's generated training code (skipped without the
# bundled top/QCD sample): exact resume, Ctrl-C, the significance table, the PNGs or their warnings.
add_test(NAME trainloop.cli COMMAND ${CMAKE_CURRENT_LIST_DIR}/cli_train.sh $<TARGET_FILE:hepnc>
         ${CMAKE_CURRENT_BINARY_DIR}/trainloop_cli)
set_tests_properties(trainloop.cli PROPERTIES LABELS quick SKIP_RETURN_CODE 77 TIMEOUT 300)
