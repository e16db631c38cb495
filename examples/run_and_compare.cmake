# Runs an example and compares its stdout with the expected text.
#
#   cmake -DCMD=<program> -DEXPECTED=<file> [-DACTUAL=<file>] [-DURL_FROM_ENV=<variable>]
#         -P run_and_compare.cmake
#
# With URL_FROM_ENV the program runs with `--url $ENV{<variable>}`; when that variable is unset
# the script says "is not set: skipped", which the test declares as its skip pattern.
foreach(var CMD EXPECTED)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_and_compare.cmake: -D${var}=... is required")
  endif()
endforeach()

set(args)
if(DEFINED URL_FROM_ENV)
  if("$ENV{${URL_FROM_ENV}}" STREQUAL "")
    message("${URL_FROM_ENV} is not set: skipped")
    return()
  endif()
  set(args --url "$ENV{${URL_FROM_ENV}}")
endif()

string(JOIN " " command ${CMD} ${args})
execute_process(COMMAND ${CMD} ${args}
                OUTPUT_VARIABLE actual ERROR_VARIABLE errors RESULT_VARIABLE status
                TIMEOUT 60)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "${command} exited with ${status}\nstderr:\n${errors}\nstdout:\n${actual}")
endif()

file(READ ${EXPECTED} expected)
if(NOT actual STREQUAL expected)
  if(DEFINED ACTUAL)
    file(WRITE ${ACTUAL} "${actual}")
    set(where "(written to ${ACTUAL}) ")
  endif()
  message(FATAL_ERROR "the output of ${command} ${where}differs from ${EXPECTED}\n"
                      "expected:\n${expected}\nactual:\n${actual}")
endif()
