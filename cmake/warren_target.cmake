# warren_library(NAME SOURCES...): a static library warren_NAME with the alias warren::NAME,
# public headers under <dir>/include, C++20, and warren's warnings kept private.
function(warren_library name)
  add_library(warren_${name} STATIC ${ARGN})
  add_library(warren::${name} ALIAS warren_${name})
  set_target_properties(warren_${name} PROPERTIES
    EXPORT_NAME ${name}
    OUTPUT_NAME warren_${name}
    POSITION_INDEPENDENT_CODE ON)
  target_compile_features(warren_${name} PUBLIC cxx_std_20)
  target_include_directories(warren_${name} PUBLIC
    $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:include>)
  target_link_libraries(warren_${name} PRIVATE $<BUILD_INTERFACE:warren_warnings>)
endfunction()
