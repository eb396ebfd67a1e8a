# Physics sanity of the bundled Pythia8 top/QCD sample (examples/data/topqcd_sample.h5, tools/gen):
# mass and W peaks, tau32 separation, weaver's feature definitions, layout rules. Skipped (77) without
# a python that has numpy and h5py.
add_test(NAME physics.topqcd_sample COMMAND ${CMAKE_CURRENT_LIST_DIR}/run.sh)
set_tests_properties(physics.topqcd_sample PROPERTIES LABELS quick SKIP_RETURN_CODE 77)
