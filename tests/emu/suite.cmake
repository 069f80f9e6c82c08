# Included by tests/CMakeLists.txt (tests must be declared in one directory to share properties).
# The `emu` suite of an -DRTSEG_CUDA_EMULATION=ON build (`ctest -L emu`, `cmake --build . --target
# emu_tests` builds just what it needs): every GPU test program on the emulated device, the
# emulator's own tests (its semantics, its libraries, self-tests proving it reports planted
# kernel bugs), the rtseg command with --device cuda, and the kernel coverage check.
set(emu_coverage_file ${CMAKE_CURRENT_BINARY_DIR}/emu_coverage.txt)
set(emu_dir ${CMAKE_CURRENT_LIST_DIR})
set(emu_tests ${RTSEG_GPU_TEST_TARGETS})

file(GLOB sources CONFIGURE_DEPENDS ${emu_dir}/test_*.cpp)
foreach(source ${sources})
  get_filename_component(name ${source} NAME_WE)
  add_executable(${name} ${source} $<TARGET_OBJECTS:rtseg_test_main>)
  target_link_libraries(${name} PRIVATE Catch2::Catch2 rtseg_layers rtseg_optim rtseg_nets rtseg_data)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  target_compile_options(${name} PRIVATE ${RTSEG_WARNINGS} -Wno-unused-function)
  target_compile_definitions(${name} PRIVATE RTSEG_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS emu TIMEOUT 900)
  if(NOT name STREQUAL "test_emu_coverage")
    set_property(TEST ${name} PROPERTY ENVIRONMENT RTSEG_EMU_DEVICES=2)
    list(APPEND emu_tests ${name})
  endif()
endforeach()
set_tests_properties(gpu_test_gpu_multi_device PROPERTIES ENVIRONMENT RTSEG_EMU_DEVICES=2)

add_test(NAME emu_rtseg_commands
         COMMAND bash ${emu_dir}/rtseg_commands_on_cuda.sh $<TARGET_FILE:rtseg>
                 ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/emu_rtseg_commands)
set_tests_properties(emu_rtseg_commands PROPERTIES LABELS emu TIMEOUT 900)
add_test(NAME test_emu_planted_bugs_sync COMMAND test_emu_planted_bugs "[.sync]")
set_tests_properties(test_emu_planted_bugs_sync PROPERTIES LABELS emu ENVIRONMENT RTSEG_CUDA_SYNC=1)
add_test(NAME test_emu_runtime_old_gpu COMMAND test_emu_runtime "[.old-gpu]")
set_tests_properties(test_emu_runtime_old_gpu PROPERTIES LABELS emu
                     ENVIRONMENT RTSEG_EMU_COMPUTE_CAPABILITY=75)

# Coverage: every test above appends the kernels it launched; the check runs after all of them
# (a fixture cleanup) and needs a report from every GPU test program.
add_test(NAME emu_coverage_reset COMMAND ${CMAKE_COMMAND} -E rm -f ${emu_coverage_file})
set_tests_properties(emu_coverage_reset PROPERTIES LABELS emu FIXTURES_SETUP emu_coverage)
foreach(test ${emu_tests} emu_rtseg_commands test_emu_runtime_old_gpu test_emu_planted_bugs_sync)
  set_property(TEST ${test} APPEND PROPERTY ENVIRONMENT RTSEG_EMU_COVERAGE=${emu_coverage_file})
  set_property(TEST ${test} APPEND PROPERTY FIXTURES_REQUIRED emu_coverage)
endforeach()
string(REPLACE ";" "\\;" expected_programs "${RTSEG_GPU_TEST_TARGETS}")
set_tests_properties(test_emu_coverage PROPERTIES FIXTURES_CLEANUP emu_coverage SKIP_RETURN_CODE 77
  ENVIRONMENT "RTSEG_EMU_COVERAGE_REPORT=${emu_coverage_file};RTSEG_EMU_COVERAGE_PROGRAMS=${expected_programs}")

add_custom_target(emu_tests DEPENDS ${emu_tests} test_emu_coverage rtseg)
