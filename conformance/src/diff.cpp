#include "diff.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace warren::conformance {
namespace {

struct Edit {
    char op;          // ' ', '-', '+'
    std::size_t a;    // line index in a (for ' ' and '-')
    std::size_t b;    // line index in b (for ' ' and '+')
};

// A longest-common-subsequence edit script. Transcripts are a few hundred lines at most, so the
// quadratic table is cheap and keeps the code plain.
std::vector<Edit> edit_script(const std::vector<std::string>& a, const std::vector<std::string>& b) {
    const std::size_t n = a.size(), m = b.size();
    std::vector<std::vector<std::uint32_t>> lcs(n + 1, std::vector<std::uint32_t>(m + 1, 0));
    for (std::size_t i = n; i-- > 0;)
        for (std::size_t j = m; j-- > 0;)
            lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
    std::vector<Edit> edits;
    std::size_t i = 0, j = 0;
    while (i < n || j < m) {
        if (i < n && j < m && a[i] == b[j]) edits.push_back({' ', i++, j++});
        else if (j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j])) edits.push_back({'+', i, j++});
        else edits.push_back({'-', i++, j});
    }
    return edits;
}

}  // namespace

std::string unified_diff(const std::vector<std::string>& a, const std::vector<std::string>& b,
                         std::string_view a_name, std::string_view b_name, std::size_t context) {
    if (a == b) return {};
    const auto edits = edit_script(a, b);
    std::string out = fmt::format("--- {}\n+++ {}\n", a_name, b_name);
    std::size_t k = 0;
    while (k < edits.size()) {
        if (edits[k].op == ' ') {
            ++k;
            continue;
        }
        // A hunk: from `context` lines before this change to `context` lines after the last
        // change that is at most 2*context unchanged lines away from the previous one.
        const std::size_t begin = k >= context ? k - context : 0;
        std::size_t end = k;
        for (;;) {
            while (end < edits.size() && edits[end].op != ' ') ++end;
            std::size_t same = end;
            while (same < edits.size() && edits[same].op == ' ' && same - end < 2 * context + 1) ++same;
            if (same < edits.size() && edits[same].op != ' ') {
                end = same;
                continue;
            }
            end = std::min(end + context, edits.size());
            break;
        }
        std::size_t a_count = 0, b_count = 0;
        for (std::size_t e = begin; e < end; ++e) {
            if (edits[e].op != '+') ++a_count;
            if (edits[e].op != '-') ++b_count;
        }
        out += fmt::format("@@ -{},{} +{},{} @@\n", edits[begin].a + 1, a_count, edits[begin].b + 1, b_count);
        for (std::size_t e = begin; e < end; ++e) {
            const std::string& line = edits[e].op == '+' ? b[edits[e].b] : a[edits[e].a];
            out += edits[e].op;
            out += line;
            out += '\n';
        }
        k = end;
    }
    return out;
}

}  // namespace warren::conformance
