#include "server/auth.hpp"

#include <fstream>
#include <sstream>

#include "server/text.hpp"

namespace hgrpc::server {

bool constant_time_equal(std::string_view given, std::string_view expected) {
  // volatile keeps the compiler from turning the loop into an early-exit compare.
  volatile unsigned char diff = given.size() == expected.size() ? 0 : 1;
  if (expected.empty()) return false;
  for (std::size_t i = 0; i < given.size(); ++i) {
    diff = diff | static_cast<unsigned char>(given[i] ^ expected[i % expected.size()]);
  }
  return diff == 0;
}

TokenAuth::TokenAuth(std::vector<std::string> tokens) : tokens_(std::move(tokens)) {}

hgrpc::expected<TokenAuth, std::string> TokenAuth::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return hgrpc::unexpected<std::string>("cannot read token file " + path);
  std::vector<std::string> tokens;
  std::string line;
  while (std::getline(in, line)) {
    auto t = trim(line, kWhitespace);
    if (!t.empty()) tokens.emplace_back(t);
  }
  if (in.bad()) return hgrpc::unexpected<std::string>("error reading token file " + path);
  if (tokens.empty()) return hgrpc::unexpected<std::string>("token file " + path + " holds no token");
  return TokenAuth(std::move(tokens));
}

AuthDecision TokenAuth::check(std::string_view header) const {
  header = trim(header, kWhitespace);
  constexpr std::string_view scheme = "Bearer";
  if (header.size() <= scheme.size() || !iequals(header.substr(0, scheme.size()), scheme) ||
      (header[scheme.size()] != ' ' && header[scheme.size()] != '\t'))
    return AuthDecision::Missing;
  const auto given = trim(header.substr(scheme.size()), kWhitespace);
  if (given.empty()) return AuthDecision::Missing;
  bool ok = false;
  for (const auto& t : tokens_) ok = constant_time_equal(given, t) || ok;
  return ok ? AuthDecision::Allowed : AuthDecision::Refused;
}

}  // namespace hgrpc::server
