# The generated training step (hepnc compile --train) of every trainable model, through `hepnc gradcheck`:
# finite differences of the generated loss, the eval-mode training forward against the shipped inference
# code, and (where tests/train/models/<model>/ exists) PyTorch's autograd gradients and optimiser
# trajectories (tests/train/gen_model_fixtures.py).
foreach(model pfn fcn part_small part_small_pairs)
  add_test(NAME train.gradcheck.${model}
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/gradcheck.sh $<TARGET_FILE:hepnc> ${model} ${CMAKE_BINARY_DIR}/gradcheck)
  set_tests_properties(train.gradcheck.${model} PROPERTIES LABELS quick)
endforeach()

# weaver's default particle-block dropouts (attn_dropout included) through the generated training code.
add_test(NAME train.attn_dropout COMMAND ${CMAKE_CURRENT_LIST_DIR}/attn_dropout.sh $<TARGET_FILE:hepnc> ${CMAKE_BINARY_DIR}/attn_dropout)
set_tests_properties(train.attn_dropout PROPERTIES LABELS quick)

# --loss bce through the generated training step: FD, and the loss against BCEWithLogits on PyTorch's logits.
add_test(NAME train.bce COMMAND ${CMAKE_CURRENT_LIST_DIR}/bce.sh $<TARGET_FILE:hepnc> ${CMAKE_BINARY_DIR}/bce)
set_tests_properties(train.bce PROPERTIES LABELS quick SKIP_RETURN_CODE 77)

# Batches trimmed as weaver's SequenceTrimmer does (the statistics over `slots` slots) against PyTorch.
add_test(NAME train.slots COMMAND ${CMAKE_CURRENT_LIST_DIR}/slots.sh $<TARGET_FILE:hepnc> ${CMAKE_BINARY_DIR}/slots)
set_tests_properties(train.slots PROPERTIES LABELS quick)

# A short training run from scratch on the bundled sample: the loss falls and the test AUC beats 0.88.
add_test(NAME train.short_run COMMAND ${CMAKE_CURRENT_LIST_DIR}/train_small.sh $<TARGET_FILE:hepnc> ${CMAKE_BINARY_DIR}/train_small)
set_tests_properties(train.short_run PROPERTIES LABELS quick)

# hepnc train --event-weights on DarkMachines events (their /weights).
add_test(NAME train.event_weights COMMAND ${CMAKE_CURRENT_LIST_DIR}/event_weights.sh $<TARGET_FILE:hepnc> ${CMAKE_BINARY_DIR}/event_weights)
set_tests_properties(train.event_weights PROPERTIES LABELS quick)

# hepnc check's training memory is what the generated training step allocates; gradients share floats.
add_test(NAME train.check_memory COMMAND ${CMAKE_CURRENT_LIST_DIR}/check_memory.sh $<TARGET_FILE:hepnc> ${CMAKE_BINARY_DIR}/check_memory)
set_tests_properties(train.check_memory PROPERTIES LABELS quick)
