// A unified-style diff of two transcripts, for showing how two targets differ.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace warren::conformance {

/// The lines of a unified diff from `a` to `b` (headers "--- a_name" and "+++ b_name", hunks
/// with `context` lines around each change); empty when the two are equal.
std::string unified_diff(const std::vector<std::string>& a, const std::vector<std::string>& b,
                         std::string_view a_name, std::string_view b_name, std::size_t context = 3);

}  // namespace warren::conformance
