# Runtime I/O: safetensors weights and the HDF5 data layout of docs/data.md.
# Each test writes its files into a fresh directory under the build tree and removes it.
add_executable(test_weights ${CMAKE_CURRENT_LIST_DIR}/test_weights.c)
target_link_libraries(test_weights PRIVATE hepnc_runtime m)
add_test(NAME unit.weights COMMAND test_weights ${CMAKE_CURRENT_BINARY_DIR}/unit_tmp)
set_tests_properties(unit.weights PROPERTIES LABELS quick)

# test_data writes its input files with the HDF5 C API itself, so it needs HDF5's headers too.
add_executable(test_data ${CMAKE_CURRENT_LIST_DIR}/test_data.c)
target_include_directories(test_data PRIVATE ${HDF5_C_INCLUDE_DIRS} ${HDF5_INCLUDE_DIRS})
target_link_libraries(test_data PRIVATE hepnc_runtime ${HDF5_C_LIBRARIES} ${HDF5_LIBRARIES} m)
add_test(NAME unit.data COMMAND test_data ${CMAKE_CURRENT_BINARY_DIR}/unit_tmp)
set_tests_properties(unit.data PROPERTIES LABELS quick)

# The public headers from C++ hosts (tests/unit/headers_cxx.sh).
add_test(NAME unit.headers_cxx COMMAND ${CMAKE_CURRENT_LIST_DIR}/headers_cxx.sh)
set_tests_properties(unit.headers_cxx PROPERTIES LABELS quick)
