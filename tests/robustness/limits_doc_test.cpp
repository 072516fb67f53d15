// hgrpcd --help and media-type-spec/limits.md must name the same limit flags
// with the same defaults, so the two cannot drift apart.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "tests/server/test_server.hpp"

using hgrpc::server::testing::TestServer;

namespace {

std::string help_text() {
  std::string out;
  FILE* p = ::popen((TestServer::binary() + " --help").c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  while (auto n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  REQUIRE(::pclose(p) == 0);
  return out;
}

std::string limits_md() {
  std::ifstream in(std::string(HGRPC_SOURCE_DIR) + "/media-type-spec/limits.md");
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Flags that configure the server but bound nothing a peer can make it spend.
const std::set<std::string> kNotLimits{"help",      "listen",        "port",      "token-file",
                                       "auth-ro",   "trusted-proxy", "log-format",
                                       "access-log", "repo",          "verify-hashes",
                                       "encodings", "cache-admit", "cache-url",   "redirect-target",
                                       "splice-min-bytes", "cache-recompress", "cache-recompress-level"};

// "--flag TYPE=DEFAULT (Env:...)" on the flag's --help line, as CLI11 prints it.
std::map<std::string, std::string> help_flags(const std::string& help) {
  std::map<std::string, std::string> flags;
  std::istringstream in(help);
  std::string line;
  const std::regex flag_re(R"(^\s*(?:-\w,\s*)?--([a-z][a-z0-9-]*))");
  const std::regex default_re(R"(=([0-9.]+) \(Env:)");
  while (std::getline(in, line)) {
    std::smatch m;
    if (!std::regex_search(line, m, flag_re)) continue;
    std::smatch d;
    flags[m[1]] = std::regex_search(line, d, default_re) ? std::string(d[1]) : std::string();
  }
  return flags;
}

// Renderings of a default as limits.md writes them: 1,073,741,824 / 1 GiB / 30 s.
std::vector<std::string> renderings(const std::string& value) {
  std::vector<std::string> r{value + " s"};
  if (value != "0") r.push_back(value);
  if (value.find('.') != std::string::npos) {
    std::string whole = value.substr(0, value.find('.'));
    if (std::all_of(value.begin() + static_cast<long>(whole.size()) + 1, value.end(), [](char c) { return c == '0'; }))
      r.push_back(whole + " s");
    return r;
  }
  const std::uint64_t n = std::stoull(value);
  std::string digits = std::to_string(n), grouped;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (digits.size() - i) % 3 == 0) grouped += ',';
    grouped += digits[i];
  }
  r.push_back(grouped);
  const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  std::uint64_t v = n;
  for (const char* u : units) {
    if (v == 0 || v % 1024 != 0) break;
    v /= 1024;
    r.push_back(std::to_string(v) + " " + u);
  }
  if (n == 0) {
    r.push_back("number of cores");
    r.push_back("max(8, cores)");
  }
  return r;
}

}  // namespace

TEST_CASE("limits: every limit flag of --help is in limits.md with its default and back") {
  const std::string help = help_text();
  const std::string md = limits_md();
  const auto flags = help_flags(help);
  REQUIRE(flags.size() > 10);

  std::set<std::string> limit_flags;
  for (const auto& flag : flags) {
    // Named copies: clang-14 cannot capture structured bindings (CAPTURE does).
    const std::string& name = flag.first;
    const std::string& def = flag.second;
    if (kNotLimits.count(name)) continue;
    limit_flags.insert(name);
    CAPTURE(name);
    CAPTURE(def);
    // The table row that names the flag carries its default.
    const auto at = md.find("`--" + name + "`");
    REQUIRE(at != std::string::npos);
    const auto row_start = md.rfind('\n', at) + 1;
    const std::string row = md.substr(row_start, md.find('\n', at) - row_start);
    REQUIRE_FALSE(def.empty());
    bool found = false;
    for (const auto& r : renderings(def)) {
      // As a whole number: "32" must not match inside "32,768".
      const std::regex whole("(^|[^0-9,.])" + std::regex_replace(r, std::regex(R"([.()])"), R"(\$&)") +
                             "($|[^0-9,.]|[,.][^0-9])");
      found |= std::regex_search(row, whole);
    }
    CHECK_MESSAGE(found, "limits.md row: " << row);
  }
  // And every flag limits.md names is a flag hgrpcd has.
  const std::regex md_flag(R"(`--([a-z][a-z0-9-]*)`)");
  for (auto it = std::sregex_iterator(md.begin(), md.end(), md_flag); it != std::sregex_iterator(); ++it) {
    const std::string name = (*it)[1];
    CAPTURE(name);
    CHECK(limit_flags.count(name) == 1);
  }
}
