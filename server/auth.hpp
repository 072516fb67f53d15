#pragma once
// Bearer-token authentication: `Authorization: Bearer <token>` checked against
// the tokens of --token-file in constant time.
#include <string>
#include <string_view>
#include <vector>

#include "compat/expected.hpp"

namespace hgrpc::server {

enum class AuthDecision {
  Allowed,
  Missing,  // no usable Authorization header: 401 with WWW-Authenticate: Bearer
  Refused,  // a bearer token that matches none: 403
};

// Compares in time that depends on the length of `given` only, never on where
// the first difference is or on the length of `expected`.
bool constant_time_equal(std::string_view given, std::string_view expected);

class TokenAuth {
 public:
  explicit TokenAuth(std::vector<std::string> tokens);

  // Reads one token per line; blank lines and surrounding whitespace are
  // ignored (several lines allow rotating tokens). Errors: unreadable file,
  // no token at all.
  static hgrpc::expected<TokenAuth, std::string> load(const std::string& path);

  // Every token is compared, so timing does not tell which one matched.
  AuthDecision check(std::string_view authorization_header) const;

 private:
  std::vector<std::string> tokens_;
};

}  // namespace hgrpc::server
