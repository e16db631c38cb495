// How much memory warren-server uses, for the memory high watermark (RabbitMQ's
// vm_memory_high_watermark, whose default measure in 3.10 is the `allocated` strategy: what the
// runtime's allocators hold).
#pragma once

#include <cstdint>

namespace warren::server {

/// The bytes the C++ allocator has handed out and not yet taken back: with glibc, mallinfo2's
/// in-use arena bytes plus its mmapped blocks. Elsewhere, the resident set size. Costs a walk of
/// the allocator's free lists: call it periodically, not per message.
std::uint64_t allocated_memory_bytes() noexcept;

/// The machine's physical memory (0 when unknown).
std::uint64_t physical_memory_bytes() noexcept;

/// The resident set size of this process (0 when unknown).
std::uint64_t resident_memory_bytes() noexcept;

}  // namespace warren::server
