// Passwords as RabbitMQ keeps them (rabbit_password_hashing_sha256): a 4-byte random salt and
// SHA-256 of salt + password, exported base64-encoded as "password_hash".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace warren::emulator {

/// The 32-byte SHA-256 digest of `data` (FIPS 180-4).
std::string sha256(std::string_view data);

/// RFC 4648 base64 with padding.
std::string base64_encode(std::string_view bytes);
/// nullopt when `text` is not padded RFC 4648 base64.
std::optional<std::string> base64_decode(std::string_view text);

/// salt + SHA-256(salt + password): what rabbit_password:hash/2 stores.
std::string salted_hash(std::string_view salt, std::string_view password);
/// Does `password` match a stored salt + hash? False for a stored value too short to hold a
/// salt (a user with no password can never log in with one).
bool password_matches(std::string_view stored, std::string_view password);

}  // namespace warren::emulator
