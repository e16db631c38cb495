# The README's example is tests/package/consumer/main.cpp, verbatim: fail when they drift.
file(READ ${README} readme)
file(READ ${EXAMPLE} example)
string(FIND "${readme}" "${example}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "README.md does not contain tests/package/consumer/main.cpp verbatim")
endif()
