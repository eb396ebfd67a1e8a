# Generated code: determinism, libclang and -Werror for every model in models/.
file(GLOB HN_MODEL_SPECS ${PROJECT_SOURCE_DIR}/models/*.yaml)
foreach(spec ${HN_MODEL_SPECS})
  get_filename_component(model ${spec} NAME_WE)
  add_test(NAME codegen.${model}
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/check_model.sh $<TARGET_FILE:hepnc> ${spec} ${CMAKE_BINARY_DIR}/codegen
            ${PROJECT_SOURCE_DIR}/runtime/include ${CBLAS_INCLUDE_DIR})
  set_tests_properties(codegen.${model} PROPERTIES LABELS quick)
endforeach()
