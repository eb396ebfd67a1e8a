# Parity with the PyTorch fixtures, and rejection of bad weight files.
add_executable(compare_outputs ${CMAKE_CURRENT_LIST_DIR}/compare_outputs.c)
target_include_directories(compare_outputs PRIVATE ${HDF5_C_INCLUDE_DIRS} ${HDF5_INCLUDE_DIRS})
target_link_libraries(compare_outputs PRIVATE ${HDF5_C_LIBRARIES} ${HDF5_LIBRARIES} m)
set_target_properties(compare_outputs PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR})
foreach(model pfn fcn part_small part_small_pairs part_small_sm part_small_sm_concat)
  add_test(NAME parity.${model}
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_parity.sh $<TARGET_FILE:hepnc> $<TARGET_FILE:compare_outputs> ${model}
            ${CMAKE_BINARY_DIR}/parity)
  set_tests_properties(parity.${model} PROPERTIES LABELS quick)
endforeach()
# sm_interaction against the independent NumPy reference of the SM interaction matrix, and its errors.
add_test(NAME parity.sm_interaction COMMAND ${CMAKE_CURRENT_LIST_DIR}/sm_interaction.sh $<TARGET_FILE:hepnc>
         ${CMAKE_BINARY_DIR}/sm_interaction)
set_tests_properties(parity.sm_interaction PROPERTIES LABELS quick)
add_test(NAME parity.bad_weights COMMAND ${CMAKE_CURRENT_LIST_DIR}/bad_weights.sh $<TARGET_FILE:hepnc>
         ${CMAKE_BINARY_DIR}/bad_weights)
set_tests_properties(parity.bad_weights PROPERTIES LABELS quick)
add_test(NAME parity.compare_tool COMMAND ${CMAKE_CURRENT_LIST_DIR}/compare_tool.sh $<TARGET_FILE:hepnc>
         ${CMAKE_BINARY_DIR}/compare_tool)
set_tests_properties(parity.compare_tool PROPERTIES LABELS quick)
add_test(NAME parity.particlenet_trained COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_particlenet.sh $<TARGET_FILE:hepnc>
         $<TARGET_FILE:compare_outputs> ${CMAKE_BINARY_DIR}/parity_particlenet)
set_tests_properties(parity.particlenet_trained PROPERTIES LABELS quick SKIP_RETURN_CODE 77)
# SPANet against upstream SPANet itself (tests/parity/gen_spanet_fixture.py): assignment log-probabilities,
# detection probabilities and the decoded assignments.
foreach(model spanet_small spanet_tth_small)
  add_test(NAME parity.${model} COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_spanet.sh $<TARGET_FILE:hepnc>
           $<TARGET_FILE:compare_outputs> ${model} ${CMAKE_BINARY_DIR}/parity_${model})
  set_tests_properties(parity.${model} PROPERTIES LABELS quick)
endforeach()
# SPANet's own example file end to end (skipped without ../shared/data).
add_test(NAME parity.spanet_shared_example COMMAND ${CMAKE_CURRENT_LIST_DIR}/spanet_shared.sh $<TARGET_FILE:hepnc>
         ${CMAKE_BINARY_DIR}/spanet_shared)
set_tests_properties(parity.spanet_shared_example PROPERTIES LABELS quick SKIP_RETURN_CODE 77)
# IAFormer against upstream IAFormer itself (tests/parity/gen_iaformer_fixture.py): its pair features and logits.
add_executable(iaformer_features ${CMAKE_CURRENT_LIST_DIR}/iaformer_features.c)
target_include_directories(iaformer_features PRIVATE ${HDF5_C_INCLUDE_DIRS} ${HDF5_INCLUDE_DIRS})
target_link_libraries(iaformer_features PRIVATE ${HDF5_C_LIBRARIES} ${HDF5_LIBRARIES} m)
set_target_properties(iaformer_features PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR} C_STANDARD 11 C_EXTENSIONS OFF)
add_test(NAME parity.iaformer COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_iaformer.sh $<TARGET_FILE:hepnc>
         $<TARGET_FILE:compare_outputs> $<TARGET_FILE:iaformer_features> ${CMAKE_BINARY_DIR}/parity_iaformer)
set_tests_properties(parity.iaformer PROPERTIES LABELS quick)
