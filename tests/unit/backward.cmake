# The backward kernel templates (templates/c/backward_*.h): every kernel against a double-precision
# analytic reference and against finite differences of a double-precision forward (test_backward.c),
# built with HN_USE_CBLAS (so hn_kb_linear_cblas is covered too); and every backward template compiling
# on its own and after the forward templates pasted in the emitter's order, as C11 with warnings as errors.
add_executable(test_backward ${CMAKE_CURRENT_LIST_DIR}/test_backward.c)
target_include_directories(test_backward PRIVATE ${PROJECT_SOURCE_DIR}/templates/c ${CBLAS_INCLUDE_DIR})
target_compile_definitions(test_backward PRIVATE HN_USE_CBLAS)
target_link_libraries(test_backward PRIVATE ${OPENBLAS_LIBRARY} m)
add_test(NAME unit.backward COMMAND test_backward)
set_tests_properties(unit.backward PROPERTIES LABELS quick ENVIRONMENT "OPENBLAS_NUM_THREADS=1")
add_executable(test_backward_ew ${CMAKE_CURRENT_LIST_DIR}/test_backward_ew.c)
target_include_directories(test_backward_ew PRIVATE ${PROJECT_SOURCE_DIR}/templates/c ${CBLAS_INCLUDE_DIR})
target_compile_definitions(test_backward_ew PRIVATE HN_USE_CBLAS)
target_link_libraries(test_backward_ew PRIVATE ${OPENBLAS_LIBRARY} m)
add_test(NAME unit.backward_ew COMMAND test_backward_ew)
set_tests_properties(unit.backward_ew PROPERTIES LABELS quick)
# SPANet's kernels (GRU gate, symmetric assignment head): with HN_USE_CBLAS (the gate's GEMMs through
# OpenBLAS) and, as test_backward_spanet_loops, without (hn_kb_linear / hn_k_linear); building
# test_backward_spanet builds both.
add_executable(test_backward_spanet ${CMAKE_CURRENT_LIST_DIR}/test_backward_spanet.c)
target_include_directories(test_backward_spanet PRIVATE ${PROJECT_SOURCE_DIR}/templates/c ${CBLAS_INCLUDE_DIR})
target_compile_definitions(test_backward_spanet PRIVATE HN_USE_CBLAS)
target_link_libraries(test_backward_spanet PRIVATE ${OPENBLAS_LIBRARY} m)
add_executable(test_backward_spanet_loops ${CMAKE_CURRENT_LIST_DIR}/test_backward_spanet.c)
target_include_directories(test_backward_spanet_loops PRIVATE ${PROJECT_SOURCE_DIR}/templates/c)
target_link_libraries(test_backward_spanet_loops PRIVATE m)
add_dependencies(test_backward_spanet test_backward_spanet_loops)
add_test(NAME unit.backward_spanet COMMAND test_backward_spanet)
add_test(NAME unit.backward_spanet.loops COMMAND test_backward_spanet_loops)
set_tests_properties(unit.backward_spanet unit.backward_spanet.loops PROPERTIES LABELS quick
                     ENVIRONMENT "OPENBLAS_NUM_THREADS=1")

# IAFormer's kernels (RMSNorm, feature mean, differential attention and β),
# likewise with and without HN_USE_CBLAS; building test_backward_iaformer builds both.
add_executable(test_backward_iaformer ${CMAKE_CURRENT_LIST_DIR}/test_backward_iaformer.c)
target_include_directories(test_backward_iaformer PRIVATE ${PROJECT_SOURCE_DIR}/templates/c ${CBLAS_INCLUDE_DIR})
target_compile_definitions(test_backward_iaformer PRIVATE HN_USE_CBLAS)
target_link_libraries(test_backward_iaformer PRIVATE ${OPENBLAS_LIBRARY} m)
add_executable(test_backward_iaformer_loops ${CMAKE_CURRENT_LIST_DIR}/test_backward_iaformer.c)
target_include_directories(test_backward_iaformer_loops PRIVATE ${PROJECT_SOURCE_DIR}/templates/c)
target_link_libraries(test_backward_iaformer_loops PRIVATE m)
add_dependencies(test_backward_iaformer test_backward_iaformer_loops)
add_test(NAME unit.backward_iaformer COMMAND test_backward_iaformer)
add_test(NAME unit.backward_iaformer.loops COMMAND test_backward_iaformer_loops)
set_tests_properties(unit.backward_iaformer unit.backward_iaformer.loops PROPERTIES LABELS quick
                     ENVIRONMENT "OPENBLAS_NUM_THREADS=1")
# the interaction embedding's parameters (test_backward_interaction.c), likewise
foreach(suffix "" _loops)
  add_executable(test_backward_interaction${suffix} ${CMAKE_CURRENT_LIST_DIR}/test_backward_interaction.c)
  target_include_directories(test_backward_interaction${suffix} PRIVATE ${PROJECT_SOURCE_DIR}/templates/c ${CBLAS_INCLUDE_DIR})
  target_link_libraries(test_backward_interaction${suffix} PRIVATE m)
endforeach()
target_compile_definitions(test_backward_interaction PRIVATE HN_USE_CBLAS)
target_link_libraries(test_backward_interaction PRIVATE ${OPENBLAS_LIBRARY})
add_dependencies(test_backward_interaction test_backward_interaction_loops)
add_test(NAME unit.backward_interaction COMMAND test_backward_interaction)
add_test(NAME unit.backward_interaction.loops COMMAND test_backward_interaction_loops)
set_tests_properties(unit.backward_interaction unit.backward_interaction.loops PROPERTIES LABELS quick
                     ENVIRONMENT "OPENBLAS_NUM_THREADS=1")

set(HN_KB_TEMPLATES backward_linear backward_norm backward_softmax backward_pool backward_elementwise backward_dropout
                    backward_class_attention backward_pair backward_parallel
                    backward_attention backward_gru_gate backward_assignment backward_interaction)
set(HN_KB_FORWARD common activations linear norm softmax pool elementwise pair attention edgeconv gru_gate assignment
                  interaction)
set(HN_KB_FLAGS -std=c11 -Wall -Wextra -Werror -Wpedantic -fsyntax-only)
set(HN_KB_COMPILERS ${CMAKE_C_COMPILER})
find_program(HN_KB_CLANG NAMES clang clang-14)
if(HN_KB_CLANG AND NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
  list(APPEND HN_KB_COMPILERS ${HN_KB_CLANG})
endif()
set(pasted "")
foreach(t ${HN_KB_FORWARD} ${HN_KB_TEMPLATES})
  string(APPEND pasted " '${PROJECT_SOURCE_DIR}/templates/c/${t}.h'")
endforeach()
foreach(cc ${HN_KB_COMPILERS})
  get_filename_component(cc_name ${cc} NAME)
  foreach(t ${HN_KB_TEMPLATES})
    add_test(NAME unit.backward.compile.${t}.${cc_name}
             COMMAND ${cc} ${HN_KB_FLAGS} -x c ${PROJECT_SOURCE_DIR}/templates/c/${t}.h)
    add_test(NAME unit.backward.compile.${t}.${cc_name}.cblas
             COMMAND ${cc} ${HN_KB_FLAGS} -DHN_USE_CBLAS -I${CBLAS_INCLUDE_DIR} -x c
                     ${PROJECT_SOURCE_DIR}/templates/c/${t}.h)
    set_tests_properties(unit.backward.compile.${t}.${cc_name} unit.backward.compile.${t}.${cc_name}.cblas
                         PROPERTIES LABELS quick)
  endforeach()
  add_test(NAME unit.backward.compile.pasted.${cc_name}
           COMMAND sh -c "cat${pasted} | '${cc}' -std=c11 -Wall -Wextra -Werror -Wpedantic -fsyntax-only -x c -")
  add_test(NAME unit.backward.compile.pasted.${cc_name}.cblas
           COMMAND sh -c "cat${pasted} | '${cc}' -std=c11 -Wall -Wextra -Werror -Wpedantic -fsyntax-only -DHN_USE_CBLAS '-I${CBLAS_INCLUDE_DIR}' -x c -")
  set_tests_properties(unit.backward.compile.pasted.${cc_name} unit.backward.compile.pasted.${cc_name}.cblas
                       PROPERTIES LABELS quick WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
endforeach()

# The training-only kernels (class attention backward, weighted pair rows, thread-split maps), with
# OpenMP on two threads.
find_package(OpenMP COMPONENTS C)
add_executable(test_backward_train ${CMAKE_CURRENT_LIST_DIR}/test_backward_train.c)
target_include_directories(test_backward_train PRIVATE ${PROJECT_SOURCE_DIR}/templates/c ${CBLAS_INCLUDE_DIR})
target_compile_definitions(test_backward_train PRIVATE HN_USE_CBLAS)
target_link_libraries(test_backward_train PRIVATE ${OPENBLAS_LIBRARY} m)
if(OpenMP_C_FOUND)
  target_link_libraries(test_backward_train PRIVATE OpenMP::OpenMP_C)
endif()
add_test(NAME unit.backward_train COMMAND test_backward_train)
set_tests_properties(unit.backward_train PROPERTIES LABELS quick ENVIRONMENT "OMP_NUM_THREADS=2;OPENBLAS_NUM_THREADS=1")
