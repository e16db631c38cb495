# Writes the console's files into a C++ source as string views, so that warren-server ships
# them inside its binary (no install step, no files to find at run time).
#   cmake -DCONSOLE_DIR=... -DOUTPUT=... -P embed.cmake
set(content "// Generated from server/management/console/ by embed.cmake. Do not edit.\n#include <string_view>\n\nnamespace warren::server {\n")
foreach(pair "index.html;console_index_html" "console.js;console_js" "console.css;console_css")
  list(GET pair 0 file)
  list(GET pair 1 symbol)
  file(READ "${CONSOLE_DIR}/${file}" text)
  string(FIND "${text}" ")warren_console\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${file} contains the raw string delimiter )warren_console\"")
  endif()
  string(APPEND content "extern const std::string_view ${symbol};\nconst std::string_view ${symbol} = R\"warren_console(${text})warren_console\";\n")
endforeach()
string(APPEND content "\n}  // namespace warren::server\n")
file(WRITE "${OUTPUT}.tmp" "${content}")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
