// The topic exchange: binding keys are word patterns matched through a TopicTrie
// (rabbit_exchange_type_topic, rabbit_db_topic_exchange). The routing key and every CC/BCC
// key are matched; the caller de-duplicates destinations.
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "types.hpp"
#include "exchange_types/topic_trie.hpp"

namespace warren::emulator {
namespace {

/// Explains why a binding key does not match one routing key by searching every way the
/// pattern can take the key's words, keeping the most telling dead end: a word that differs
/// from its pattern word beats running out of words or of pattern, and among equals the one
/// furthest along the pattern, then the key.
class TopicMismatch {
public:
    TopicMismatch(std::string_view pattern, std::string_view key) {
        split_topic_key(pattern, pattern_);
        split_topic_key(key, key_);
        explored_.assign((pattern_.size() + 1) * (key_.size() + 1), false);
    }

    std::optional<std::string> reason() {
        if (matches(0, 0)) return std::nullopt;
        const std::size_t p = best_.pattern_index;
        const std::size_t k = best_.key_index;
        switch (best_.kind) {
            case Kind::WordDiffers:
                return fmt::format("word {} '{}' != pattern word {} '{}'", k + 1, key_[k], p + 1,
                                   pattern_[p]);
            case Kind::NoWordLeft:
                return fmt::format("pattern word {} '{}' had no word to take", p + 1, pattern_[p]);
            case Kind::PatternEnded:
                if (pattern_.empty())
                    return fmt::format("the empty pattern matches only the empty key, and word "
                                       "{} is '{}'", k + 1, key_[k]);
                return fmt::format("word {} '{}' is past the end of the pattern ({} words)",
                                   k + 1, key_[k], pattern_.size());
        }
        return std::nullopt;
    }

private:
    enum class Kind { NoWordLeft, PatternEnded, WordDiffers };
    struct DeadEnd {
        Kind kind = Kind::NoWordLeft;
        std::size_t pattern_index = 0;
        std::size_t key_index = 0;
        bool set = false;
        auto rank() const {
            return std::tuple(set, kind == Kind::WordDiffers, pattern_index, key_index);
        }
    };

    // Whether pattern words [p, end) match key words [k, end).
    bool matches(std::size_t p, std::size_t k) {
        const std::size_t slot = p * (key_.size() + 1) + k;
        if (explored_[slot]) return false;  // explored before, and it failed
        explored_[slot] = true;
        if (p == pattern_.size()) {
            if (k == key_.size()) return true;
            return dead_end(Kind::PatternEnded, p, k);
        }
        const std::string_view word = pattern_[p];
        if (word == "#") return matches(p + 1, k) || (k < key_.size() && matches(p, k + 1));
        if (k == key_.size()) return dead_end(Kind::NoWordLeft, p, k);
        if (word == "*" || word == key_[k]) return matches(p + 1, k + 1);
        return dead_end(Kind::WordDiffers, p, k);
    }

    bool dead_end(Kind kind, std::size_t p, std::size_t k) {
        const DeadEnd candidate{kind, p, k, true};
        if (candidate.rank() > best_.rank()) best_ = candidate;
        return false;
    }

    std::vector<std::string_view> pattern_;
    std::vector<std::string_view> key_;
    std::vector<bool> explored_;
    DeadEnd best_;
};

class TopicExchangeType final : public ExchangeType {
public:
    std::string_view name() const noexcept override { return "topic"; }

    void add_binding(const Binding& binding) override { trie_.add(binding.key, &binding); }

    void remove_binding(const Binding& binding) override { trie_.remove(binding.key, &binding); }

    void route(const RoutingInput& input, std::vector<const Binding*>& out) const override {
        input.for_each_key([&](std::string_view key) { trie_.match(key, out); });
    }

    std::optional<std::string> explain(const Binding& binding,
                                       const RoutingInput& input) const override {
        std::vector<std::pair<std::string_view, std::string>> misses;
        bool matched = false;
        input.for_each_key([&](std::string_view key) {
            if (matched) return;
            if (std::optional<std::string> why = TopicMismatch(binding.key, key).reason())
                misses.emplace_back(key, std::move(*why));
            else
                matched = true;
        });
        if (matched) return std::nullopt;
        if (misses.size() == 1) return std::move(misses.front().second);
        // The first key is the routing key; the rest came from the CC and BCC headers.
        std::string reasons;
        for (std::size_t i = 0; i < misses.size(); ++i) {
            if (i > 0) reasons += "; ";
            reasons += fmt::format("{} '{}': {}", i == 0 ? "routing key" : "CC/BCC key",
                                   misses[i].first, misses[i].second);
        }
        return reasons;
    }

private:
    TopicTrie trie_;
};

}  // namespace

std::unique_ptr<ExchangeType> make_topic_exchange_type() {
    return std::make_unique<TopicExchangeType>();
}

}  // namespace warren::emulator
