# CUDA target checks that need no GPU (NVRTC + ptxas); GPU numerics run where a GPU exists.
add_test(NAME cuda.nvrtc COMMAND ${CMAKE_CURRENT_LIST_DIR}/nvrtc.sh $<TARGET_FILE:hepnc> ${CMAKE_BINARY_DIR}/cuda_nvrtc)
set_tests_properties(cuda.nvrtc PROPERTIES LABELS quick SKIP_RETURN_CODE 77)

# Each parity model's GPU object against its CPU object on its fixture (bench/part_gpu/gpu_harness.c:
# every output within 1e-5, two GPU runs byte-identical); "skipped: no GPU" (77) where no GPU exists.
if(TARGET hepnc_gpu)
  foreach(model part_small part_small_pairs pfn fcn)
    set(cugen ${CMAKE_BINARY_DIR}/gen/${model}-cuda)
    set(cufiles ${cugen}/${model}.c ${cugen}/${model}_load.c ${cugen}/${model}_entry.c ${cugen}/${model}_cuda.c
                ${cugen}/${model}_cuda_source.c ${cugen}/${model}_cuda_entry.c)
    add_custom_command(
      OUTPUT ${cufiles}
      COMMAND hepnc compile ${PROJECT_SOURCE_DIR}/models/${model}.yaml --target cuda --blas none -o ${cugen}
      DEPENDS hepnc ${PROJECT_SOURCE_DIR}/models/${model}.yaml ${PROJECT_SOURCE_DIR}/templates/cuda/kernels.cuh
      COMMENT "Generating ${model} for CUDA")
    add_executable(test_gpu_${model} ${PROJECT_SOURCE_DIR}/bench/part_gpu/gpu_harness.c
                   ${PROJECT_SOURCE_DIR}/compiler/infer_io.c ${cufiles})
    target_include_directories(test_gpu_${model} PRIVATE ${cugen} ${PROJECT_SOURCE_DIR}/compiler)
    target_link_libraries(test_gpu_${model} PRIVATE hepnc_gpu hepnc_runtime m)
    add_test(NAME gpu.${model} COMMAND test_gpu_${model} ${PROJECT_SOURCE_DIR}/tests/parity/${model}/weights.safetensors
             ${PROJECT_SOURCE_DIR}/tests/parity/${model}/inputs.h5)
    set_tests_properties(gpu.${model} PROPERTIES LABELS gpu SKIP_RETURN_CODE 77)
  endforeach()
endif()
