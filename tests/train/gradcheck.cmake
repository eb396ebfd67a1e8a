# The generated training step (hepnc compile --train) of every trainable model, through `hepnc gradcheck`:
# finite differences of the generated loss, the eval-mode training forward against the shipped inference
# code, and (where tests/train/models/<model>/ exists) PyTorch's autograd gradients and optimiser
# trajectories (tests/train/gen_model_fixtures.py).
# part_small_sm: no float32 finite differences. Its one-channel SM matrix is mostly zeros (padding and
# non-interacting pairs), so the pair path's training-mode batchnorms divide by small spreads and the loss
# varies on scales below gradcheck's step of 1e-2; tests/train/models/part_small_sm holds float64 finite
# differences (step 1e-6) against PyTorch's autograd, and hepnc's gradients are checked against that.
foreach(model pfn fcn part_small part_small_pairs part_small_sm)
  set(fd 2)
  if(model STREQUAL part_small_sm)
    set(fd 0)
  endif()
  add_test(NAME train.gradcheck.${model}
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/gradcheck.sh $<TARGET_FILE:hepnc> ${model} ${CMAKE_BINARY_DIR}/gradcheck ${fd})
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

# IAFormer (one logit, BCE): finite differences, and upstream IAFormer's autograd and AdamW trajectory.
add_test(NAME train.gradcheck.iaformer COMMAND ${CMAKE_CURRENT_LIST_DIR}/gradcheck_iaformer.sh $<TARGET_FILE:hepnc>
         ${CMAKE_BINARY_DIR}/gradcheck_iaformer)
set_tests_properties(train.gradcheck.iaformer PROPERTIES LABELS quick)
