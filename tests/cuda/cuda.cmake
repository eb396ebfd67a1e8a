# CUDA target checks that need no GPU (NVRTC + ptxas); GPU numerics run where a GPU exists.
add_test(NAME cuda.nvrtc COMMAND ${CMAKE_CURRENT_LIST_DIR}/nvrtc.sh $<TARGET_FILE:hepnc> ${CMAKE_BINARY_DIR}/cuda_nvrtc)
set_tests_properties(cuda.nvrtc PROPERTIES LABELS quick SKIP_RETURN_CODE 77)
