// The topic exchange's index: binding keys stored as paths of words in a trie, matched
// against a routing key without trying each binding (rabbit_db_topic_exchange's trie).
//
// Plain data, no locking. match() reuses scratch buffers owned by the trie, so it must not be
// called on one trie from two threads at once, nor re-entered.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "binding.hpp"

namespace warren::emulator {

/// Replaces `words` with the words of a topic key, split on every '.' and keeping empty words:
/// "" has no words, "a..b" is [a, "", b], "." is ["", ""], "a.b." is [a, b, ""]
/// (split_topic_key in rabbit_db_topic_exchange). The views point into `key`.
void split_topic_key(std::string_view key, std::vector<std::string_view>& words);

class TopicTrie {
public:
    TopicTrie();
    ~TopicTrie();
    TopicTrie(TopicTrie&&) noexcept;
    TopicTrie& operator=(TopicTrie&&) noexcept;
    TopicTrie(const TopicTrie&) = delete;
    TopicTrie& operator=(const TopicTrie&) = delete;

    /// Files `binding` under `binding_key`. A word that is exactly "*" matches one word, exactly
    /// "#" zero or more; any other word (including "a*" or "a#b") only itself. The pointer is
    /// stored, not owned.
    void add(std::string_view binding_key, const Binding* binding);

    /// Removes one entry of `binding` under `binding_key` and prunes the nodes left empty.
    /// Returns false, changing nothing, when it is not filed there.
    bool remove(std::string_view binding_key, const Binding* binding);

    /// Appends every binding whose key matches `routing_key`, each entry once. Allocates only
    /// while its scratch buffers grow to the largest key and match set seen so far.
    void match(std::string_view routing_key, std::vector<const Binding*>& out) const;

    /// Nodes in the trie, the root included (1 when empty).
    std::size_t node_count() const noexcept { return node_count_; }
    bool empty() const noexcept;

private:
    struct Node;

    /// Appends `node` and the '#' children chained below it (each may take zero words) to
    /// `active`, skipping nodes already there in this step.
    void activate(const Node* node, std::vector<const Node*>& active) const;

    std::unique_ptr<Node> root_;
    std::size_t node_count_ = 1;

    // match() scratch.
    mutable std::vector<std::string_view> words_;
    mutable std::vector<const Node*> active_;
    mutable std::vector<const Node*> next_active_;
    mutable std::uint64_t step_ = 0;
};

}  // namespace warren::emulator
