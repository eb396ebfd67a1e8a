# ParticleNet's training step: the edge_conv op's training forward and backward (compiler/ops/edge_conv.c,
# templates/c/backward_edgeconv.h) through hepnc gradcheck (tests/train/gradcheck_particlenet.sh): the
# small spec of tests/train/models/particlenet_small against PyTorch's autograd, and the JetClass
# ParticleNet with the published checkpoint (skipped where ../shared/data is absent).
foreach(which small jetclass)
  if(which STREQUAL "small")
    set(name train.gradcheck.particlenet_small)
  else()
    set(name train.gradcheck.particlenet_jetclass_kin)
  endif()
  add_test(NAME ${name}
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/gradcheck_particlenet.sh $<TARGET_FILE:hepnc> ${which} ${CMAKE_BINARY_DIR}/gradcheck_particlenet/${which})
  set_tests_properties(${name} PROPERTIES LABELS quick SKIP_RETURN_CODE 77)
endforeach()

# backward_edgeconv.h compiles on its own (-Wall -Wextra -Werror -Wpedantic), with and without cblas and
# OpenMP, with the C compiler and clang (tests/unit/backward.cmake covers the other backward templates).
set(HN_EC_COMPILERS ${CMAKE_C_COMPILER})
find_program(HN_EC_CLANG NAMES clang clang-14)
if(HN_EC_CLANG AND NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
  list(APPEND HN_EC_COMPILERS ${HN_EC_CLANG})
endif()
foreach(cc ${HN_EC_COMPILERS})
  get_filename_component(cc_name ${cc} NAME)
  add_test(NAME train.edgeconv.compile.${cc_name}
           COMMAND ${cc} -std=c11 -Wall -Wextra -Werror -Wpedantic -fsyntax-only -x c
                   ${PROJECT_SOURCE_DIR}/templates/c/backward_edgeconv.h)
  add_test(NAME train.edgeconv.compile.${cc_name}.cblas_openmp
           COMMAND ${cc} -std=c11 -Wall -Wextra -Werror -Wpedantic -fsyntax-only -fopenmp -DHN_USE_CBLAS
                   -I${CBLAS_INCLUDE_DIR} -x c ${PROJECT_SOURCE_DIR}/templates/c/backward_edgeconv.h)
  set_tests_properties(train.edgeconv.compile.${cc_name} train.edgeconv.compile.${cc_name}.cblas_openmp
                       PROPERTIES LABELS quick)
endforeach()
