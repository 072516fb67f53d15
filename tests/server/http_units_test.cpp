// Sans-HTTP pieces of the binding: routes, media types, auth, client address,
// handshake headers, access-log lines, the body pace.
#include <doctest/doctest.h>

#include "server/access_log.hpp"
#include "server/auth.hpp"
#include "server/body_pace.hpp"
#include "server/client_address.hpp"
#include "server/command_registry.hpp"
#include "server/handshake.hpp"
#include "server/route.hpp"

using namespace hgrpc::server;

TEST_CASE("http units: routes") {
  const auto reg = CommandRegistry::standard();
  auto r = route_request("/api/exp-http-v2-0003/rw/multirequest", std::nullopt, reg);
  CHECK(r.kind == RouteKind::ApiCommand);
  CHECK(r.read_write);
  CHECK(r.command == "multirequest");
  r = route_request("/api/exp-http-v2-0003/ro/diff", std::nullopt, reg);
  CHECK(r.kind == RouteKind::ApiCommand);
  CHECK_FALSE(r.read_write);
  CHECK(r.label() == "diff");
  CHECK(route_request("/api/exp-http-v2-0003/ro/diff/x", std::nullopt, reg).kind == RouteKind::NotFound);
  CHECK(route_request("/api/other/ro/diff", std::nullopt, reg).reason ==
        "unknown API: other; known APIs: exp-http-v2-0003");
  CHECK(route_request("/api/exp-http-v2-0003/ro/", std::nullopt, reg).reason ==
        "unknown wire protocol command: ");
  CHECK(route_request("/", std::string("capabilities"), reg).kind == RouteKind::Handshake);
  CHECK(route_request("/api/", std::nullopt, reg).kind == RouteKind::ApiIndex);
  // Names from the peer are cut and made printable in reasons.
  auto evil = route_request("/api/exp-http-v2-0003/ro/a\nb", std::nullopt, reg);
  CHECK(evil.reason == "unknown wire protocol command: a?b");
}

TEST_CASE("http units: media type headers") {
  constexpr std::string_view m = "application/mercurial-exp-framing-0006";
  CHECK(header_names_media_type(m, m));
  CHECK(header_names_media_type("Application/Mercurial-Exp-Framing-0006", m));
  CHECK(header_names_media_type("text/html, application/mercurial-exp-framing-0006;q=0.5", m));
  CHECK_FALSE(header_names_media_type("*/*", m));
  CHECK_FALSE(header_names_media_type("application/mercurial-exp-framing-0005", m));
  CHECK_FALSE(header_names_media_type("", m));
}

TEST_CASE("http units: bearer tokens") {
  CHECK(constant_time_equal("abc", "abc"));
  CHECK_FALSE(constant_time_equal("abc", "abd"));
  CHECK_FALSE(constant_time_equal("ab", "abc"));
  CHECK_FALSE(constant_time_equal("abcabc", "abc"));
  CHECK_FALSE(constant_time_equal("", ""));
  TokenAuth auth({"tok1", "tok2"});
  CHECK(auth.check("Bearer tok1") == AuthDecision::Allowed);
  CHECK(auth.check("bearer  tok2 ") == AuthDecision::Allowed);
  CHECK(auth.check("Bearer tok3") == AuthDecision::Refused);
  CHECK(auth.check("Bearer") == AuthDecision::Missing);
  CHECK(auth.check("Bearertok1") == AuthDecision::Missing);
  CHECK(auth.check("Basic dG9rMQ==") == AuthDecision::Missing);
  CHECK(auth.check("") == AuthDecision::Missing);
  CHECK_FALSE(TokenAuth::load("/nonexistent/token/file"));
}

TEST_CASE("http units: CIDRs and X-Forwarded-For") {
  auto c = Cidr::parse("10.0.0.0/8");
  REQUIRE(c);
  CHECK(c->contains("10.255.1.2"));
  CHECK(c->contains("::ffff:10.1.2.3"));
  CHECK_FALSE(c->contains("11.0.0.1"));
  auto v6 = Cidr::parse("2001:db8::/32");
  REQUIRE(v6);
  CHECK(v6->contains("2001:db8:1::5"));
  CHECK_FALSE(v6->contains("2001:db9::1"));
  CHECK(Cidr::parse("192.168.1.7")->contains("192.168.1.7"));
  CHECK_FALSE(Cidr::parse("192.168.1.7")->contains("192.168.1.8"));
  CHECK(Cidr::parse("10.0.0.0/33").error() == "bad CIDR '10.0.0.0/33': prefix length too large");
  CHECK_FALSE(Cidr::parse("nonsense/8"));

  auto proxies = TrustedProxies::parse({"127.0.0.1", "10.0.0.0/8"});
  REQUIRE(proxies);
  // Untrusted peer: the header is ignored.
  CHECK(proxies->client_address("192.0.2.1", "203.0.113.5") == "192.0.2.1");
  // Trusted peer: the nearest untrusted hop from the right.
  CHECK(proxies->client_address("127.0.0.1", "203.0.113.5, 10.1.1.1") == "203.0.113.5");
  CHECK(proxies->client_address("127.0.0.1", "198.51.100.1, 203.0.113.5") == "203.0.113.5");
  CHECK(proxies->client_address("127.0.0.1", "") == "127.0.0.1");
  CHECK(proxies->client_address("127.0.0.1", "junk, 10.0.0.2") == "10.0.0.2");
}

TEST_CASE("http units: Mercurial's split header values") {
  std::map<std::string, std::string> h{{"X-HgUpgrade-1", "exp-http-"}, {"X-HgUpgrade-2", "v2-0003 other"},
                                       {"X-HgUpgrade-4", "ignored"}};
  HeaderLookup lookup = [&](const std::string& name) -> std::optional<std::string> {
    auto it = h.find(name);
    if (it == h.end()) return std::nullopt;
    return it->second;
  };
  CHECK(joined_header_value(lookup, "X-HgUpgrade") == "exp-http-v2-0003 other");
  CHECK_FALSE(joined_header_value(lookup, "X-HgProto"));
  CHECK(has_token("exp-http-v2-0003 other", "exp-http-v2-0003"));
  CHECK(has_token("a cbor", "cbor"));
  CHECK_FALSE(has_token("cbor2", "cbor"));
}

TEST_CASE("http units: access-log lines") {
  AccessLogEntry e;
  e.time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1764042000123));
  e.client = "127.0.0.1";
  e.method = "POST";
  e.path = "/api/exp-http-v2-0003/ro/multirequest\n\"x";
  e.commands.add("diff");
  e.commands.add("applypatches");
  e.commands.add("diff");
  e.status = 200;
  e.bytes_in = 10;
  e.bytes_out = 20;
  e.duration_ms = 1.5;
  CHECK(format_access_log(e, LogFormat::Text) ==
        "2025-11-25T03:40:00.123Z 127.0.0.1 \"POST /api/exp-http-v2-0003/ro/multirequest\\x0a\\x22x\" 200 "
        "in=10 out=20 ms=1.500 commands=diff*2,applypatches");
  auto j = nlohmann::json::parse(format_access_log(e, LogFormat::Json));
  CHECK(j["commands"] == nlohmann::json{{"diff", 2}, {"applypatches", 1}});
  CHECK(j["path"] == e.path);
  CHECK(j["time"] == "2025-11-25T03:40:00.123Z");
}

TEST_CASE("http units: the body pace: grace period, then one second per min_rate bytes") {
  using namespace std::chrono_literals;
  const auto t0 = BodyPace::Clock::time_point{} + 100s;
  const BodyPace pace(2s, 1000, t0);
  CHECK(pace.on_schedule(0, t0));
  CHECK(pace.on_schedule(0, t0 + 2s));          // the grace period, nothing sent
  CHECK_FALSE(pace.on_schedule(0, t0 + 2001ms));
  CHECK(pace.on_schedule(500, t0 + 2500ms));    // 500 bytes buy half a second
  CHECK_FALSE(pace.on_schedule(500, t0 + 2501ms));
  CHECK(pace.on_schedule(1'000'000, t0 + 1002s));
  CHECK_FALSE(pace.on_schedule(1'000'000, t0 + 1003s));
  const BodyPace none(2s, 0, t0);  // 0: no minimum
  CHECK(none.on_schedule(0, t0 + 100000s));
}
