# Trained models on simulated physics (skipped where the shared checkpoints or the sample are absent).
add_test(NAME models.particlenet_topqcd_auc COMMAND ${CMAKE_CURRENT_LIST_DIR}/particlenet_topqcd_auc.sh
         $<TARGET_FILE:hepnc> ${CMAKE_BINARY_DIR}/models_auc)
set_tests_properties(models.particlenet_topqcd_auc PROPERTIES LABELS quick SKIP_RETURN_CODE 77)
