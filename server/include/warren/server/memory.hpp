// How much memory warren-server uses, for the memory high watermark (RabbitMQ's
// vm_memory_high_watermark). RabbitMQ 3.10.8 measures its resident set size by default
// (vm_memory_calculation_strategy = rss in its rabbit.app); warren measures the bytes its
// allocator has handed out, because glibc keeps freed memory resident, so an alarm measured on
// the RSS could stay raised after a burst has been consumed (docs/warren-server.md).
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
