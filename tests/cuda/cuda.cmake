# CUDA target checks that need no GPU (NVRTC + ptxas); GPU numerics run where a GPU exists.
add_test(NAME cuda.nvrtc COMMAND ${CMAKE_CURRENT_LIST_DIR}/nvrtc.sh $<TARGET_FILE:hepnc> ${CMAKE_BINARY_DIR}/cuda_nvrtc)
set_tests_properties(cuda.nvrtc PROPERTIES LABELS quick SKIP_RETURN_CODE 77)

add_test(NAME cuda.aot COMMAND ${CMAKE_CURRENT_LIST_DIR}/aot.sh $<TARGET_FILE:hepnc> ${CMAKE_BINARY_DIR}/cuda_aot)
set_tests_properties(cuda.aot PROPERTIES LABELS quick SKIP_RETURN_CODE 77)

# Each parity model's GPU object against its CPU object on its fixture (bench/part_gpu/gpu_harness.c:
# every output within 1e-5, two GPU runs byte-identical); "skipped: no GPU" (77) where no GPU exists.
if(TARGET hepnc_gpu)
  set(gpu_variants part_small part_small_pairs pfn fcn)
  find_program(NVCC_FOR_TESTS nvcc PATHS /usr/local/cuda/bin ENV CUDA_HOME PATH_SUFFIXES bin)
  if(NVCC_FOR_TESTS)
    list(APPEND gpu_variants part_small__aot)     # the kernels from nvcc's image (--aot), not NVRTC
  endif()
  foreach(variant ${gpu_variants})
    string(REGEX REPLACE "__aot$" "" model ${variant})
    set(aot)
    if(NOT variant STREQUAL model)
      set(aot --aot sm_80,sm_90)
    endif()
    set(cugen ${CMAKE_BINARY_DIR}/gen/${variant}-cuda)
    set(cufiles ${cugen}/${model}.c ${cugen}/${model}_load.c ${cugen}/${model}_entry.c ${cugen}/${model}_cuda.c
                ${cugen}/${model}_cuda_source.c ${cugen}/${model}_cuda_entry.c)
    add_custom_command(
      OUTPUT ${cufiles}
      COMMAND hepnc compile ${PROJECT_SOURCE_DIR}/models/${model}.yaml --target cuda --blas none ${aot} -o ${cugen}
      DEPENDS hepnc ${PROJECT_SOURCE_DIR}/models/${model}.yaml
      COMMENT "Generating ${variant} for CUDA")
    add_executable(test_gpu_${variant} ${PROJECT_SOURCE_DIR}/bench/part_gpu/gpu_harness.c
                   ${PROJECT_SOURCE_DIR}/compiler/infer_io.c ${cufiles})
    target_include_directories(test_gpu_${variant} PRIVATE ${cugen} ${PROJECT_SOURCE_DIR}/compiler)
    target_link_libraries(test_gpu_${variant} PRIVATE hepnc_gpu hepnc_runtime m)
    add_test(NAME gpu.${variant} COMMAND test_gpu_${variant} ${PROJECT_SOURCE_DIR}/tests/parity/${model}/weights.safetensors
             ${PROJECT_SOURCE_DIR}/tests/parity/${model}/inputs.h5)
    set_tests_properties(gpu.${variant} PROPERTIES LABELS gpu SKIP_RETURN_CODE 77)
  endforeach()
endif()
