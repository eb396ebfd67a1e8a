# Training runtime numerics (runtime/loss.c, optim.c, schedule.c) against PyTorch 1.13 and weaver-core's
# Ranger: fixtures from tests/train/gen_optim_fixtures.py (committed; regenerate with /usr/bin/python3).
add_executable(test_train ${CMAKE_CURRENT_LIST_DIR}/test_train.c)
target_link_libraries(test_train PRIVATE hepnc_runtime m)
add_test(NAME train.numerics COMMAND test_train ${CMAKE_CURRENT_LIST_DIR}/fixtures/train_fixtures.bin)
set_tests_properties(train.numerics PROPERTIES LABELS quick)

# Parameter initialisation for training from scratch (runtime/init.c).
add_executable(test_init ${CMAKE_CURRENT_LIST_DIR}/test_init.c)
target_link_libraries(test_init PRIVATE hepnc_runtime m)
add_test(NAME train.init COMMAND test_init)
set_tests_properties(train.init PROPERTIES LABELS quick)
# IAFormer learns from scratch (one logit, BCE): the bundled top/QCD sample through hepnc convert iaformer.
add_test(NAME train.iaformer_short_run COMMAND ${CMAKE_CURRENT_LIST_DIR}/iaformer_small.sh $<TARGET_FILE:hepnc>
         ${CMAKE_BINARY_DIR}/train_iaformer_small)
set_tests_properties(train.iaformer_short_run PROPERTIES LABELS quick)
