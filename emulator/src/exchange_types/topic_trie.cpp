#include "exchange_types/topic_trie.hpp"

#include <algorithm>
#include <string>
#include <unordered_map>
#include <utility>

#include "types.hpp"

namespace warren::emulator {

void split_topic_key(std::string_view key, std::vector<std::string_view>& words) {
    words.clear();
    if (key.empty()) return;
    std::size_t start = 0;
    for (;;) {
        const std::size_t dot = key.find('.', start);
        if (dot == std::string_view::npos) {
            words.push_back(key.substr(start));
            return;
        }
        words.push_back(key.substr(start, dot - start));
        start = dot + 1;
    }
}

struct TopicTrie::Node {
    std::unordered_map<std::string, std::unique_ptr<Node>, StringViewHash, std::equal_to<>>
        literal_children;
    std::unique_ptr<Node> star_child;
    std::unique_ptr<Node> hash_child;
    std::vector<const Binding*> bindings;  // keys that end at this node
    /// Reached by a '#' edge: while active it may also take the next word itself.
    bool is_hash = false;
    /// The match step that last activated this node, so each is active at most once per step.
    mutable std::uint64_t active_in_step = 0;

    bool empty() const noexcept {
        return bindings.empty() && literal_children.empty() && !star_child && !hash_child;
    }
};

namespace {

enum class EdgeKind { Literal, Star, Hash };

EdgeKind edge_kind(std::string_view word) noexcept {
    if (word == "*") return EdgeKind::Star;
    if (word == "#") return EdgeKind::Hash;
    return EdgeKind::Literal;
}

}  // namespace

TopicTrie::TopicTrie() : root_(std::make_unique<Node>()) {}
TopicTrie::~TopicTrie() = default;
TopicTrie::TopicTrie(TopicTrie&&) noexcept = default;
TopicTrie& TopicTrie::operator=(TopicTrie&&) noexcept = default;

bool TopicTrie::empty() const noexcept { return root_->empty(); }

void TopicTrie::add(std::string_view binding_key, const Binding* binding) {
    std::vector<std::string_view> words;
    split_topic_key(binding_key, words);
    Node* node = root_.get();
    for (std::string_view word : words) {
        std::unique_ptr<Node>* child = nullptr;
        switch (edge_kind(word)) {
            case EdgeKind::Star: child = &node->star_child; break;
            case EdgeKind::Hash: child = &node->hash_child; break;
            case EdgeKind::Literal: {
                auto it = node->literal_children.find(word);
                if (it == node->literal_children.end())
                    it = node->literal_children.emplace(std::string(word), nullptr).first;
                child = &it->second;
                break;
            }
        }
        if (!*child) {
            *child = std::make_unique<Node>();
            (*child)->is_hash = edge_kind(word) == EdgeKind::Hash;
            ++node_count_;
        }
        node = child->get();
    }
    node->bindings.push_back(binding);
}

bool TopicTrie::remove(std::string_view binding_key, const Binding* binding) {
    std::vector<std::string_view> words;
    split_topic_key(binding_key, words);
    std::vector<Node*> path{root_.get()};  // path[i + 1] is reached from path[i] by words[i]
    for (std::string_view word : words) {
        Node* node = path.back();
        Node* child = nullptr;
        switch (edge_kind(word)) {
            case EdgeKind::Star: child = node->star_child.get(); break;
            case EdgeKind::Hash: child = node->hash_child.get(); break;
            case EdgeKind::Literal: {
                auto it = node->literal_children.find(word);
                if (it != node->literal_children.end()) child = it->second.get();
                break;
            }
        }
        if (!child) return false;
        path.push_back(child);
    }
    std::vector<const Binding*>& bound = path.back()->bindings;
    auto found = std::find(bound.begin(), bound.end(), binding);
    if (found == bound.end()) return false;
    bound.erase(found);

    for (std::size_t depth = words.size(); depth > 0 && path[depth]->empty(); --depth) {
        Node* parent = path[depth - 1];
        switch (edge_kind(words[depth - 1])) {
            case EdgeKind::Star: parent->star_child.reset(); break;
            case EdgeKind::Hash: parent->hash_child.reset(); break;
            case EdgeKind::Literal:
                parent->literal_children.erase(parent->literal_children.find(words[depth - 1]));
                break;
        }
        --node_count_;
    }
    return true;
}

void TopicTrie::activate(const Node* node, std::vector<const Node*>& active) const {
    // A node already active in this step has had its '#' chain activated with it.
    for (; node && node->active_in_step != step_; node = node->hash_child.get()) {
        node->active_in_step = step_;
        active.push_back(node);
    }
}

void TopicTrie::match(std::string_view routing_key, std::vector<const Binding*>& out) const {
    // A simulation of the pattern automaton over the whole trie: `active_` holds the nodes whose
    // patterns match the words consumed so far. Each node is active at most once per word, so
    // patterns like "#.#.#" cost no backtracking.
    split_topic_key(routing_key, words_);
    active_.clear();
    ++step_;
    activate(root_.get(), active_);
    for (std::string_view word : words_) {
        if (active_.empty()) return;
        next_active_.clear();
        ++step_;
        for (const Node* node : active_) {
            if (node->is_hash) activate(node, next_active_);
            if (!node->literal_children.empty()) {
                auto it = node->literal_children.find(word);
                if (it != node->literal_children.end()) activate(it->second.get(), next_active_);
            }
            if (node->star_child) activate(node->star_child.get(), next_active_);
        }
        std::swap(active_, next_active_);
    }
    for (const Node* node : active_)
        out.insert(out.end(), node->bindings.begin(), node->bindings.end());
}

}  // namespace warren::emulator
