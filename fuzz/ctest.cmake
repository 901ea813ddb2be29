# The short fuzz run of the test suite (label "fuzz"): fuzz/run builds the targets with
# clang in its own build dir under this one and runs each for 30 s from the checked-in
# corpus. Included from the top-level CMakeLists.txt when tests are built.
add_test(NAME fuzz.short COMMAND ${CMAKE_CURRENT_LIST_DIR}/run 30)
set_tests_properties(fuzz.short PROPERTIES
  LABELS fuzz
  RUN_SERIAL TRUE  # it compiles a clang tree: keep it away from the timing of other tests
  TIMEOUT 1200
  ENVIRONMENT "JAILD_FUZZ_BUILD_DIR=${CMAKE_BINARY_DIR}/fuzz-build")
