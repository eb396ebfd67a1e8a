# CUDA target checks that need no GPU (NVRTC + ptxas); GPU numerics run where a GPU exists.
add_test(NAME cuda.nvrtc COMMAND ${CMAKE_CURRENT_LIST_DIR}/nvrtc.sh $<TARGET_FILE:hepnc> ${CMAKE_BINARY_DIR}/cuda_nvrtc)
set_tests_properties(cuda.nvrtc PROPERTIES LABELS quick SKIP_RETURN_CODE 77)

# part_small on a GPU against the CPU object (skipped without a GPU).
if(TARGET hepnc_gpu)
  set(cugen ${CMAKE_BINARY_DIR}/gen/part_small-cuda)
  add_custom_command(
    OUTPUT ${cugen}/part_small.c ${cugen}/part_small_load.c ${cugen}/part_small_cuda.c ${cugen}/part_small_cuda_source.c
    COMMAND hepnc compile ${PROJECT_SOURCE_DIR}/models/part_small.yaml --target cuda -o ${cugen}
    DEPENDS hepnc ${PROJECT_SOURCE_DIR}/models/part_small.yaml ${PROJECT_SOURCE_DIR}/templates/cuda/kernels.cuh
    COMMENT "Generating part_small for CUDA")
  add_executable(test_gpu_parity ${CMAKE_CURRENT_LIST_DIR}/gpu_parity.c ${cugen}/part_small.c ${cugen}/part_small_load.c
                 ${cugen}/part_small_cuda.c ${cugen}/part_small_cuda_source.c)
  target_include_directories(test_gpu_parity PRIVATE ${cugen})
  target_link_libraries(test_gpu_parity PRIVATE hepnc_gpu hepnc_runtime m)
  add_test(NAME gpu.part_small COMMAND test_gpu_parity ${PROJECT_SOURCE_DIR}/tests/parity/part_small/weights.safetensors
           ${PROJECT_SOURCE_DIR}/tests/parity/part_small/inputs.h5)
  set_tests_properties(gpu.part_small PROPERTIES LABELS gpu SKIP_RETURN_CODE 77)
endif()
