# CUDA target checks that need no GPU (NVRTC + ptxas); GPU numerics run where a GPU exists.
add_test(NAME cuda.nvrtc COMMAND ${CMAKE_CURRENT_LIST_DIR}/nvrtc.sh $<TARGET_FILE:hepnc> ${CMAKE_BINARY_DIR}/cuda_nvrtc)
set_tests_properties(cuda.nvrtc PROPERTIES LABELS quick SKIP_RETURN_CODE 77)

add_test(NAME cuda.aot COMMAND ${CMAKE_CURRENT_LIST_DIR}/aot.sh $<TARGET_FILE:hepnc> ${CMAKE_BINARY_DIR}/cuda_aot)
set_tests_properties(cuda.aot PROPERTIES LABELS quick SKIP_RETURN_CODE 77)

# Each parity model's GPU object against its CPU object on its fixture (bench/part_gpu/gpu_harness.c:
# every output within 1e-5, two GPU runs byte-identical); "skipped: no GPU" (77) where no GPU exists.
# gpu_emu.<model>: the same check on the emulated GPU (HEPNC_GPU_EMULATE=1, gpu/emulate.c: the kernels on
# the CPU with CUDA's block and warp semantics), which runs everywhere; fewer events, as it is slow.
if(TARGET hepnc_gpu)
  add_executable(test_emulate ${CMAKE_CURRENT_LIST_DIR}/test_emulate.c)
  target_link_libraries(test_emulate PRIVATE hepnc_gpu m)
  add_test(NAME cuda.emulate COMMAND test_emulate)
  set_tests_properties(cuda.emulate PROPERTIES LABELS quick ENVIRONMENT TEST_CACHE=${CMAKE_BINARY_DIR}/cuda_emu_cache)

  set(gpu_variants part_small part_small_pairs part_small_sm part_small_sm_concat pfn fcn particlenet_jetclass_kin)
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
    if(model STREQUAL pfn)        # chunks of 10 events: the parity runs (24 events) take three, the last partial
      target_compile_definitions(test_gpu_${variant} PRIVATE PFN_CUDA_CHUNK=10)
    endif()
    if(model STREQUAL particlenet_jetclass_kin)
      # EdgeConv GEMMs in groups of 6 events: the emulated run's 16 events take three groups, the last partial
      target_compile_definitions(test_gpu_${variant} PRIVATE PARTICLENET_JETCLASS_KIN_CUDA_EDGE_GROUP=6)
      # the published JetClass checkpoint (../shared/data, imported by the script; skipped where absent)
      foreach(mode gpu emulated)
        set(name gpu.particlenet_trained)
        if(mode STREQUAL emulated)
          set(name gpu_emu.particlenet_trained)
        endif()
        add_test(NAME ${name} COMMAND ${CMAKE_CURRENT_LIST_DIR}/gpu_particlenet.sh $<TARGET_FILE:hepnc>
                 $<TARGET_FILE:test_gpu_${variant}> ${CMAKE_BINARY_DIR}/gpu_particlenet ${mode})
        set_tests_properties(${name} PROPERTIES LABELS ${mode} SKIP_RETURN_CODE 77)
      endforeach()
      # without cuBLAS: the EdgeConv kernel of a block per point instead of the GEMM form
      add_test(NAME gpu_emu.particlenet_trained.no_cublas COMMAND ${CMAKE_CURRENT_LIST_DIR}/gpu_particlenet.sh $<TARGET_FILE:hepnc>
               $<TARGET_FILE:test_gpu_${variant}> ${CMAKE_BINARY_DIR}/gpu_particlenet emulated)
      set_tests_properties(gpu_emu.particlenet_trained.no_cublas PROPERTIES LABELS emulated SKIP_RETURN_CODE 77
                           ENVIRONMENT HEPNC_GPU_NO_CUBLAS=1)
      continue()
    endif()
    add_test(NAME gpu.${variant} COMMAND test_gpu_${variant} ${PROJECT_SOURCE_DIR}/tests/parity/${model}/weights.safetensors
             ${PROJECT_SOURCE_DIR}/tests/parity/${model}/inputs.h5)
    set_tests_properties(gpu.${variant} PROPERTIES LABELS gpu SKIP_RETURN_CODE 77)
    if(variant STREQUAL model)
      add_test(NAME gpu_emu.${variant} COMMAND test_gpu_${variant} ${PROJECT_SOURCE_DIR}/tests/parity/${model}/weights.safetensors
               ${PROJECT_SOURCE_DIR}/tests/parity/${model}/inputs.h5 --events 24)
      set_tests_properties(gpu_emu.${variant} PROPERTIES LABELS emulated
                           ENVIRONMENT "HEPNC_GPU_EMULATE=1;HEPNC_CACHE=${CMAKE_BINARY_DIR}/cuda_emu_cache")
      # the fallback without cuBLAS: every node its own kernel (no packed rows, nothing fused)
      add_test(NAME gpu_emu.${variant}.no_cublas COMMAND test_gpu_${variant}
               ${PROJECT_SOURCE_DIR}/tests/parity/${model}/weights.safetensors ${PROJECT_SOURCE_DIR}/tests/parity/${model}/inputs.h5
               --events 24)
      set_tests_properties(gpu_emu.${variant}.no_cublas PROPERTIES LABELS emulated
                           ENVIRONMENT "HEPNC_GPU_EMULATE=1;HEPNC_GPU_NO_CUBLAS=1;HEPNC_CACHE=${CMAKE_BINARY_DIR}/cuda_emu_cache")
      # bf16 GEMMs (HEPNC_GPU_BF16=1: inputs rounded to bfloat16, float32 sums): their own tolerance, 0.1
      # relative on every output (measured 1e-2 to 5e-2 on the logits of these models); TF32 GEMMs
      # (HEPNC_GPU_TF32=1: inputs rounded to 10 mantissa bits, 8x finer than bfloat16): 3e-2 (measured on the
      # emulated GPU 1.8e-3 (part_small) to 1.2e-2 (pfn, whose logits come from sums over every particle))
      foreach(math bf16 tf32)
        string(TOUPPER ${math} MATH)
        set(tol 0.1)
        if(math STREQUAL tf32)
          set(tol 3e-2)
        endif()
        foreach(mode gpu emulated)
          set(name gpu.${variant}.${math})
          set(env "HEPNC_GPU_${MATH}=1")
          if(mode STREQUAL emulated)
            set(name gpu_emu.${variant}.${math})
            set(env "HEPNC_GPU_${MATH}=1;HEPNC_GPU_EMULATE=1;HEPNC_CACHE=${CMAKE_BINARY_DIR}/cuda_emu_cache")
          endif()
          add_test(NAME ${name} COMMAND test_gpu_${variant} ${PROJECT_SOURCE_DIR}/tests/parity/${model}/weights.safetensors
                   ${PROJECT_SOURCE_DIR}/tests/parity/${model}/inputs.h5 --events 24 --tol ${tol})
          set_tests_properties(${name} PROPERTIES LABELS ${mode} SKIP_RETURN_CODE 77 ENVIRONMENT "${env}")
        endforeach()
      endforeach()
    endif()
  endforeach()
endif()

# The GPU training step of each model it covers against the C training step (bench/part_gpu/train_harness.c:
# loss, logits, every gradient and running statistic within 1e-5 of the largest, two runs identical, bad
# labels and counts refused): gpu.train_<model> on a GPU, gpu_emu.train_<model> on the emulated GPU.
# fcn, pfn, part_small and part_small_pairs (supplied pair features) from their parity weights,
# particlenet_small (EdgeConv) from tests/train/models; part_pool (tests/cuda/specs: the ParT's pair embedding, particle
# attention with dropout, head scale, residuals) from hepnc's initialisation on part_small's jets.
if(TARGET hepnc_gpu)
  foreach(model fcn pfn part_pool part_small part_small_pairs part_small_sm particlenet_small iaformer)
    set(events 24)
    if(model STREQUAL iaformer)
      # IAFormer at the paper's widths with upstream's weights on 8 jets (tests/train/models/iaformer), one logit
      # with BCE; 8 events: the emulated paper-size step is slow. The GPU sums the embedding's gradients over
      # each event's ~2000 pair rows in cuBLAS GEMMs and the attention's in other orders than the C step:
      # measured 1.1e-5 of the floor (the u_proj biases, whose true gradient is 0, and v_proj); 1e-4, the C
      # step's own agreement with PyTorch in float64 (train.gradcheck.iaformer: 1.3e-4)
      set(spec ${PROJECT_SOURCE_DIR}/models/${model}.yaml)
      set(args ${PROJECT_SOURCE_DIR}/tests/train/models/${model}/weights.safetensors
               ${PROJECT_SOURCE_DIR}/tests/train/models/${model}/batch.h5 --loss bce --tol 1e-4)
      set(events 8)
    elseif(model STREQUAL part_pool)
      set(spec ${CMAKE_CURRENT_LIST_DIR}/specs/${model}.yaml)
      set(args init:7 ${PROJECT_SOURCE_DIR}/tests/parity/part_small/inputs.h5)
    elseif(model STREQUAL particlenet_small)   # EdgeConv: tests/train/models' small ParticleNet (16 events)
      set(spec ${PROJECT_SOURCE_DIR}/tests/train/models/${model}/${model}.yaml)
      set(args ${PROJECT_SOURCE_DIR}/tests/train/models/${model}/weights.safetensors
               ${PROJECT_SOURCE_DIR}/tests/train/models/${model}/batch.h5)
    elseif(model STREQUAL part_small_sm)
      # the SM matrix's embedding on the weighted rows, as in the C step: measured within 2.8e-5 (weighted
      # sums in another order); 1e-4
      set(spec ${PROJECT_SOURCE_DIR}/models/${model}.yaml)
      set(args ${PROJECT_SOURCE_DIR}/tests/parity/${model}/weights.safetensors ${PROJECT_SOURCE_DIR}/tests/parity/${model}/inputs.h5
               --tol 1e-4)
    elseif(model STREQUAL part_small_pairs)
      # the supplied features' MLP sums over every ordered slot pair (24² per event) in float32 in the C
      # step, where zero-mean gradients (convs before batchnorms) cancel: 1e-3, train.gradcheck's tolerance
      set(spec ${PROJECT_SOURCE_DIR}/models/${model}.yaml)
      set(args ${PROJECT_SOURCE_DIR}/tests/parity/${model}/weights.safetensors ${PROJECT_SOURCE_DIR}/tests/parity/${model}/inputs.h5
               --tol 1e-3)
    else()
      set(spec ${PROJECT_SOURCE_DIR}/models/${model}.yaml)
      set(args ${PROJECT_SOURCE_DIR}/tests/parity/${model}/weights.safetensors ${PROJECT_SOURCE_DIR}/tests/parity/${model}/inputs.h5)
    endif()
    set(cugen ${CMAKE_BINARY_DIR}/gen/${model}-cuda-train)
    set(trfiles ${cugen}/${model}.c ${cugen}/${model}_load.c ${cugen}/${model}_entry.c ${cugen}/${model}_train.c
                ${cugen}/${model}_cuda_train.c)
    add_custom_command(
      OUTPUT ${trfiles}
      COMMAND hepnc compile ${spec} --target cuda --train --blas none -o ${cugen}
      DEPENDS hepnc ${spec}
      COMMENT "Generating ${model}'s GPU training step")
    add_executable(test_gpu_train_${model} ${PROJECT_SOURCE_DIR}/bench/part_gpu/train_harness.c ${PROJECT_SOURCE_DIR}/compiler/infer_io.c ${trfiles})
    target_include_directories(test_gpu_train_${model} PRIVATE ${cugen} ${PROJECT_SOURCE_DIR}/compiler)
    target_link_libraries(test_gpu_train_${model} PRIVATE hepnc_gpu hepnc_runtime m)
    add_test(NAME gpu.train_${model} COMMAND test_gpu_train_${model} ${args} --events 64)
    set_tests_properties(gpu.train_${model} PROPERTIES LABELS gpu SKIP_RETURN_CODE 77)
    add_test(NAME gpu_emu.train_${model} COMMAND test_gpu_train_${model} ${args} --events ${events})
    add_test(NAME gpu_emu.train_${model}.weighted_bce COMMAND test_gpu_train_${model} ${args} --events ${events} --loss bce --weights)
    set_tests_properties(gpu_emu.train_${model} gpu_emu.train_${model}.weighted_bce PROPERTIES LABELS emulated
                         ENVIRONMENT "HEPNC_GPU_EMULATE=1;HEPNC_CACHE=${CMAKE_BINARY_DIR}/cuda_emu_cache")
    if(model MATCHES "^part")       # a trimmed batch (weaver's SequenceTrimmer): 16 of 24 slots (ParticleNet: ignored, as in C)
      add_test(NAME gpu_emu.train_${model}.slots COMMAND test_gpu_train_${model} ${args} --events 24 --slots 16)
      set_tests_properties(gpu_emu.train_${model}.slots PROPERTIES LABELS emulated
                           ENVIRONMENT "HEPNC_GPU_EMULATE=1;HEPNC_CACHE=${CMAKE_BINARY_DIR}/cuda_emu_cache")
    endif()
  endforeach()
endif()

# Unit checks of GPU kernels against the C code (templates/c) on random data, reading the kernel bodies from
# templates/cuda: the training kernels of one op (train_<op>), and inference kernels on shapes the parity
# models do not reach (the attention's several query blocks and key tiles; IAFormer's kernels at other widths
# and counts). gpu_emu.unit_<unit> on the emulated GPU, in every CI run; gpu.unit_<unit> on a GPU (77 elsewhere).
if(TARGET hepnc_gpu)
  foreach(unit train_attention train_class_attention train_optim attention interaction)
    add_executable(test_${unit} ${CMAKE_CURRENT_LIST_DIR}/test_${unit}.c ${CMAKE_CURRENT_LIST_DIR}/unit_kernels.c)
    target_include_directories(test_${unit} PRIVATE ${PROJECT_SOURCE_DIR}/templates/c)
    target_link_libraries(test_${unit} PRIVATE hepnc_gpu hepnc_runtime m)
    add_test(NAME gpu.unit_${unit} COMMAND test_${unit} ${PROJECT_SOURCE_DIR}/templates/cuda)
    set_tests_properties(gpu.unit_${unit} PROPERTIES LABELS gpu SKIP_RETURN_CODE 77)
    add_test(NAME gpu_emu.unit_${unit} COMMAND test_${unit} ${PROJECT_SOURCE_DIR}/templates/cuda)
    set_tests_properties(gpu_emu.unit_${unit} PROPERTIES LABELS emulated SKIP_RETURN_CODE 77
                         ENVIRONMENT "HEPNC_GPU_EMULATE=1;HEPNC_CACHE=${CMAKE_BINARY_DIR}/cuda_emu_cache")
  endforeach()
endif()

# hepnc train --gpu against hepnc train on the bundled jets (tests/cuda/train_gpu.sh).
if(TARGET hepnc_gpu)
  add_test(NAME gpu_emu.hepnc_train COMMAND ${CMAKE_CURRENT_LIST_DIR}/train_gpu.sh $<TARGET_FILE:hepnc> ${CMAKE_BINARY_DIR}/train_gpu_emu emulated)
  set_tests_properties(gpu_emu.hepnc_train PROPERTIES LABELS emulated)
  add_test(NAME gpu.hepnc_train COMMAND ${CMAKE_CURRENT_LIST_DIR}/train_gpu.sh $<TARGET_FILE:hepnc> ${CMAKE_BINARY_DIR}/train_gpu gpu)
  set_tests_properties(gpu.hepnc_train PROPERTIES LABELS gpu SKIP_RETURN_CODE 77)
endif()

# bench/part_gpu's scripts end to end on the emulated GPU (build.sh's bundle of part_small, run.sh, report.py),
# so that a lent GPU's minutes go to timing, not to a broken script
if(TARGET hepnc_gpu)
  add_test(NAME gpu_emu.bench_part_gpu COMMAND ${CMAKE_CURRENT_LIST_DIR}/bench_part_gpu_emulated.sh ${CMAKE_BINARY_DIR}
           ${CMAKE_BINARY_DIR}/bench_part_gpu_emulated)
  set_tests_properties(gpu_emu.bench_part_gpu PROPERTIES LABELS emulated SKIP_RETURN_CODE 77
                       ENVIRONMENT HEPNC_CACHE=${CMAKE_BINARY_DIR}/cuda_emu_cache)
endif()

# hepnc infer --gpu / eval --gpu: the CLI's GPU path against the PyTorch references and the CPU path
if(TARGET hepnc_gpu)
  foreach(mode gpu emulated)
    set(name gpu.infer_cli)
    if(mode STREQUAL emulated)
      set(name gpu_emu.infer_cli)
    endif()
    add_test(NAME ${name} COMMAND ${CMAKE_CURRENT_LIST_DIR}/infer_gpu.sh $<TARGET_FILE:hepnc> $<TARGET_FILE:compare_outputs>
             ${CMAKE_BINARY_DIR}/infer_gpu_${mode} ${mode})
    set_tests_properties(${name} PROPERTIES LABELS ${mode} SKIP_RETURN_CODE 77)
    # ParticleNet's published weights through infer --gpu against weaver-core's outputs (../shared data)
    add_test(NAME ${name}_particlenet COMMAND ${CMAKE_CURRENT_LIST_DIR}/infer_gpu_particlenet.sh $<TARGET_FILE:hepnc>
             $<TARGET_FILE:compare_outputs> ${CMAKE_BINARY_DIR}/infer_gpu_particlenet_${mode} ${mode})
    set_tests_properties(${name}_particlenet PROPERTIES LABELS ${mode} SKIP_RETURN_CODE 77)
    # IAFormer with upstream's checkpoint through infer --gpu against upstream's outputs and the CPU path
    add_test(NAME ${name}_iaformer COMMAND ${CMAKE_CURRENT_LIST_DIR}/infer_gpu_iaformer.sh $<TARGET_FILE:hepnc>
             $<TARGET_FILE:compare_outputs> ${CMAKE_BINARY_DIR}/infer_gpu_iaformer_${mode} ${mode})
    set_tests_properties(${name}_iaformer PROPERTIES LABELS ${mode} SKIP_RETURN_CODE 77)
  endforeach()
endif()
