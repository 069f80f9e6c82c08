# Refuses an #include "..." that reaches up a layer (run by every build, see CMakeLists.txt).
# Usage: cmake -DROOT=<source dir> [-DSTAMP=<file written on success>] -P check_layers.cmake
#
# Each rule: a directory (the longest that contains the file applies), then, after each "|", a
# regular expression an include path of a file there may match. kernels/error.h, the one error type,
# is allowed everywhere.
set(rules
  "kernels/cuda/emu|^kernels/cuda/emu/"
  "kernels/cuda/runtime|^kernels/cuda/runtime/"
  "kernels/cuda|^kernels/"
  "kernels/cpu|^kernels/[^/]+$|^kernels/cpu/"
  "kernels/cpu_fast|^kernels/[^/]+$|^kernels/cpu/|^kernels/cpu_fast/"
  "kernels|^kernels/[^/]+$|^kernels/cpu/"
  "core|^core/|^kernels/"
  "layers|^core/|^layers/"
  "nets|^core/|^layers/|^nets/"
  "data|^core/|^data/"
  "optim|^core/|^layers/|^optim/"
  # The kernel benchmark times the kernels themselves, below the ops.
  "apps/bench|^core/|^layers/|^nets/|^optim/|^apps/bench/|^kernels/"
  "apps|^core/|^layers/|^nets/|^data/|^optim/|^apps/")

file(GLOB_RECURSE files RELATIVE ${ROOT} ${ROOT}/kernels/* ${ROOT}/core/* ${ROOT}/layers/*
     ${ROOT}/nets/* ${ROOT}/data/* ${ROOT}/optim/* ${ROOT}/apps/*)
list(FILTER files INCLUDE REGEX "\\.(h|cuh|cu|cpp)$")
set(violations "")
foreach(file ${files})
  set(best_dir "")
  set(allowed "")
  foreach(rule ${rules})
    string(REPLACE "|" ";" parts "${rule}")
    list(POP_FRONT parts dir)
    string(LENGTH "${dir}" dir_length)
    string(LENGTH "${best_dir}" best_length)
    string(FIND "${file}" "${dir}/" at)
    if(at EQUAL 0 AND dir_length GREATER best_length)
      set(best_dir "${dir}")
      set(allowed "${parts}")
    endif()
  endforeach()
  file(STRINGS ${ROOT}/${file} lines REGEX "^[ \t]*#[ \t]*include[ \t]*\"")
  foreach(line ${lines})
    string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*\"([^\"]+)\".*" "\\1" included "${line}")
    if(NOT included MATCHES "^(kernels|core|layers|nets|data|optim|apps)/" OR
       included STREQUAL "kernels/error.h")
      continue()  # a library's header, a path relative to the file, or the error type
    endif()
    set(ok FALSE)
    foreach(pattern ${allowed})
      if(included MATCHES "${pattern}")
        set(ok TRUE)
      endif()
    endforeach()
    if(NOT ok)
      string(APPEND violations "  ${file} includes \"${included}\" (${best_dir}/ may include: ${allowed})\n")
    endif()
  endforeach()
endforeach()
if(violations)
  message(FATAL_ERROR "#includes that reach up a layer (see CMakeLists.txt):\n${violations}")
endif()
if(STAMP)
  file(TOUCH ${STAMP})
endif()
