# Physics sanity of the bundled Pythia8 samples (tools/gen, docs/data.md). Skipped (77) without a python
# that has numpy and h5py (tools/install-deps.sh installs Debian's).
# examples/data/topqcd_sample.h5: mass and W peaks, tau32 separation, weaver's feature definitions, layout rules.
add_test(NAME physics.topqcd_sample COMMAND ${CMAKE_CURRENT_LIST_DIR}/run.sh topqcd)
set_tests_properties(physics.topqcd_sample PROPERTIES LABELS quick SKIP_RETURN_CODE 77)
# examples/data/ttbar_allhad_sample.h5: SPANet layout, cuts, matched fraction vs jet multiplicity, m_t and
# m_W of truth-matched tops, b-tag rates against the configured efficiencies.
add_test(NAME physics.spanet_sample COMMAND ${CMAKE_CURRENT_LIST_DIR}/run.sh spanet)
set_tests_properties(physics.spanet_sample PROPERTIES LABELS quick SKIP_RETURN_CODE 77)
# examples/data/ttH_ttbar_sample.csv: DarkMachines format, units and cuts, ttH vs tt-bar multiplicities.
add_test(NAME physics.ttH_sample COMMAND ${CMAKE_CURRENT_LIST_DIR}/run.sh ttH)
set_tests_properties(physics.ttH_sample PROPERTIES LABELS quick SKIP_RETURN_CODE 77)
