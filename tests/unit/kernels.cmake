# The kernel templates (templates/c/*.h) on their own: every kernel against a double-precision
# reference (loop kernels and the cblas linear), and every template file compiling cleanly.
add_executable(test_kernels ${CMAKE_CURRENT_LIST_DIR}/test_kernels.c)
target_include_directories(test_kernels PRIVATE ${PROJECT_SOURCE_DIR}/templates/c ${CBLAS_INCLUDE_DIR})
target_compile_definitions(test_kernels PRIVATE HN_USE_CBLAS)
target_link_libraries(test_kernels PRIVATE ${OPENBLAS_LIBRARY} m)
add_test(NAME unit.kernels COMMAND test_kernels)
set_tests_properties(unit.kernels PROPERTIES LABELS quick ENVIRONMENT "OPENBLAS_NUM_THREADS=1")

# Each template compiles on its own (it includes what it needs behind guards), as C11 with warnings as
# errors, with and without HN_USE_CBLAS; and all of them pasted in the emitter's order (read from
# compiler/embed_templates.cmake, so templates added there are covered) into one translation unit with
# no include path (the guards must skip every #include "…", as in generated code).
set(HN_K_TEMPLATES common activations linear norm softmax pool elementwise sm_interaction gru_gate assignment assign_decode)
set(HN_K_PASTED ${HN_K_TEMPLATES})
file(STRINGS ${PROJECT_SOURCE_DIR}/compiler/embed_templates.cmake order_line REGEX "^set\\(ORDER ")
if(order_line)
  string(REGEX REPLACE "^set\\(ORDER ([^)]*)\\).*" "\\1" order "${order_line}")
  string(REPLACE ".h" "" order "${order}")
  separate_arguments(HN_K_PASTED UNIX_COMMAND "${order}")
endif()
set(HN_K_FLAGS -std=c11 -Wall -Wextra -Werror -Wpedantic -fsyntax-only)
set(HN_K_COMPILERS ${CMAKE_C_COMPILER})
find_program(HN_K_CLANG NAMES clang clang-14)
if(HN_K_CLANG AND NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
  list(APPEND HN_K_COMPILERS ${HN_K_CLANG})
endif()
foreach(cc ${HN_K_COMPILERS})
  get_filename_component(cc_name ${cc} NAME)
  foreach(t ${HN_K_TEMPLATES})
    add_test(NAME unit.kernels.compile.${t}.${cc_name}
             COMMAND ${cc} ${HN_K_FLAGS} -x c ${PROJECT_SOURCE_DIR}/templates/c/${t}.h)
    add_test(NAME unit.kernels.compile.${t}.${cc_name}.cblas
             COMMAND ${cc} ${HN_K_FLAGS} -DHN_USE_CBLAS -I${CBLAS_INCLUDE_DIR} -x c
                     ${PROJECT_SOURCE_DIR}/templates/c/${t}.h)
    set_tests_properties(unit.kernels.compile.${t}.${cc_name} unit.kernels.compile.${t}.${cc_name}.cblas
                         PROPERTIES LABELS quick)
  endforeach()
  set(pasted "")
  foreach(t ${HN_K_PASTED})
    string(APPEND pasted " '${PROJECT_SOURCE_DIR}/templates/c/${t}.h'")
  endforeach()
  add_test(NAME unit.kernels.compile.pasted.${cc_name}
           COMMAND sh -c "cat${pasted} | '${cc}' -std=c11 -Wall -Wextra -Werror -Wpedantic -fsyntax-only -x c -")
  add_test(NAME unit.kernels.compile.pasted.${cc_name}.cblas
           COMMAND sh -c "cat${pasted} | '${cc}' -std=c11 -Wall -Wextra -Werror -Wpedantic -fsyntax-only -DHN_USE_CBLAS '-I${CBLAS_INCLUDE_DIR}' -x c -")
  set_tests_properties(unit.kernels.compile.pasted.${cc_name} unit.kernels.compile.pasted.${cc_name}.cblas
                       PROPERTIES LABELS quick WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
endforeach()
